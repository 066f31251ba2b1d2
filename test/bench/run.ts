/**
 * npm run bench: hybridctl's speed and memory against moto, every scenario side by side in one
 * run (this machine is shared and noisy, so only same-run comparisons mean much).
 *
 *   up (empty)   `up` from an empty account: wall time, API calls by kind, peak memory
 *   up (no-op)   `up` right after: wall time, calls (target: no change but the run lock's own
 *                create and delete, ~one read per kind); beside it `plan` on the same account, which
 *                observes the same without the lock: the difference is the lock's and the sync's cost
 *   bad config   `plan` and `validate` on an invalid config (target: the same, the SDK never loads)
 *   down         `down --yes`: wall time, calls
 *   plan offline `plan` with no credentials at all
 *   --help       start-up (target: under 300 ms)
 *   service      the service deployed to both sites' real control planes from empty, then a no-op
 *                `up`: wall time and Kubernetes API requests per site from the audit logs
 *   vpn          the rendered tunnel in network namespaces (set-up time, throughput and p99 against
 *                the direct path), and `up` with the VPN from empty and no-op (vpn.ts)
 *   failover     planned failover and failback under load through the entry (total, switch time,
 *                failed requests, p99 during against before), and an unplanned one's failure window (failover.ts)
 *   telemetry    the shipper under the service's default load (rows/s, CPU per 1,000 requests, Parquet
 *                against raw JSON, peak RSS), and `data query` over a day of metrics, cold and warm (telemetry.ts)
 *   dashboards   the generated JSON's size; the managed workspace's nodes converged through the
 *                engine from empty, no-op and after one dashboard changed: time and requests (grafana.ts)
 *   status       `status` with 10 and 50 nodes per site: first frame, CPU per refresh, memory,
 *                API requests per refresh (status.ts)
 *
 * Prints a Markdown report; docs/BENCHMARKS.md keeps the latest, with the machine it ran on.
 */
import { cpus, totalmem } from 'node:os';
import { execa } from 'execa';
import { awsEnv, writeConfig } from '../support/cli.ts';
import { EXAMPLE } from '../support/config.ts';
import { HARNESS_KEY, type Moto, type RecordedCall, startMoto } from '../support/moto.ts';
import { CLI } from '../support/paths.ts';
import { CA_CERT, ensureTestCa } from '../support/tls.ts';
import globalSetup from '../support/global-setup.ts';
import { type HybridBed, startHybridBed } from '../support/hybrid-bed.ts';
import { type AuditEvent, isWrite } from '../support/kube.ts';
import { parseConfig } from '../../src/core/config/load.ts';
import { StateDir } from '../../src/core/state.ts';
import { onpremSite } from '../../src/providers/metal/site.ts';
import { createCa, generatePrivateKey } from '../../src/talos/pki.ts';
import { generateBundle } from '../../src/talos/secrets.ts';
import { failoverReport } from './failover.ts';
import { grafanaReport } from './grafana.ts';
import { statusReport } from './status.ts';
import { telemetryReport } from './telemetry.ts';
import { vpnReport } from './vpn.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

interface Sample {
  ms: number;
  rssKiB: number;
  calls: RecordedCall[];
}

/** Runs the CLI under GNU time for its peak resident memory. */
async function timed(args: string[], env: Record<string, string | undefined>, moto?: Moto, exitCode = 0): Promise<Sample> {
  if (moto) await moto.record();
  const started = performance.now();
  const result = await execa('/usr/bin/time', ['-f', '%M', process.execPath, CLI, ...args], { env, extendEnv: false, reject: false });
  const ms = performance.now() - started;
  if (result.exitCode !== exitCode) throw new Error(`hybridctl ${args.join(' ')} failed: ${result.stderr}`);
  const rssKiB = Number(String(result.stderr).trim().split('\n').pop());
  return { ms, rssKiB, calls: moto ? await moto.calls() : [] };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** `a ×2, b, c ×3`: how often each label occurs, sorted. */
function tally<T>(items: readonly T[], label: (item: T) => string): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(label(item), (counts.get(label(item)) ?? 0) + 1);
  return [...counts].sort().map(([what, n]) => (n > 1 ? `${what} ×${n}` : what)).join(', ');
}

