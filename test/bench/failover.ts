/**
 * npm run bench, failover part: on the namespace bed with the public entry (HAProxy standing in
 * for the load balancer's data path, moto for its configuration), a steady load through the entry
 * before, during a planned failover and a failback; then an unplanned one (the active site's
 * service killed and its control plane stopped) and the window in which requests failed.
 */
import type { FailoverReport } from '../../src/commands/failover.ts';
import { startFailoverBed, watchFailures } from '../support/failover-bed.ts';
import { type LoadReport, startLoadgen } from '../support/loadgen.ts';
import { lanOf } from '../support/vpn-bed.ts';

const RATE = 40;

async function loadFor(url: string, ms: number): Promise<LoadReport> {
  const load = await startLoadgen(url, RATE);
  await new Promise((r) => setTimeout(r, ms));
  return load.stop();
}

export async function failoverReport(): Promise<string[]> {
  const f = await startFailoverBed({ awsApi: '127.0.97.1', awsNodesNet: '127.0.98', lan: lanOf(79) });
  try {
    const rows: string[] = [];
    const planned = async (to: string) => {
      const load = await startLoadgen(f.url, RATE);
      await new Promise((r) => setTimeout(r, 2000));
      const run = await f.cli('failover', '--to', to, '-c', f.config, '--probe-url', `${f.url}/readyz`, '--probe-rate', '20', '-o', 'json');
      const report = JSON.parse(run.stdout) as FailoverReport;
      await new Promise((r) => setTimeout(r, 1000));
      return { report, load: await load.stop(), code: run.code };
    };
    const before = await loadFor(f.url, 10_000);
    const there = await planned('onprem');
    const back = await planned('aws');
    for (const [name, r] of [['planned, to onprem', there], ['failback, to aws', back]] as const) {
      rows.push(
        `| ${name} | ${r.code} | ${(r.report.totalMs / 1000).toFixed(1)} s | +${((r.report.switchedAtMs ?? 0) / 1000).toFixed(1)} s | ${r.load.errors} of ${r.load.requests} | ${r.report.probe?.failed} of ${r.report.probe?.sent}, gap ${r.report.probe?.longestGapMs} ms | ${r.load.latencyMs.p99.toFixed(1)} ms |`,
      );
    }

    const load = await startLoadgen(f.url, RATE);
    const watch = watchFailures(`${f.url}/readyz`);
    await new Promise((r) => setTimeout(r, 2000));
    await f.killAws();
    const run = await f.cli('failover', '--to', 'onprem', '-c', f.config, '--no-probe', '-o', 'json');
    await new Promise((r) => setTimeout(r, 1000));
    const unplanned = JSON.parse(run.stdout) as FailoverReport;
    const loadReport = await load.stop();
    const seen = watch.stop();
    return [
      '',
      '## Failover',
      '',
      `The namespace bed with the public entry: HAProxy in TCP mode standing in for the load balancer's data path (health checks every 0.5 s, 2 to rise or fall), driven from what moto holds; the real readings service on each site's NodePort, on-prem through the real WireGuard tunnel; \`traffic.drainSeconds: 3\`. The load generator sends ${RATE} requests/s through the entry on kept-alive connections; the failover's own probe sends 20/s, each on a new connection. p99 of the load before any failover: ${before.latencyMs.p99.toFixed(1)} ms (${before.errors} failed of ${before.requests}).`,
      '',
      '| failover | exit | total | traffic moved at | load: failed | probe: failed, longest gap | load p99 during |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...rows,
      '',
      `Unplanned (the AWS site's service killed with SIGKILL and its API server stopped, then \`failover --to onprem\`): exit ${run.code}, ${unplanned.mode}; requests failed for ${(seen.windowMs / 1000).toFixed(1)} s (a watcher's new connection every 50 ms: ${seen.failed} of ${seen.sent} failed; the load generator: ${loadReport.errors} of ${loadReport.requests}). The failover itself took ${(unplanned.totalMs / 1000).toFixed(1)} s and moved traffic at +${((unplanned.switchedAtMs ?? 0) / 1000).toFixed(1)} s; skipped: ${unplanned.steps.filter((s) => s.status === 'skipped').map((s) => s.step).join(', ')}.`,
    ];
  } finally {
    await f.stop();
  }
}
