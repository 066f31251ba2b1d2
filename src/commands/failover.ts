import type { HybridConfig, SiteName } from '../core/config/schema.ts';
import { UsageError, messageOf } from '../core/errors.ts';
import { StateDir } from '../core/state.ts';
import { isChange } from '../core/engine/plan.ts';
import type { Paint } from '../output/terminal.ts';
import { serviceEntry } from '../traffic/entry.ts';
import { finishJournal } from '../traffic/journal.ts';
import { type ProbeReport, startProbe } from '../traffic/probe.ts';
import { Timeline, type TimelineStep, seconds } from '../traffic/timeline.ts';
import { type FailoverPlans, SWITCH_IDS, planFailover, runSteps } from './failover-steps.ts';
import { type GlobalOptions, interruptible, pipelineOptions, terminal } from './options.ts';
import { withRunLock } from './state-access.ts';

export interface FailoverOptions extends GlobalOptions {
  to: string;
  dryRun?: boolean;
  /** commander's `--no-probe`. */
  probe: boolean;
  probeUrl?: string;
  probeRate: string;
}

export interface FailoverReport {
  from: SiteName;
  to: SiteName;
  mode: 'planned' | 'unplanned';
  startedAt: string;
  totalMs: number;
  /** ms from the start when the listener moved. */
  switchedAtMs?: number;
  steps: TimelineStep[];
  probe?: ProbeReport;
  ok: boolean;
}

/** Moves the service's traffic to the other site, make-before-break. */
export async function run(options: FailoverOptions, config: HybridConfig): Promise<number> {
  const to = options.to;
  if (to !== 'aws' && to !== 'onprem') throw new UsageError(`--to: "${to}" is not a site (expected aws or onprem)`);
  const rate = Number(options.probeRate);
  if (!Number.isFinite(rate) || rate <= 0 || rate > 100) throw new UsageError(`--probe-rate: "${options.probeRate}" is not a rate (expected requests per second, more than 0 and at most 100)`);
  if (options.probeUrl !== undefined && !/^https?:\/\/[^\s/]+/.test(options.probeUrl)) throw new UsageError(`--probe-url: "${options.probeUrl.slice(0, 60)}" is not an http(s) URL (expected like http://readings.example.com/readyz)`);
  if (!serviceEntry(config))
    throw new UsageError('failover moves traffic through the public entry, which this config does not build (it needs traffic.enabled, service.enabled and vpn.enabled)');
  if (options.dryRun) return dryRun(options, config, to);
  return withRunLock(options, config, 'failover', () => failover(options, config, to));
}

async function failover(options: FailoverOptions, config: HybridConfig, to: SiteName): Promise<number> {
  const term = terminal(options);
  const text = options.output === 'text';
  const startedAt = new Date().toISOString();
  const pipeline = pipelineOptions(options, false);
  const timeline = new Timeline((step, phase) => {
    if (!text) return;
    if (phase === 'start') term.out.write(`  … ${step.step}\n`);
    else term.out.write(`${renderStep(step, term.paint)}\n`);
  });
  if (text) term.out.write(`${term.paint('bold', `failover to ${to}`)}\n`);
  let plans: FailoverPlans | undefined;
  await timeline.run('observe', async () => {
    plans = await planFailover(config, pipeline, to);
    return plans.old.error === undefined ? 'both sites and the entry answer: a planned failover' : `the ${plans.from} site does not answer: an unplanned failover`;
  });
  if (!plans) throw new Error('failover: nothing was observed');
  const unplanned = plans.old.error !== undefined;
  const probeUrl = options.probeUrl ?? (plans.balancerName ? `http://${plans.balancerName}:${config.traffic.port}${config.traffic.healthCheck.path}` : undefined);
  const probe = options.probe && probeUrl ? startProbe(probeUrl, Number(options.probeRate)) : undefined;
  const interrupt = interruptible(term.err);
  let error: unknown;
  let switchedAt: string | undefined;
  let moved = false;
  try {
    ({ switchedAt, moved } = await runSteps({ config, options: pipeline, plans, timeline, signal: interrupt.signal, checkVpn: !unplanned && config.vpn.enabled }));
  } catch (caught) {
    error = caught;
  } finally {
    interrupt.dispose();
  }
  const probed = await probe?.stop();
  const switchStep = timeline.steps.find((s) => s.step === `traffic to ${to}` && s.status === 'done');
  const report: FailoverReport = {
    from: plans.from,
    to,
    mode: unplanned ? 'unplanned' : 'planned',
    startedAt,
    totalMs: timeline.now(),
    ...(switchStep ? { switchedAtMs: switchStep.startMs + switchStep.durationMs } : {}),
    steps: timeline.steps,
    ...(probed ? { probe: probed } : {}),
    ok: error === undefined,
  };
  // A failover that found everything done already keeps the last real one's report.
  if (error === undefined) await finishJournal(StateDir.forConfig(options.config, config.metadata.name, options.stateDir), moved ? report : undefined);
  if (text) term.out.write(renderSummary(report, term.paint, switchedAt, error, options.probe ? probeUrl : undefined));
  else term.out.write(`${JSON.stringify({ ...report, ...(error === undefined ? {} : { error: messageOf(error) }) }, null, 2)}\n`);
  if (interrupt.signal.aborted) return 130;
  return error === undefined ? 0 : 1;
}

