/**
 * npm run bench, VPN part: the tunnel hybridctl renders, in network namespaces with wireguard-go
 * (set-up time; requests per second and p99 through it against the direct path, side by side);
 * and `up` with the VPN on the namespace bed (from empty, no-op), calls and wall time.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseConfig } from '../../src/core/config/load.ts';
import type { ConfigDocument } from '../../src/talos/machine-config.ts';
import { awsGatewayPatch, onpremGatewayPatch } from '../../src/vpn/documents.ts';
import { generateKeyPair } from '../../src/vpn/keys.ts';
import { type VpnPlan, vpnPlan } from '../../src/vpn/plan.ts';
import { runCli } from '../support/cli.ts';
import { EXAMPLE } from '../support/config.ts';
import { Netns } from '../support/netns.ts';
import { buildServiceBinaries } from '../support/service-bin.ts';
import { startVpnBed } from '../support/vpn-bed.ts';
import { bringUp, latestHandshakes } from '../support/wireguard.ts';

const EIP = '54.214.15.9';
const PUBLIC = '198.51.100.7';
const NODE = '192.168.10.21';
const plan = vpnPlan(parseConfig(EXAMPLE)) as VpnPlan;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** Two gateways as rendered, joined by a veth; resolves once the first handshake is done, with how long that took. */
async function tunnel(net: Netns): Promise<{ aws: string; onprem: string; ms: number }> {
  const aws = await net.add(`aws${Math.random().toString(36).slice(2, 5)}`);
  const onprem = await net.add(`op${Math.random().toString(36).slice(2, 5)}`);
  await net.link({ ns: aws, address: EIP, peer: PUBLIC }, { ns: onprem, address: PUBLIC, peer: EIP });
  await net.run(onprem, 'ip', ['addr', 'add', `${NODE}/24`, 'dev', 'lo']);
  const keys = { aws: generateKeyPair(), onprem: generateKeyPair() };
  const awsDoc = awsGatewayPatch(plan, { privateKey: keys.aws.privateKey, peerPublicKey: keys.onprem.publicKey }).documents[1] as ConfigDocument;
  const onpremDoc = onpremGatewayPatch(plan, { privateKey: keys.onprem.privateKey, peerPublicKey: keys.aws.publicKey }, EIP, { link: 'eth0', dhcpLinks: [] }).documents[1] as ConfigDocument;
  const names = { aws: `${net.prefix}-${aws.slice(-3)}a`, onprem: `${net.prefix}-${onprem.slice(-3)}o` };
  const started = performance.now();
  await Promise.all([bringUp(net, aws, names.aws, awsDoc), bringUp(net, onprem, names.onprem, onpremDoc)]);
  while (!(await latestHandshakes(net, aws, names.aws))[0]) await sleep(10);
  return { aws, onprem, ms: performance.now() - started };
}

