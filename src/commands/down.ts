import type { HybridConfig } from '../core/config/schema.ts';
import { renderPlanText } from '../output/plan-view.ts';
import { startProgress } from '../output/progress.ts';
import { applyPlans, loadStacks, planStacks, siteChanges } from '../pipeline.ts';
import { applyReport, renderApplyReport } from './apply-report.ts';
import { confirmedByName } from './confirm.ts';
import { type GlobalOptions, interruptible, pipelineOptions, terminal } from './options.ts';
import { withRunLock } from './state-access.ts';

export interface DownOptions extends GlobalOptions {
  yes?: boolean;
}

/** Deletes everything the cluster owns, dependants first, then checks that nothing is left. */
export async function run(options: DownOptions, config: HybridConfig): Promise<number> {
  return withRunLock(options, config, 'down', (access, guard) => tearDown(options, config, (key) => {
    if (access.bucket && key === `aws:delete:s3-bucket:${access.bucket.name}`) guard.stopRenewing();
  }));
}

/** `deleting` hears of each change as it starts. */
async function tearDown(options: DownOptions, config: HybridConfig, deleting: (key: string) => void): Promise<number> {
  const term = terminal(options);
  const text = options.output === 'text';
  const stacks = await loadStacks(config, { ...pipelineOptions(options, false), forDown: true });
  const plans = await planStacks(stacks, 'down');
  const deletes = plans.flatMap((p) => p.plan.changes);
  if (plans.some((p) => p.error !== undefined) && deletes.length === 0) {
    if (text) term.out.write(renderPlanText(plans, term.paint));
    else term.out.write(`${JSON.stringify({ cluster: config.metadata.name, ...applyReport(plans, [], 0), remaining: [] }, null, 2)}\n`);
    return 1;
  }
  if (deletes.length === 0) {
    if (text) term.out.write(`nothing to delete: no resources of cluster ${config.metadata.name} were found\n`);
    else term.out.write(`${JSON.stringify({ cluster: config.metadata.name, deleted: 0, remaining: [] }, null, 2)}\n`);
    return 0;
  }
  if (text) term.out.write(renderPlanText(plans, term.paint));
  if (!options.yes && !(await confirmedByName(`Delete these ${deletes.length} resources?`, config.metadata.name, `down would delete ${deletes.length} resources`, term.err))) {
    term.err.write('aborted: nothing was deleted\n');
    return 1;
  }

  const interrupt = interruptible(term.err);
  const progress = startProgress(term.progress, siteChanges(plans), term.out, term.paint);
  const started = performance.now();
  const outcomes = await applyPlans(plans, {
    signal: interrupt.signal,
    onEvent: (e) => {
      if (e.type === 'start') deleting(e.key);
      progress.onEvent(e);
    },
  });
  await progress.finish();
  interrupt.dispose();
  const report = applyReport(plans, outcomes, performance.now() - started);

  // Look again: `down` is done only when nothing tagged for the cluster is left.
  const remaining = (await planStacks(stacks, 'down')).flatMap((p) => p.plan.changes.map((c) => ({ site: p.site, kind: c.kind, id: c.id, ref: c.found?.ref })));
  if (text) {
    term.out.write(renderApplyReport(report, term.paint, interrupt.signal.aborted));
    if (remaining.length === 0) term.out.write(`nothing of cluster ${config.metadata.name} is left\n`);
    else term.out.write(term.paint('red', `still there: ${remaining.map((r) => `${r.kind} ${r.id} (${r.ref})`).join(', ')}\n`));
  } else {
    term.out.write(`${JSON.stringify({ cluster: config.metadata.name, ...report, remaining }, null, 2)}\n`);
  }
  if (interrupt.signal.aborted) return 130;
  return report.failed.length > 0 || remaining.length > 0 ? 1 : 0;
}
