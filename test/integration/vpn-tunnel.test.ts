import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config/load.ts';
import { diagnose } from '../../src/vpn/diagnose.ts';
import { type VpnPlan, vpnPlan } from '../../src/vpn/plan.ts';
import { EXAMPLE } from '../support/config.ts';
import { Netns } from '../support/netns.ts';
import { buildServiceBinaries } from '../support/service-bin.ts';
import { EIP, ONPREM_NODE, ONPREM_PUBLIC, renderedTunnel } from '../support/tunnel.ts';
import { latestHandshakes } from '../support/wireguard.ts';

/**
 * The tunnel itself, with Debian's wireguard-go and wg in network namespaces this test makes:
 * an AWS gateway and an on-prem gateway joined by a veth that stands for the internet, each
 * with exactly the WireguardConfig document hybridctl renders for it. The real readings service
 * answers on the on-prem side; the real load generator sends from the AWS side.
 */
const plan = vpnPlan(parseConfig(EXAMPLE)) as VpnPlan;
const run = await Netns.available();

let net: Netns;
let bin: string;
beforeAll(async () => {
  bin = await buildServiceBinaries();
});
afterAll(async () => net?.destroy());

/** Two gateways as hybridctl renders them, in a fresh set of namespaces. */
async function tunnel(options: { wrongPeerKey?: boolean } = {}) {
  await net?.destroy();
  net = new Netns();
  return renderedTunnel(net, plan, options);
}

async function waitForHandshake(t: Awaited<ReturnType<typeof tunnel>>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if ((await latestHandshakes(net, t.aws, t.names.aws))[0]) return true;
    await sleep(100);
  }
  return false;
}

describe.runIf(run)('the WireGuard tunnel hybridctl renders', () => {
  it('carries the load generator\'s requests to the readings service on the other side', async () => {
    const t = await tunnel();
    // The on-prem side dials (keepalive) at once: the AWS side learns it without any inbound rule on-prem.
    expect(await waitForHandshake(t, 10_000)).toBe(true);
    net.spawn(t.onprem, `${bin}/readings`, [], { SITE: 'onprem', NODE_NAME: 'onprem-worker-1', LISTEN_ADDR: `${ONPREM_NODE}:30080`, DRAIN_DELAY: '0s' });
    // The probe hybridctl's check runs, across the tunnel: who answered proves where the packets went.
    const probe = JSON.parse(await net.run(t.aws, `${bin}/probe`, ['-target', `http://${ONPREM_NODE}:30080/readyz`, '-count', '3', '-deadline', '10s', '-result', '']));
    expect(probe.results[0]).toMatchObject({ site: 'onprem', node: 'onprem-worker-1' });
    expect(probe.results[0].ok).toBeGreaterThan(0);
    const load = await net.run(t.aws, `${bin}/loadgen`, ['-target', `http://${ONPREM_NODE}:30080`, '-rate', '200', '-concurrency', '4', '-duration', '4s', '-invalid-ratio', '0']);
    const final = JSON.parse(load.trim().split('\n').pop() ?? '{}');
    expect(final.requests).toBeGreaterThan(500);
    expect(final.errors).toBe(0);
    expect(final.unexpected).toBe(0);
    // The AWS side learned where on-prem traffic comes from: the on-prem public address.
    const dump = await net.run(t.aws, 'wg', ['show', t.names.aws, 'endpoints']);
    expect(dump).toContain(`${ONPREM_PUBLIC}:${plan.port}`);
  });

  it('gives no handshake with a wrong peer key, and the diagnosis names the key mismatch', async () => {
    const t = await tunnel({ wrongPeerKey: true });
    expect(await waitForHandshake(t, 4_000)).toBe(false);
    const link = async (ns: string, iface: string) => {
      const [own, ...peers] = (await net.run(ns, 'wg', ['show', iface, 'dump'])).trim().split('\n').map((l) => l.split('\t'));
      return { state: 'unknown', publicKey: own?.[1] ?? '', listenPort: Number(own?.[2]), peers: peers.map((p) => ({ publicKey: p[0] ?? '', endpoint: p[2] === '(none)' ? '' : (p[2] ?? ''), allowedIps: (p[3] ?? '').split(',') })) };
    };
    const gateways = [
      { site: 'aws' as const, address: '10.40.128.10', link: await link(t.aws, t.names.aws) },
      { site: 'onprem' as const, address: ONPREM_NODE, link: await link(t.onprem, t.names.onprem) },
    ];
    const causes = diagnose(gateways, [{ from: 'aws', to: 'onprem', targets: [], crossed: false }], {
      awsPublicKey: t.keys.aws.publicKey,
      onpremPublicKey: t.keys.onprem.publicKey,
      awsEndpoint: `${EIP}:${plan.port}`,
      onpremPublicAddress: ONPREM_PUBLIC,
      port: plan.port,
    });
    expect(causes.join('\n')).toContain('key mismatch: the on-prem gateway expects the AWS key');
  });
});
