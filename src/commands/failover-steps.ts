import type { HybridConfig, SiteName } from '../core/config/schema.ts';
import { ActionError, messageOf } from '../core/errors.ts';
import { StateDir } from '../core/state.ts';
import { requireClient } from '../kube/access.ts';
import { nodeReady } from '../kube/client.ts';
import type { KubeSite } from '../kube/object-kind.ts';
import { rolloutKind } from '../kube/rollout.ts';
import { type PipelineOptions, type SitePlan, type SiteStack, applyPlans, checkVpnSites, detached, loadStacks, planStacks, restrictPlan, withOnly } from '../pipeline.ts';
import type { AwsProvider } from '../providers/aws/provider.ts';
import { DNS_FAILOVER_ID } from '../providers/aws/kinds/route53-failover.ts';
import { LOAD_BALANCER_ID } from '../providers/aws/talos-site.ts';
import { otherSite, readActiveSite, writeActiveSite } from '../traffic/active-site.ts';
import { SERVICE_LISTENER_ID, serviceGroupId } from '../traffic/aws-stack.ts';
import { type FailoverJournal, readJournal, writeJournal } from '../traffic/journal.ts';
import { groupHealth, summarise } from '../traffic/target-health.ts';
import { type Timeline, seconds } from '../traffic/timeline.ts';

/** What a failover works on: each site's service and the public entry, planned as if traffic went to `to`. */
export interface FailoverPlans {
  to: SiteName;
  from: SiteName;
  target: SitePlan;
  /** The old site; `error` set when it does not answer (an unplanned failover). */
  old: SitePlan;
  entry: SitePlan;
  /** The load balancer's name: where the probe goes by default. */
  balancerName?: string;
}

/** What moves traffic: the listener's forward action and the DNS primary. */
export const SWITCH_IDS: readonly string[] = [SERVICE_LISTENER_ID, DNS_FAILOVER_ID];

/** Plans the three parts; the old site may fail to answer, the target site and the entry may not. */
export async function planFailover(config: HybridConfig, options: PipelineOptions, to: SiteName): Promise<FailoverPlans> {
  const from = otherSite(to);
  const stacks = await loadStacks(config, { ...options, sites: ['aws', 'onprem'], activeSite: to });
  const stackOf = (site: SiteName) => {
    const stack = stacks.find((s) => s.site === site);
    if (!stack) throw new ActionError(`the ${site} site could not be loaded`);
    return stack;
  };
  const aws = stackOf('aws');
  if (!aws.parts?.traffic.length) throw new ActionError('there is no public entry to move: it is built by `hybridctl up` with traffic.enabled, the service and the VPN');
  const serviceOf = (site: SiteName) => {
    const stack = stackOf(site);
    if (!stack.parts?.service.length) throw new ActionError(`the service is not deployed on the ${site} site: ${stack.notes.join('; ') || 'run hybridctl up'}`);
    return detached(stack, stack.parts.service);
  };
  const [target, old, entry] = await Promise.all([plan(serviceOf(to)), plan(serviceOf(from)), plan(withOnly(aws, aws.parts.traffic))]);
  if (entry.error !== undefined) throw new ActionError(`cannot reach the load balancer in AWS, so traffic cannot move: ${messageOf(entry.error)}`);
  if (target.error !== undefined) throw new ActionError(`the ${to} site does not answer, so it cannot take the traffic: ${messageOf(target.error)}`);
  const balancer = entry.plan.changes.find((c) => c.id === LOAD_BALANCER_ID)?.found?.state as { dnsName?: string } | undefined;
  return { to, from, target, old, entry, ...(balancer?.dnsName ? { balancerName: balancer.dnsName } : {}) };
}

async function plan(stack: SiteStack): Promise<SitePlan> {
  try {
    return (await planStacks([stack], 'up'))[0] as SitePlan;
  } catch (error) {
    return { ...stack, plan: { changes: [] }, error };
  }
}