const byOperation = (calls: RecordedCall[]) => tally(calls, (c) => `${c.service}:${c.operation}`);

// Requests without a resource are API discovery (/api, /apis/apps/v1, …).
const byVerb = (events: AuditEvent[]) => tally(events, (e) => (e.resource ? `${e.verb} ${e.resource}` : 'discovery'));

async function measure(rounds: number, fn: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const started = performance.now();
    await fn();
    times.push(performance.now() - started);
  }
  return median(times);
}

/** Secrets and machine configs, in this process: what `up` spends before it talks to any node. */
async function talosReport(): Promise<string[]> {
  const validity = { notBefore: new Date(), notAfter: new Date(Date.now() + 3.15e11) };
  // RSA key generation searches for primes: its time varies a lot, so take more samples.
  const keyRounds = Math.max(ROUNDS, 15);
  const bundleMs = await measure(keyRounds, () => generateBundle());
  const rsaMs = await measure(keyRounds, () => generatePrivateKey('rsa-4096'));
  const caMs = await measure(ROUNDS, () => Promise.all([createCa('ed25519', validity), createCa('ecdsa-p256', validity), createCa('ecdsa-p256', validity), createCa('ecdsa-p256', validity)]));
  const bundle = await generateBundle();
  const site = onpremSite(parseConfig(EXAMPLE), new StateDir('/tmp/hybridctl-bench-state'));
  const node = site.nodes[0];
  if (!node) throw new Error('no node');
  await site.configFor(node, bundle, site.talosEndpoints[0] ?? '');
  const configRounds = 200;
  const configMs = (await measure(1, async () => {
    for (let i = 0; i < configRounds; i++) await site.configFor(node, bundle, site.talosEndpoints[0] ?? '');
  })) / configRounds;
  return [
    '',
    '| Talos step (in process) | median |',
    '| --- | ---: |',
    `| secrets bundle (4 CAs, RSA-4096 key, tokens; ${keyRounds} samples) | ${Math.round(bundleMs)} ms |`,
    `| of which the RSA-4096 service-account key | ${Math.round(rsaMs)} ms |`,
    `| of which the four CAs (Ed25519, 3 × ECDSA P-256) | ${Math.round(caMs)} ms |`,
    `| machine config for one node (generate, default patch, encode) | ${configMs.toFixed(2)} ms |`,
  ];
}

/** Most changes of a kind in flight at once, from the plain progress lines. */
function maxInFlight(output: string, kind: string): number {
  let now = 0;
  let max = 0;
  for (const line of output.split('\n')) {
    if (line.includes(`… create ${kind} `)) max = Math.max(max, ++now);
    if (line.includes(`created ${kind} `) || line.includes(`✖ create ${kind} `)) now--;
  }
  return max;
}

