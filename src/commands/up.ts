import { loadConfig } from '../core/config/load.ts';
import { messageOf } from '../core/errors.ts';
import { siteHeader } from '../output/plan-view.ts';
import { startProgress } from '../output/progress.ts';
import { applyPlans, loadStacks, planStacks, siteChanges } from '../pipeline.ts';
import { applyReport, renderApplyReport } from './apply-report.ts';
import { type GlobalOptions, interruptible, pipelineOptions, terminal } from './options.ts';
import { run as runPlan } from './plan.ts';

export interface UpOptions extends GlobalOptions {
  dryRun?: boolean;
}

/** Converges everything: observes, then creates, updates and deletes only the difference. */
export async function run(options: UpOptions): Promise<number> {
  if (options.dryRun) return runPlan(options);
  const term = terminal(options);
  const config = await loadConfig(options.config);
  const stacks = await loadStacks(config, pipelineOptions(options, false));
  const plans = await planStacks(stacks, 'up');
  const changes = siteChanges(plans);
  const text = options.output === 'text';

  const unobserved = plans.filter((p) => p.error !== undefined);
  if (text) for (const p of plans) term.out.write(`${siteHeader(p, term.paint, 'cannot observe this site, so nothing here is changed').join('\n')}\n`);
  if (changes.length === 0) {
    const unchanged = plans.reduce((n, p) => n + p.plan.changes.length, 0);
    const failed = unobserved.map((p) => ({ site: p.site, error: messageOf(p.error) }));
    if (text) term.out.write(`nothing to do${unobserved.length ? ' on the sites that could be observed' : ''}: all ${unchanged} resources match the config\n`);
    else term.out.write(`${JSON.stringify({ cluster: config.metadata.name, changed: false, unchanged, ...(failed.length ? { failed } : {}) }, null, 2)}\n`);
    return unobserved.length ? 1 : 0;
  }

  const interrupt = interruptible(term.err);
  const progress = startProgress(term.progress, changes, term.out, term.paint);
  const started = performance.now();
  const outcomes = await applyPlans(plans, { signal: interrupt.signal, onEvent: (e) => progress.onEvent(e) });
  await progress.finish();
  interrupt.dispose();
  const report = applyReport(plans, outcomes, performance.now() - started);
  if (text) term.out.write(renderApplyReport(report, term.paint, interrupt.signal.aborted));
  else term.out.write(`${JSON.stringify({ cluster: config.metadata.name, changed: true, ...report }, null, 2)}\n`);
  if (interrupt.signal.aborted) return 130;
  return report.failed.length > 0 ? 1 : 0;
}
