import { mkdtempSync, writeFileSync } from 'node:fs';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ConfigDocument } from '../../src/talos/machine-config.ts';
import type { Netns } from './netns.ts';

interface WireguardDocument {
  privateKey: string;
  listenPort?: number;
  mtu?: number;
  peers: { publicKey: string; endpoint?: string; persistentKeepaliveInterval?: string; allowedIPs: string[] }[];
  addresses: { address: string }[];
  routes?: { destination: string; gateway?: string }[];
}

/**
 * Brings up a WireguardConfig document as hybridctl rendered it, in a namespace, with Debian's
 * wireguard-go (the kernel here has no WireGuard) and wg: exactly its keys, port, peers, allowed
 * IPs, keepalive, addresses and routes. The interface name must be unique on the machine.
 */
export async function bringUp(net: Netns, ns: string, iface: string, document: ConfigDocument): Promise<void> {
  const doc = document as unknown as WireguardDocument;
  net.spawn(ns, 'wireguard-go', [iface], { WG_PROCESS_FOREGROUND: '1', PATH: process.env.PATH ?? '' });
  const socket = `/var/run/wireguard/${iface}.sock`;
  for (let i = 0; i < 100 && !existsSync(socket); i++) await sleep(50);
  if (!existsSync(socket)) throw new Error(`wireguard-go did not create ${socket}`);
  const keyFile = join(mkdtempSync(join(tmpdir(), 'hybridctl-wg-')), 'private.key');
  writeFileSync(keyFile, doc.privateKey, { mode: 0o600 });
  const peers = doc.peers.flatMap((p) => [
    'peer',
    p.publicKey,
    ...(p.endpoint ? ['endpoint', p.endpoint] : []),
    ...(p.persistentKeepaliveInterval ? ['persistent-keepalive', String(parseInt(p.persistentKeepaliveInterval, 10))] : []),
    'allowed-ips',
    p.allowedIPs.join(','),
  ]);
  await net.run(ns, 'wg', ['set', iface, 'private-key', keyFile, ...(doc.listenPort ? ['listen-port', String(doc.listenPort)] : []), ...peers]);
  for (const { address } of doc.addresses) await net.run(ns, 'ip', ['addr', 'add', address, 'dev', iface]);
  await net.run(ns, 'ip', ['link', 'set', iface, ...(doc.mtu ? ['mtu', String(doc.mtu)] : []), 'up']);
  for (const route of doc.routes ?? []) await net.run(ns, 'ip', ['route', 'replace', route.destination, 'dev', iface, ...(route.gateway ? ['via', route.gateway] : [])]);
}

/** Seconds since the last handshake with each peer (0: never), as `wg show` reports it. */
export async function latestHandshakes(net: Netns, ns: string, iface: string): Promise<number[]> {
  const out = await net.run(ns, 'wg', ['show', iface, 'latest-handshakes']);
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => Number(line.split('\t')[1] ?? 0));
}
