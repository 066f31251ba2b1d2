import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { encodeConfig, machineConfig } from '../../src/talos/machine-config.ts';
import type { SecretsBundle } from '../../src/talos/secrets.ts';
import { freePort } from './moto.ts';
import { ROOT } from './paths.ts';
import { startReadyProcess } from './process.ts';

export const TALOS_BIN = `${ROOT}.cache/bin`;
export const TALOS_CHECK = `${TALOS_BIN}/talos-check`;
export const TALOS_SERVER = `${TALOS_BIN}/talos-server`;

/** Builds the Go programs under test/talos (Talos's machinery as a library); the Go build cache makes re-runs quick. */
export async function buildTalosTools(): Promise<void> {
  await execa('go', ['build', '-o', `${TALOS_BIN}/`, './cmd/talos-check', './cmd/talos-server'], { cwd: `${ROOT}test/talos`, stdio: 'inherit' });
}

export interface FakeNode {
  ip: string;
  role: 'controlplane' | 'worker';
  /** A machine config the node starts with (a node of another cluster). */
  preconfigured?: string;
  /** The node's network is this namespace: it listens there, and its WireGuard links and routes are made there for real. */
  netns?: string;
  /** Its physical link's name (default eth0), and how it got its address (default dhcp). */
  link?: string;
  address?: 'dhcp' | 'static';
}

export interface NodeStatus {
  ip: string;
  name: string;
  role: string;
  mode: 'maintenance' | 'configured' | 'rebooting' | 'booting' | 'off';
  createdBy: 'flag' | 'api';
  hostname: string;
  applyCount: number;
  bootstrapCount: number;
  lastApplyMode: string;
  configHash: string;
  clusterID: string;
  netns: string;
  /** Talos names of the WireGuard links it has made. */
  links: string[];
  /** Why making its network failed, or ''. */
  realiseError: string;
  /** Why it lost its address (as Talos would under its config), or ''. */
  lostAddress: string;
}

export interface TalosFleet {
  /** The status server, for POST/DELETE /nodes. */
  statusUrl: string;
  status(): Promise<NodeStatus[]>;
  node(ip: string): Promise<NodeStatus>;
  /** The next `count` calls of `method` on `ip` fail with UNAVAILABLE. */
  fail(ip: string, method: string, count: number): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the fake Talos fleet (test/talos/cmd/talos-server) on loopback addresses, port 50000 each. */
export async function startTalosServer(nodes: FakeNode[], options: { rebootDelayMs?: number; kubeconfig?: string } = {}): Promise<TalosFleet> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'hybridctl-talos-'));
  const args = [
    ...nodes.flatMap((n) => ['--node', nodeFlag(n)]),
    '--reboot-delay',
    `${options.rebootDelayMs ?? 300}ms`,
    '--status-addr',
    `127.0.0.1:${port}`,
    ...(options.kubeconfig ? ['--kubeconfig', options.kubeconfig] : []),
  ];
  const server = await startReadyProcess(TALOS_SERVER, args, { log: join(dir, 'server.log'), dir, readyMs: 30_000, graceMs: 5_000 });
  const base = `http://127.0.0.1:${port}`;
  const status = async () => ((await (await fetch(`${base}/status`)).json()) as { nodes: NodeStatus[] }).nodes;
  return {
    statusUrl: base,
    status,
    async node(ip) {
      const found = (await status()).find((n) => n.ip === ip);
      if (!found) throw new Error(`no fake node ${ip}`);
      return found;
    },
    async fail(ip, method, count) {
      await fetch(`${base}/fail?ip=${ip}&method=${method}&count=${count}`, { method: 'POST' });
    },
    stop: () => server.stop(),
  };
}

function nodeFlag(n: FakeNode): string {
  const options = { preconfigured: n.preconfigured, netns: n.netns, link: n.link, address: n.address };
  return `${n.ip}=${n.role}${Object.entries(options).map(([k, v]) => (v ? `,${k}=${v}` : '')).join('')}`;
}

/** Runs talos-check (Talos's own loader and validator); resolves with its output, rejects with Talos's message. */
export async function talosCheck(args: string[]): Promise<string> {
  const result = await execa(TALOS_CHECK, args, { reject: false });
  if (result.exitCode !== 0) throw new Error(`talos-check ${args[0]} failed:\n${result.stderr}${result.stdout}`);
  return String(result.stdout);
}

/** A metal machine config for one fake node, as another cluster (or a preconfigured node) would have it. */
export function nodeConfig(options: { bundle: SecretsBundle; ip: string; role: 'controlplane' | 'worker'; clusterName: string }): string {
  return encodeConfig(
    machineConfig({
      bundle: options.bundle,
      clusterName: options.clusterName,
      endpoint: `https://${options.ip}:6443`,
      role: options.role,
      platform: 'metal',
      talosVersion: 'v1.13.9',
      kubernetesVersion: '1.36.3',
      podSubnet: '10.244.0.0/16',
      serviceSubnet: '10.96.0.0/12',
      certSANs: [options.ip],
      installDisk: '/dev/sda',
    }),
  );
}
