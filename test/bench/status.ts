/**
 * npm run bench, status part (issue 15); runnable alone: `node test/bench/status.ts` (after `npm
 * run build`).
 *
 * Both sites as two real Kubernetes control planes (kube-testbed) with 10, then 50, kwok nodes
 * each, their kubeconfigs in a state directory, no AWS credentials (what only AWS knows is shown
 * as not available) and no Talos secrets (so no Talos call: it adds two calls per node):
 *
 *   first frame  `status --once -o json` from process start to its output, peak RSS (GNU time)
 *   refresh      `status` without a terminal at --interval 1 for 20 s: CPU time (/proc/<pid>/stat)
 *                per frame, peak RSS (VmHWM)
 *   requests     per refresh and source, from each API server's audit log
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { EXAMPLE } from '../support/config.ts';
import { type AuditEvent, type Testbed, startTestbed } from '../support/kube.ts';
import { CLI } from '../support/paths.ts';

const NODE_COUNTS = [10, 50];
const RUN_S = 20;

const nodes = (site: string, n: number) => Array.from({ length: n }, (_, i) => `${site}-node-${i + 1}:${i === 0 ? 'controlplane' : 'worker'}`);

function statOf(pid: number): { cpuMs: number; hwmKiB: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(stat[11]) + Number(stat[12]);
  const hwm = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return { cpuMs: (ticks * 1000) / 100, hwmKiB: Number(hwm ?? 0) };
}

const byPath = (events: AuditEvent[]) => {
  const counts = new Map<string, number>();
  for (const e of events) counts.set(`${e.verb} ${e.resource || 'raw'}`, (counts.get(`${e.verb} ${e.resource || 'raw'}`) ?? 0) + 1);
  return [...counts].map(([k, v]) => `${k} ${v}`).join(', ');
};

async function scenario(count: number): Promise<string[]> {
  const beds: Record<'aws' | 'onprem', Testbed> = {
    aws: await startTestbed({ cluster: 'bench-aws', listen: '127.0.81.1', nodes: nodes('aws', count) }),
    onprem: await startTestbed({ cluster: 'bench-onprem', listen: '127.0.82.1', nodes: nodes('onprem', count) }),
  };
  try {
    const dir = mkdtempSync(join(tmpdir(), 'hybridctl-bench-status-'));
    const state = join(dir, 'state');
    mkdirSync(state, { recursive: true });
    for (const site of ['aws', 'onprem'] as const) copyFileSync(beds[site].kubeconfigFile, join(state, `kubeconfig-${site}`));
    const config = join(dir, 'hybrid.yaml');
    writeFileSync(config, EXAMPLE);
    const env = { PATH: process.env.PATH ?? '', HOME: dir, AWS_EC2_METADATA_DISABLED: 'true', AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none'), AWS_CONFIG_FILE: join(dir, 'none') };
    const args = ['status', '--state-dir', state, '-c', config];

    const before = { aws: beds.aws.adminRequests().length, onprem: beds.onprem.adminRequests().length };
    const started = performance.now();
    const once = await execa('/usr/bin/time', ['-f', '%M', process.execPath, CLI, ...args, '-o', 'json'], { env, extendEnv: false, reject: false });
    const firstMs = performance.now() - started;
    const rssKiB = Number(String(once.stderr).trim().split('\n').pop());
    const frame = JSON.parse(once.stdout) as { sites: Record<string, { value?: { nodes: unknown[] } }> };
    const shown = frame.sites.aws?.value?.nodes.length ?? 0;
    const perRefresh = (site: 'aws' | 'onprem') => byPath(beds[site].adminRequests().slice(before[site]));
    const onceRequests = { aws: perRefresh('aws'), onprem: perRefresh('onprem') };

    const live = execa(process.execPath, [CLI, ...args, '--interval', '1'], { env, extendEnv: false, reject: false, stdin: 'ignore' });
    let frames = 0;
    live.stdout?.on('data', (chunk: Buffer) => (frames += (String(chunk).match(/hybridctl status ·/g) ?? []).length));
    await sleep(3_000);
    const start = statOf(live.pid!);
    const framesAtStart = frames;
    await sleep(RUN_S * 1000);
    const end = statOf(live.pid!);
    const counted = frames - framesAtStart;
    live.kill('SIGTERM');
    await live;
    return [
      `| ${count} | ${shown} | ${firstMs.toFixed(0)} ms | ${(rssKiB / 1024).toFixed(0)} MiB | ${counted > 0 ? ((end.cpuMs - start.cpuMs) / counted).toFixed(1) : '-'} ms | ${(end.hwmKiB / 1024).toFixed(0)} MiB | aws: ${onceRequests.aws}; onprem: ${onceRequests.onprem} |`,
    ];
  } finally {
    await beds.aws.stop();
    await beds.onprem.stop();
  }
}

export async function statusReport(): Promise<string[]> {
  const lines = [
    '## Status (issue 15)',
    '',
    '| Nodes per site | Shown | First frame (`--once -o json`) | Its peak RSS | CPU per frame (live, 1 s) | Live peak RSS | API requests per refresh, per site |',
    '|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const count of NODE_COUNTS) lines.push(...(await scenario(count)));
  return lines;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log((await statusReport()).join('\n'));
}
