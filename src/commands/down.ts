import { createInterface } from 'node:readline/promises';
import { loadConfig } from '../core/config/load.ts';
import { UsageError } from '../core/errors.ts';
import { renderPlanText } from '../output/plan-view.ts';
import { startProgress } from '../output/progress.ts';
import { applyPlans, loadStacks, planStacks, siteChanges } from '../pipeline.ts';
import { applyReport, renderApplyReport } from './apply-report.ts';
import { type GlobalOptions, interruptible, pipelineOptions, terminal } from './options.ts';

export interface DownOptions extends GlobalOptions {
  yes?: boolean;
}

/** Deletes everything the cluster owns, dependants first, then checks that nothing is left. */
export async function run(options: DownOptions): Promise<number> {
  const term = terminal(options);
  const text = options.output === 'text';
  const config = await loadConfig(options.config);
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
  if (!options.yes && !(await confirmed(config.metadata.name, deletes.length, term.err))) {
    term.err.write('aborted: nothing was deleted\n');
    return 1;
  }

  const interrupt = interruptible(term.err);
  const progress = startProgress(term.progress, siteChanges(plans), term.out, term.paint);
  const started = performance.now();
  const outcomes = await applyPlans(plans, { signal: interrupt.signal, onEvent: (e) => progress.onEvent(e) });
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

async function confirmed(cluster: string, count: number, err: NodeJS.WriteStream): Promise<boolean> {
  if (!process.stdin.isTTY) {
    throw new UsageError(`down would delete ${count} resources and there is no terminal to confirm on; pass --yes to go ahead`);
  }
  const prompt = createInterface({ input: process.stdin, output: err });
  try {
    const answer = await prompt.question(`Delete these ${count} resources? Type the cluster name (${cluster}) to confirm: `);
    return answer.trim() === cluster;
  } finally {
    prompt.close();
  }
}
