import { UsageError, messageOf } from '../core/errors.ts';
import { siteHeader } from '../output/plan-view.ts';
import { startProgress } from '../output/progress.ts';
import type { HybridConfig, SiteName } from '../core/config/schema.ts';
import type { Outcome } from '../core/engine/execute.ts';
import { type SitePlan, applyPlans, checkVpnSites, loadStacks, planStacks, siteChanges } from '../pipeline.ts';
import type { VpnCheckReport } from '../vpn/check.ts';
import { touchesVpn } from '../vpn/layer.ts';
import { applyReport, renderApplyReport } from './apply-report.ts';
import { type GlobalOptions, interruptible, pipelineOptions, terminal } from './options.ts';
import { run as runPlan } from './plan.ts';
import { withRunLock } from './state-access.ts';
import { renderVpnCheck } from './vpn-report.ts';

/** How long `up`'s VPN probes keep trying: a tunnel that has just come up needs a keepalive or two. */
const VPN_CHECK_DEADLINE_SECONDS = 60;

export interface UpOptions extends GlobalOptions {
  dryRun?: boolean;
}

/** Converges everything: observes, then creates, updates and deletes only the difference. */
export async function run(options: UpOptions, config: HybridConfig): Promise<number> {
  for (const address of options.reinstall ?? []) {
    if (!config.onprem.nodes.some((n) => n.address === address))
      throw new UsageError(`--reinstall: "${address}" is not an on-prem node (expected one of onprem.nodes[].address: ${config.onprem.nodes.map((n) => n.address).join(', ')})`);
  }
  if (options.dryRun) return runPlan(options, config);
  return withRunLock(options, config, 'up', () => converge(options, config));
}

/** `up`'s work, for a caller that holds the run lock. */
export async function converge(options: UpOptions, config: HybridConfig): Promise<number> {
  const term = terminal(options);
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
  if (interrupt.signal.aborted) {
    if (!text) term.out.write(`${JSON.stringify({ cluster: config.metadata.name, changed: true, ...report }, null, 2)}\n`);
    return 130;
  }
  // A changed VPN is proven, not assumed: traffic must cross it before `up` says it is done.
  const vpn = report.failed.length === 0 && options.layer !== 'base' && vpnChanged(plans, outcomes) ? await checkVpn(options, config, term) : undefined;
  const notBuilt = vpn?.verdict === 'failed' ? unbuiltSite(vpn, plans) : undefined;
  if (notBuilt && text) term.out.write(`the ${notBuilt} end of the VPN is not built yet: run \`hybridctl up\` for both sites (or \`up --site ${notBuilt}\`), then \`hybridctl vpn check\`\n`);
  if (!text) term.out.write(`${JSON.stringify({ cluster: config.metadata.name, changed: true, ...report, ...(vpn ? { vpn } : {}) }, null, 2)}\n`);
  return report.failed.length > 0 || (vpn?.verdict === 'failed' && !notBuilt) ? 1 : 0;
}

/** A site outside this run whose gateway does not exist yet: the tunnel cannot work, and that is not this run's failure. */
function unbuiltSite(report: VpnCheckReport, plans: readonly SitePlan[]): SiteName | undefined {
  return report.gateways.find((g) => !plans.some((p) => p.site === g.site) && (g.error !== undefined || g.link === undefined))?.site;
}

function vpnChanged(plans: readonly SitePlan[], outcomes: readonly Outcome[]): boolean {
  return plans.some((p, i) => p.plan.changes.some((c) => outcomes[i]?.done.has(c.key) && c.action !== 'noop' && touchesVpn({ site: p.site, kind: c.kind, id: c.id })));
}

async function checkVpn(options: UpOptions, config: HybridConfig, term: ReturnType<typeof terminal>): Promise<VpnCheckReport | undefined> {
  const text = options.output === 'text';
  if (text) term.out.write('\nproving the VPN carries traffic (a probe pod on each site, across the tunnel)\n');
  const report = await checkVpnSites(config, pipelineOptions(options, false), {
    deadlineSeconds: VPN_CHECK_DEADLINE_SECONDS,
    report: (message) => {
      if (term.progress === 'plain') term.out.write(`  … ${message}\n`);
    },
  });
  if (report && text) term.out.write(renderVpnCheck(report, config.vpn.port, term.paint));
  return report;
}