/** `up --site aws` with nodes: moto with Talos images, the fake fleet behind the CONNECT proxy. */
async function awsSiteReport(): Promise<string[]> {
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { startTalosServer } = await import('../support/talos.ts');
  const { startNodeProxy } = await import('../support/node-proxy.ts');
  const { clients } = await import('../support/inventory.ts');
  const { NO_MONITORING, exampleWith } = await import('../support/config.ts');
  const { writeAmis } = await import('../support/amis.ts');
  const moto = await startMoto({ env: { MOTO_AMIS_PATH: writeAmis() } });
  const fleet = await startTalosServer([]);
  const proxy = await startNodeProxy({ aws: clients(moto.endpoint, 'eu-central-1', HARNESS_KEY), fleetStatusUrl: fleet.statusUrl, subnet: '127.0.90' });
  try {
    const config = writeConfig(
      exampleWith(['version: v1.13.9', 'version: v1.13.9\n  timeouts: { installSeconds: 120, healthSeconds: 120 }'], ['enabled: true ', 'enabled: false '], ['port: 51820', 'port: 51820\nservice:\n  enabled: false'], NO_MONITORING),
    );
    const env = { ...awsEnv(moto.endpoint), NODE_EXTRA_CA_CERTS: CA_CERT, grpc_proxy: proxy.url };
    const state = mkdtempSync(join(tmpdir(), 'hybridctl-bench-state-'));
    await moto.record();
    const started = performance.now();
    const first = await execa(process.execPath, [CLI, 'up', '--site', 'aws', '--state-dir', state, '-c', config], { env, extendEnv: false, reject: false });
    const firstMs = performance.now() - started;
    const firstCalls = await moto.calls();
    if (first.exitCode !== 0) throw new Error(`up --site aws failed: ${first.stdout}${first.stderr}`);
    const noop = await timed(['up', '--site', 'aws', '--state-dir', state, '-c', config], env, moto);
    const output = String(first.stdout);
    return [
      '',
      'AWS site with nodes (3 control planes, 2 workers; fake Talos nodes booting from user-data behind a CONNECT proxy):',
      '',
      '| scenario | wall time | API calls | mutating calls |',
      '| --- | ---: | ---: | ---: |',
      `| up --site aws (empty) | ${Math.round(firstMs)} ms | ${firstCalls.length} | ${firstCalls.filter((c) => c.mutating).length} |`,
      `| up --site aws (no-op) | ${Math.round(noop.ms)} ms | ${noop.calls.length} | ${noop.calls.filter((c) => c.mutating).length} |`,
      '',
      `Launched at once: ${maxInFlight(output, 'ec2-instance')} of 5 instances; configured (waiting for Talos) at once: ${maxInFlight(output, 'talos-node')} of 5 nodes.`,
      `Mutating calls of the first run: ${byOperation(firstCalls.filter((c) => c.mutating))}`,
    ];
  } finally {
    await proxy.stop();
    await fleet.stop();
    await moto.stop();
  }
}

/** What hybridctl asked of each site's API server between two marks, from the audit logs. */
function requestsSince(bed: HybridBed, marks: Record<'aws' | 'onprem', number>) {
  return Object.fromEntries(
    (['aws', 'onprem'] as const).map((site) => {
      const events = bed.kube[site].adminRequests().slice(marks[site]);
      return [site, { all: events.length, writes: events.filter(isWrite).length, byVerb: byVerb(events) }];
    }),
  ) as Record<'aws' | 'onprem', { all: number; writes: number; byVerb: string }>;
}


const marks = (bed: HybridBed) => ({ aws: bed.kube.aws.adminRequests().length, onprem: bed.kube.onprem.adminRequests().length });

/** The service on both sites: infrastructure first (not measured), then the deploy from empty and a no-op. */
async function serviceReport(): Promise<string[]> {
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const bed = await startHybridBed({ onpremNet: '127.0.32', awsApi: '127.0.33.1', awsNodesNet: '127.0.91' });
  try {
    const state = mkdtempSync(join(tmpdir(), 'hybridctl-bench-state-'));
    const up = (config: string) => timed(['up', '--state-dir', state, '-c', config], bed.env);
    await up(bed.config('  enabled: false\n'));
    const config = bed.config();
    let mark = marks(bed);
    const deploy = await up(config);
    const deployRequests = requestsSince(bed, mark);
    mark = marks(bed);
    const noop = await up(config);
    const noopRequests = requestsSince(bed, mark);
    const row = (name: string, sample: Sample, requests: typeof deployRequests) =>
      `| ${name} | ${Math.round(sample.ms)} ms | ${Math.round(sample.rssKiB / 1024)} MiB | ${requests.aws.all} (${requests.aws.writes} writes) | ${requests.onprem.all} (${requests.onprem.writes} writes) |`;
    return [
      '',
      'The service on both sites (real kube-apiserver, controller manager, scheduler and etcd per site, kwok nodes; 6 objects and the pull secret on each, AWS 2 + 1 replicas, on-prem 1 + 0; the Talos clusters already up):',
      '',
      '| scenario | wall time | peak RSS | requests to AWS API | requests to on-prem API |',
      '| --- | ---: | ---: | ---: | ---: |',
      row('up: deploy from empty, wait for rollouts', deploy, deployRequests),
      row('up: no-op', noop, noopRequests),
      '',
      `- **no-op, AWS**: ${noopRequests.aws.byVerb}`,
      `- **no-op, on-prem**: ${noopRequests.onprem.byVerb}`,
    ];
  } finally {
    await bed.stop();
  }
}