/** What a failover would do, from the same plans, changing nothing. */
async function dryRun(options: FailoverOptions, config: HybridConfig, to: SiteName): Promise<number> {
  const term = terminal(options);
  const plans = await planFailover(config, pipelineOptions(options, false), to);
  const steps = dryRunSteps(config, plans);
  if (options.output === 'json') term.out.write(`${JSON.stringify({ from: plans.from, to, mode: plans.old.error === undefined ? 'planned' : 'unplanned', steps }, null, 2)}\n`);
  else {
    term.out.write(`${term.paint('bold', `failover to ${to}`)} would (nothing is changed by --dry-run):\n`);
    steps.forEach((s, i) => term.out.write(`  ${i + 1}. ${s.step}${s.changes.length ? `: ${s.changes.join('; ')}` : ''}${s.note ? term.paint('gray', ` (${s.note})`) : ''}\n`));
  }
  return 0;
}

function dryRunSteps(config: HybridConfig, plans: FailoverPlans): { step: string; changes: string[]; note?: string }[] {
  const changed = (plan: FailoverPlans['target'], only?: (id: string) => boolean) =>
    plan.plan.changes.filter(isChange).filter((c) => !only || only(c.id)).map((c) => `${c.action} ${c.kind} ${c.id}${c.changes.length ? ` (${c.changes.map((f) => f.field).join(', ')})` : ''}`);
  const { to, from } = plans;
  const unplanned = plans.old.error !== undefined;
  return [
    { step: 'preflight', changes: [], note: `${to} nodes Ready, ${to} target group has targets${unplanned ? '' : ', the VPN check passes'}` },
    { step: `scale ${to} to ${config.service.replicas} and wait for the rollout`, changes: changed(plans.target) },
    { step: `wait until the ${to} target group reports its targets healthy`, changes: [] },
    { step: `switch traffic to ${to}`, changes: changed(plans.entry, (id) => SWITCH_IDS.includes(id)) },
    { step: `drain ${from}`, changes: [], note: `${config.traffic.drainSeconds} s (traffic.drainSeconds)` },
    unplanned
      ? { step: `scale ${from} to ${config.service.standbyReplicas}`, changes: [], note: `skipped: the ${from} site does not answer (${messageOf(plans.old.error)})` }
      : { step: `scale ${from} to ${config.service.standbyReplicas}`, changes: changed(plans.old) },
  ];
}

function renderStep(step: TimelineStep, paint: Paint): string {
  const mark = step.status === 'done' ? paint('green', '✓') : step.status === 'skipped' ? paint('yellow', '-') : paint('red', '✖');
  const timing = step.status === 'skipped' ? 'skipped' : `+${seconds(step.startMs)}, took ${seconds(step.durationMs)}`;
  return `  ${mark} ${step.step.padEnd(26)} ${paint('gray', timing.padEnd(24))} ${step.detail}`;
}

function renderSummary(report: FailoverReport, paint: Paint, switchedAt: string | undefined, error: unknown, probeUrl: string | undefined): string {
  // The steps were shown as they ended: the timeline; this is its end.
  const lines: string[] = [''];
  if (report.switchedAtMs !== undefined) lines.push(`traffic moved to ${report.to} at +${seconds(report.switchedAtMs)}${switchedAt ? ` (${switchedAt})` : ''}`);
  if (report.probe) {
    const p = report.probe;
    const failed = p.failed === 0 ? paint('green', '0 failed') : paint('red', `${p.failed} failed`);
    lines.push(`probe ${p.url}: ${p.sent} sent, ${failed}, longest gap ${seconds(p.longestGapMs)}, p99 ${p.p99Ms} ms${p.lastError ? ` (last error: ${p.lastError})` : ''}`);
  } else if (!probeUrl) lines.push(paint('gray', 'no probe (--no-probe, or no load balancer name to probe)'));
  lines.push(
    error === undefined
      ? paint('green', `done in ${seconds(report.totalMs)}: traffic goes to ${report.to}`)
      : paint('red', `failed: ${messageOf(error)}\n  ${report.switchedAtMs === undefined ? `traffic still goes to ${report.from}` : `traffic goes to ${report.to}`}; run the same failover again to finish it`),
  );
  return `${lines.join('\n')}\n`;
}