async function tunnelReport(rounds: number): Promise<string[]> {
  const bin = await buildServiceBinaries();
  const net = new Netns();
  try {
    const setup: number[] = [];
    let last = { aws: '', onprem: '' };
    for (let i = 0; i < rounds; i++) {
      const t = await tunnel(net);
      setup.push(t.ms);
      last = t;
    }
    net.spawn(last.onprem, `${bin}/readings`, [], { SITE: 'onprem', NODE_NAME: 'bench', LISTEN_ADDR: '0.0.0.0:30080', DRAIN_DELAY: '0s' });
    await sleep(500);
    const load = async (target: string, args: string[]) => {
      const out = await net.run(last.aws, `${bin}/loadgen`, ['-target', `http://${target}:30080`, '-invalid-ratio', '0', ...args]);
      return JSON.parse(out.trim().split('\n').pop() ?? '{}') as { rate: number; errors: number; latencyMs: { p50: number; p99: number } };
    };
    // Data first: the summary's size (what crosses per request) grows until every sensor has reported.
    await load(PUBLIC, ['-rate', '1000', '-concurrency', '8', '-duration', '3s', '-sensors', '13', '-summary-ratio', '0']);
    const summaryBytes = (await net.run(last.aws, 'curl', ['-s', `http://${PUBLIC}:30080/api/readings/summary`])).length;
    // Side by side, alternating, on the same data, so that the machine's noise falls on both alike.
    const paths = { direct: PUBLIC, tunnel: NODE } as const;
    const closed: Record<string, number[]> = { direct: [], tunnel: [] };
    const fixed: Record<string, number[]> = { direct: [], tunnel: [] };
    for (let i = 0; i < 3; i++) {
      for (const [name, target] of Object.entries(paths)) {
        closed[name]?.push((await load(target, ['-rate', '0', '-concurrency', '16', '-duration', '5s', '-summary-ratio', '1'])).rate);
        fixed[name]?.push((await load(target, ['-rate', '500', '-concurrency', '8', '-duration', '5s', '-sensors', '13'])).latencyMs.p99);
      }
    }
    const ratio = (a: number, b: number) => (b === 0 ? 'n/a' : (a / b).toFixed(2));
    const rate = (name: string) => median(closed[name] ?? []);
    const p99 = (name: string) => median(fixed[name] ?? []);
    return [
      '',
      'The WireGuard tunnel hybridctl renders, in network namespaces (wireguard-go and wg from Debian; the kernel here has no WireGuard), the real readings service and load generator:',
      '',
      `- **tunnel set-up** (both links from the rendered documents until the first handshake): median ${Math.round(median(setup))} ms over ${rounds} tunnels`,
      '',
      `Load: GET /api/readings/summary (${(summaryBytes / 1024).toFixed(1)} KiB, 13 sensors × 4 metrics) in a closed loop with 16 connections; and the mixed load (30% summary, 65% POSTed readings) at a fixed 500 requests/s for p99. Direct and tunnel alternate, 3 rounds each, medians.`,
      '',
      '| path | requests/s (closed loop) | p99 at 500 requests/s (mixed) |',
      '| --- | ---: | ---: |',
      `| direct (veth) | ${Math.round(rate('direct'))} | ${p99('direct').toFixed(2)} ms |`,
      `| through the tunnel | ${Math.round(rate('tunnel'))} | ${p99('tunnel').toFixed(2)} ms |`,
      `| tunnel / direct | ${ratio(rate('tunnel'), rate('direct'))} | ${ratio(p99('tunnel'), p99('direct'))} |`,
    ];
  } finally {
    await net.destroy();
  }
}

async function upReport(): Promise<string[]> {
  const bed = await startVpnBed({ awsApi: '127.0.93.1', awsNodesNet: '127.0.94' });
  try {
    const state = mkdtempSync(join(tmpdir(), 'hybridctl-bench-vpn-'));
    const config = bed.config();
    const timedRun = async (args: string[]) => {
      await bed.moto.record();
      const started = performance.now();
      const result = await runCli([...args, '--state-dir', state, '-c', config], bed.env);
      const ms = performance.now() - started;
      if (result.code !== 0) throw new Error(`hybridctl ${args.join(' ')} failed: ${result.stdout}${result.stderr}`);
      const calls = await bed.moto.calls();
      return { ms, calls: calls.length, mutating: calls.filter((c) => c.mutating).length };
    };
    const empty = await timedRun(['up']);
    const noop = await timedRun(['up']);
    const check = await timedRun(['vpn', 'check']);
    const row = (name: string, r: typeof empty) => `| ${name} | ${Math.round(r.ms)} ms | ${r.calls} | ${r.mutating} |`;
    return [
      '',
      'Both sites with the VPN on the namespace bed (moto; fake Talos nodes making the tunnel with wireguard-go; real control planes with probe pods run for real; 1 + 1 AWS nodes and the gateway, 3 on-prem hosts):',
      '',
      '| scenario | wall time | AWS API calls | mutating calls |',
      '| --- | ---: | ---: | ---: |',
      row('up from empty, with the VPN check', empty),
      row('up (no-op)', noop),
      row('vpn check', check),
    ];
  } finally {
    await bed.stop();
  }
}

/** The VPN's part of the report; skipped (and said so) where network namespaces cannot be made. */
export async function vpnReport(rounds: number): Promise<string[]> {
  if (!(await Netns.available())) return ['', 'VPN: skipped (network namespaces need root and iproute2).'];
  return [...(await tunnelReport(rounds)), ...(await upReport())];
}
