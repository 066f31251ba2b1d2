import type { HybridConfig } from '../core/config/schema.ts';
import { planJson, renderPlanText } from '../output/plan-view.ts';
import { loadStacks, planStacks } from '../pipeline.ts';
import { type GlobalOptions, pipelineOptions, terminal } from './options.ts';
import { withFreshState } from './state-access.ts';

/** Observes, then prints what `up` would change. Makes no change. */
export async function run(options: GlobalOptions, config: HybridConfig): Promise<number> {
  const term = terminal(options);
  await withFreshState(options, config);
  const stacks = await loadStacks(config, pipelineOptions(options, true));
  const plans = await planStacks(stacks, 'up');
  if (options.output === 'json') term.out.write(`${JSON.stringify({ cluster: config.metadata.name, ...planJson(plans) }, null, 2)}\n`);
  else term.out.write(renderPlanText(plans, term.paint));
  return plans.some((p) => p.error !== undefined) ? 1 : 0;
}