async function main(): Promise<void> {
  await globalSetup();
  await ensureTestCa();
  const moto = await startMoto();
  try {
    const env = { ...awsEnv(moto.endpoint), NODE_EXTRA_CA_CERTS: CA_CERT };
    const offline = { ...awsEnv(undefined, { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_EC2_METADATA_DISABLED: 'true' }) };
    const config = writeConfig(EXAMPLE);
    const bad = writeConfig('apiVersion: hybridctl.dev/v1alpha1\nkind: HybridCluster\n');
    const samples: Record<string, Sample[]> = {
      'up (empty)': [],
      'up (no-op)': [],
      'plan (no-op, same account)': [],
      down: [],
      'plan (no credentials)': [],
      'plan (bad config)': [],
      'validate (bad config)': [],
      '--help': [],
    };
    for (let round = 0; round < ROUNDS; round++) {
      await moto.reset();
      samples['up (empty)']?.push(await timed(['up', '--site', 'aws', '--layer', 'base', '-c', config], env, moto));
      samples['up (no-op)']?.push(await timed(['up', '--site', 'aws', '--layer', 'base', '-c', config], env, moto));
      samples['plan (no-op, same account)']?.push(await timed(['plan', '--site', 'aws', '--layer', 'base', '-c', config], env, moto));
      samples['plan (bad config)']?.push(await timed(['plan', '-c', bad], env, undefined, 2));
      samples['validate (bad config)']?.push(await timed(['validate', '-c', bad], env, undefined, 2));
      samples.down?.push(await timed(['down', '--yes', '--site', 'aws', '-c', config], env, moto));
      samples['plan (no credentials)']?.push(await timed(['plan', '--site', 'aws', '--layer', 'base', '-c', config], offline));
      for (let i = 0; i < 4; i++) samples['--help']?.push(await timed(['--help'], offline));
    }

    const lines = [
      `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; moto over TLS on loopback; median of ${ROUNDS} rounds (--help: ${ROUNDS * 4} runs).`,
      '',
      '| scenario | wall time (median) | peak RSS (median) | API calls | mutating calls |',
      '| --- | ---: | ---: | ---: | ---: |',
    ];
    for (const [name, list] of Object.entries(samples)) {
      const calls = list[0]?.calls ?? [];
      lines.push(
        `| ${name} | ${Math.round(median(list.map((s) => s.ms)))} ms | ${Math.round(median(list.map((s) => s.rssKiB)) / 1024)} MiB | ${calls.length} | ${calls.filter((c) => c.mutating).length} |`,
      );
    }
    const noopUp = samples['up (no-op)']?.[0]?.calls ?? [];
    const lockCalls = noopUp.filter((c) => c.service === 's3' && c.key !== undefined && /^(locks|state)\//.test(c.key));
    lines.push(
      '',
      `The run lock and the state sync on a no-op \`up\`: ${lockCalls.length} of its ${noopUp.length} calls (${byOperation(lockCalls)}), plus one HeadBucket; ` +
        `median wall time ${Math.round(median((samples['up (no-op)'] ?? []).map((s) => s.ms)))} ms against ${Math.round(median((samples['plan (no-op, same account)'] ?? []).map((s) => s.ms)))} ms for \`plan\`, which observes the same without them.`,
    );
    lines.push('', 'Calls by operation (first round):', '');
    for (const name of ['up (empty)', 'up (no-op)', 'plan (no-op, same account)', 'down']) {
      const calls = samples[name]?.[0]?.calls ?? [];
      lines.push(`- **${name}** — mutating: ${byOperation(calls.filter((c) => c.mutating)) || 'none'}`, `  - reads: ${byOperation(calls.filter((c) => !c.mutating))}`);
    }
    lines.push(...(await talosReport()));
    lines.push(...(await awsSiteReport()));
    lines.push(...(await serviceReport()));
    lines.push(...(await vpnReport(ROUNDS)));
    lines.push(...(await failoverReport()));
    lines.push(...(await telemetryReport()));
    lines.push('', ...(await grafanaReport()));
    lines.push('', ...(await statusReport()));
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await moto.stop();
  }
}

await main();