/** The ids of a service plan's deployments' rollouts, and of everything else. */
function serviceIds(plan: SitePlan): { objects: string[]; rollouts: string[] } {
  const nodes = plan.plan.changes.flatMap((c) => (c.node ? [c.node] : []));
  return { objects: nodes.filter((n) => n.kind !== rolloutKind).map((n) => n.id), rollouts: nodes.filter((n) => n.kind === rolloutKind).map((n) => n.id) };
}

/** Applies the part of a plan that changes `ids`; the rest must exist and is only read. */
async function applyOnly(plan: SitePlan, ids: readonly string[], signal: AbortSignal): Promise<string[]> {
  const restricted = restrictPlan(plan, ids);
  const [outcome] = await applyPlans([restricted], { signal, onEvent: () => undefined });
  if (outcome && outcome.failed.length > 0) throw new ActionError(outcome.failed.map((f) => `${f.change.kind} ${f.change.id}: ${messageOf(f.error)}`).join('\n'));
  if (signal.aborted) throw new ActionError('interrupted: run the same failover again to finish it');
  return [...(outcome?.done.keys() ?? [])];
}

/** Plans a part again (what it observed before may have changed since). */
async function replan(plan: SitePlan): Promise<SitePlan> {
  const fresh = await planStacks([plan], 'up');
  return fresh[0] as SitePlan;
}

function groupArn(plans: FailoverPlans, site: SiteName): string {
  const state = plans.entry.plan.changes.find((c) => c.id === serviceGroupId(site))?.found?.state as { arn?: string } | undefined;
  if (!state?.arn) throw new ActionError(`the ${site} site's target group does not exist yet; run \`hybridctl up\` first`);
  return state.arn;
}

export interface StepContext {
  config: HybridConfig;
  options: PipelineOptions;
  plans: FailoverPlans;
  timeline: Timeline;
  signal: AbortSignal;
  /** Whether the VPN check runs in the preflight (both sites answer and the VPN is on). */
  checkVpn: boolean;
}

/** Every step of the failover, in order; a step that cannot be done on a site that does not answer is skipped and says why. */
export async function runSteps(ctx: StepContext): Promise<{ switchedAt?: string; moved: boolean }> {
  const { config, plans, timeline, signal } = ctx;
  const { to, from } = plans;
  const state = StateDir.forConfig(ctx.options.configFile, config.metadata.name, ctx.options.stateDir);
  const previous = await readJournal(state);
  const journal: FailoverJournal = previous?.to === to ? previous : { from, to, startedAt: new Date().toISOString() };
  await writeJournal(state, journal);
  const aws = plans.entry.provider as AwsProvider;
  const targetArn = groupArn(plans, to);
  const unplanned = plans.old.error !== undefined;

  await timeline.run('preflight', async () => {
    const client = await requireClient(plans.target.provider as KubeSite);
    const nodes = await client.nodes();
    const ready = nodes.filter(nodeReady);
    if (ready.length === 0) throw new ActionError(`no node of the ${to} site is Ready (${nodes.length} nodes)`);
    const registered = await groupHealth(aws, targetArn);
    if (registered.length === 0) throw new ActionError(`the ${to} site's target group has no targets registered; run \`hybridctl up\``);
    let vpn = 'VPN check skipped';
    if (ctx.checkVpn) {
      const report = await checkVpnSites(config, ctx.options, { deadlineSeconds: 60, report: () => undefined, signal });
      if (report && report.verdict !== 'crossed') throw new ActionError(`the VPN does not carry traffic between the sites (${report.causes.join('; ') || report.verdict}); \`hybridctl vpn check\` shows why`);
      vpn = 'VPN carries traffic both ways';
    }
    return `${ready.length}/${nodes.length} ${to} nodes Ready, ${registered.length} target${registered.length === 1 ? '' : 's'} registered, ${vpn}`;
  });

  const wanted = config.service.replicas;
  await timeline.run(`scale ${to} to ${wanted}`, async () => {
    const done = await applyOnly(plans.target, serviceIds(plans.target).objects, signal);
    return done.length > 0 ? `${done.length} objects applied` : `already at ${wanted}`;
  });
  await timeline.run(`rollout on ${to}`, async () => {
    const fresh = await replan(plans.target);
    await applyOnly(fresh, serviceIds(fresh).rollouts, signal);
    return 'every replica updated and available';
  });
  await timeline.run(`${to} targets healthy`, () => waitHealthy(config, aws, targetArn, signal));

  let switched = false;
  await timeline.run(`traffic to ${to}`, async () => {
    const fresh = await replan(plans.entry);
    const done = await applyOnly(fresh, SWITCH_IDS, signal);
    switched = done.length > 0;
    const recorded = await readActiveSite(state);
    if (switched) journal.switchedAt = new Date().toISOString();
    // Already there before this failover: keep the time traffic really moved.
    else journal.switchedAt ??= recorded?.site === to && previous?.to !== to ? recorded.since : new Date().toISOString();
    await writeJournal(state, journal);
    if (recorded?.site !== to || recorded.since !== journal.switchedAt) await writeActiveSite(state, { site: to, since: journal.switchedAt });
    return switched ? `the listener${config.traffic.dns ? ' and the DNS primary' : ''} now send new connections to ${to}` : `already sending to ${to}`;
  });

  const drainMs = config.traffic.drainSeconds * 1000 - (Date.now() - Date.parse(journal.switchedAt ?? ''));
  if (!switched && previous?.to !== to) timeline.skip(`drain ${from}`, `nothing to drain: traffic already went to ${to}`);
  else if (drainMs <= 0) timeline.skip(`drain ${from}`, `the drain time (${config.traffic.drainSeconds} s) has passed since the switch`);
  else
    await timeline.run(`drain ${from}`, async () => {
      await sleep(drainMs, signal);
      if (signal.aborted) throw new ActionError('interrupted while draining: run the same failover again to finish it');
      return `${seconds(drainMs)} for open connections to finish (traffic.drainSeconds)`;
    });

  if (unplanned) timeline.skip(`scale ${from} to ${config.service.standbyReplicas}`, `the ${from} site does not answer (${messageOf(plans.old.error)}); \`hybridctl up\` scales it down once it is back`);
  else
    await timeline.run(`scale ${from} to ${config.service.standbyReplicas}`, async () => {
      const fresh = await replan(plans.old);
      const ids = serviceIds(fresh);
      const done = await applyOnly(fresh, [...ids.objects, ...ids.rollouts], signal);
      return done.length > 0 ? 'scaled down and rolled out' : `already at ${config.service.standbyReplicas}`;
    });
  return { ...(journal.switchedAt ? { switchedAt: journal.switchedAt } : {}), moved: switched || previous?.to === to };
}

/** Until every target of the group is healthy; at least one must be when the wait runs out. */
async function waitHealthy(config: HybridConfig, aws: AwsProvider, arn: string, signal: AbortSignal): Promise<string> {
  const check = config.traffic.healthCheck;
  const deadline = Date.now() + (check.intervalSeconds * (check.healthyThreshold + 2) + 60) * 1000;
  for (;;) {
    const targets = await groupHealth(aws, arn);
    const healthy = targets.filter((t) => t.state === 'healthy');
    if (targets.length > 0 && healthy.length === targets.length) return `${healthy.length}/${targets.length} healthy`;
    if (Date.now() > deadline || signal.aborted) {
      if (healthy.length > 0) return `${healthy.length}/${targets.length} healthy when the wait ran out: ${summarise(targets)}`;
      throw new ActionError(`no target of the group is healthy: ${summarise(targets)}; traffic stays where it is`);
    }
    await sleep(Math.min(1000, check.intervalSeconds * 250), signal);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}
