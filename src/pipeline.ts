import type { HybridConfig, SiteName } from './core/config/schema.ts';
import { type EngineEvent, type Outcome, execute } from './core/engine/execute.ts';
import type { AnyKind, Node } from './core/engine/model.ts';
import { Observation, type Plan, type PlannedChange, isChange, planDown, planUp } from './core/engine/plan.ts';
import { baseStack } from './providers/aws/base-stack.ts';
import { instanceId, nodeStack } from './providers/aws/node-stack.ts';
import { type AwsSession, requireOnline, sharedSession } from './providers/aws/session.ts';
import { resolveNodeImages } from './providers/aws/talos-image.ts';
import { awsSite } from './providers/aws/talos-site.ts';
import { type OnpremSite, onpremSite } from './providers/metal/site.ts';
import { onpremStack } from './providers/metal/stack.ts';
import { ActionError, UsageError, messageOf } from './core/errors.ts';
import { StateDir } from './core/state.ts';
import { resolveServiceImage } from './service/image-ref.ts';
import { siteTelemetry } from './telemetry/site-telemetry.ts';
import { telemetryKinds } from './telemetry/stack.ts';
import { serviceStack } from './service/stack.ts';
import { iamUserKind } from './providers/aws/kinds/iam-user.ts';
import { ampWorkspaceKind } from './providers/aws/kinds/amp-workspace.ts';
import { leftoverGrafanaWorkspaceKind } from './providers/aws/kinds/grafana-workspace.ts';
import { catalogKinds, catalogNodes } from './telemetry/lake-catalog.ts';
import { KUBECONFIG_ID } from './talos/kinds/kubeconfig.ts';
import { configuredAddresses } from './talos/trust.ts';
import { type VpnCheckReport, checkVpn } from './vpn/check.ts';
import { type VpnLayer, vpnLayer } from './vpn/layer.ts';
import { withTalosLogs } from './telemetry/talos-logs.ts';
import type { StatusAccess } from './status/sources/index.ts';
import type { ConfigExtension } from './talos/site.ts';
import { disagreement, readActiveSite, withActiveSite } from './traffic/active-site.ts';
import { trafficAwsNodes } from './traffic/aws-stack.ts';
import { dnsLeftovers } from './traffic/dns-stack.ts';
import { noEntryReason, serviceEntry } from './traffic/entry.ts';
import { readJournal } from './traffic/journal.ts';
import { readDashboardFiles } from './grafana/dashboard-files.ts';
import { type GrafanaLayer, grafanaLayer } from './grafana/layer.ts';
import { type GrafanaMode, chooseGrafana } from './grafana/mode.ts';

export interface PipelineOptions {
  sites: readonly SiteName[];
  /** Where the state directory lives: beside this config file unless `stateDir` says otherwise. */
  configFile: string;
  stateDir?: string;
  profile?: string;
  region?: string;
  endpoint?: string;
  /** plan and --dry-run: without credentials, plan against an empty account. */
  allowOffline: boolean;
  /** `base`: only the AWS base layer (network, security, identity, keys, storage), no nodes. */
  layer?: 'base';
  /** `down` needs no Talos images, and leaves the service to go with its cluster. */
  forDown?: boolean;
  /** Take fields of Kubernetes objects over from other field managers. */
  forceConflicts?: boolean;
  /** On-prem hosts the user wiped and reinstalled: configure them again, though they were configured before. */
  reinstall?: readonly string[];
  /** `failover`: build the sites as if traffic went here (else where the last failover left it, else service.activeSite). */
  activeSite?: SiteName;
}

/** The resources of one site, with the provider that manages them. */
export interface SiteStack {
  site: SiteName;
  title: string;
  notes: string[];
  provider: unknown;
  nodes: Node<unknown>[];
  /** Nothing can be observed: plan against nothing, never apply. */
  offline: boolean;
  /** Set when only part of the site is planned: the rest is still wanted, so never deleted. */
  keep?: ReadonlySet<string>;
  /** Ids of the nodes of the service and of the public entry, which `failover` converges on their own. */
  parts?: { service: string[]; traffic: string[] };
  /** Kinds of a feature the config turned off, looked for so that what it left is deleted. */
  alsoObserve?: AnyKind<unknown>[];
}

export interface SitePlan extends SiteStack {
  plan: Plan<unknown>;
  /** Why the site could not be observed (its API unreachable, say): it gets no changes, the other site goes on. */
  error?: unknown;
}

/** What each site consists of, in the order `up` builds them (`down` goes the other way). */
export async function loadStacks(given: HybridConfig, options: PipelineOptions): Promise<SiteStack[]> {
  const state = StateDir.forConfig(options.configFile, given.metadata.name, options.stateDir);
  const trafficState = await trafficNotes(given, state, options.activeSite);
  const entry = serviceEntry(trafficState.config);
  const kube = { forceConflicts: options.forceConflicts ?? false };
  const deploysService = trafficState.config.service.enabled && !options.forDown && options.layer !== 'base';
  const monitors = trafficState.config.monitoring.enabled && !options.forDown && options.layer !== 'base';
  const ships = monitors && trafficState.config.monitoring.shipper.enabled;
  // The on-prem gateway dials the AWS gateway's address, which only AWS knows.
  // Monitoring asks AWS for the bucket's name, the on-prem key and the managed workspace.
  const needsAws =
    options.sites.includes('aws') ||
    (deploysService && trafficState.config.service.image.registry === 'ecr') ||
    (trafficState.config.vpn.enabled && !options.forDown) ||
    (monitors && (ships || trafficState.config.monitoring.managedPrometheus));
  const session = needsAws ? await connectForSites(trafficState.config, options) : undefined;
  const grafana = await dashboardsLayer(trafficState.config, monitors, session, trafficState.settled);
  // From here on, monitoring.grafana says where the dashboards are, chosen or given.
  const config = withGrafanaMode(trafficState.config, grafana.mode);
  const vpn = vpnLayer(config, state, session && !session.offline ? { aws: session.provider } : {});
  const vpnNotes = (await vpn?.notes()) ?? { aws: [], onprem: [] };
  const service = deploysService || ships ? await resolveServiceImage(config, session && { provider: session.provider, offline: session.offline }) : undefined;
  const withService = (stack: SiteStack): SiteStack => {
    if (!service || !deploysService) return stack;
    if ('missing' in service) return { ...stack, notes: [...stack.notes, `the service is not deployed: ${service.missing}`] };
    const nodes = serviceStack(config, stack.site, service.image, [KUBECONFIG_ID]) as Node<unknown>[];
    return { ...stack, nodes: [...stack.nodes, ...nodes], parts: { service: nodes.map((n) => n.id), traffic: stack.parts?.traffic ?? [] } };
  };
  const withTelemetry = (stack: SiteStack): SiteStack => {
    // With monitoring (or its shipper) off, a site that is reached anyway looks for what it left.
    const leftovers = deploysService && !(monitors && ships) ? { alsoObserve: [...(stack.alsoObserve ?? []), ...(telemetryKinds(config, stack.site) as AnyKind<unknown>[])] } : {};
    if (!monitors) return { ...stack, ...leftovers };
    const aws = session?.provider;
    const telemetry = siteTelemetry({ config, site: stack.site, service, aws, awsInRun: options.sites.includes('aws'), awsOffline: session?.offline ?? true, withServiceLogs: deploysService });
    // Grafana in the cluster reads what monitoring deploys: with the site's monitoring left out, so is Grafana.
    const dashboards = telemetry.nodes.length > 0 ? (grafana.siteNodes(stack.site) as Node<unknown>[]) : [];
    const grafanaLeftovers = { alsoObserve: [...(leftovers.alsoObserve ?? stack.alsoObserve ?? []), ...grafana.leftoverKinds(stack.site)] };
    return { ...stack, ...grafanaLeftovers, notes: [...stack.notes, ...telemetry.notes], nodes: [...stack.nodes, ...(telemetry.nodes as Node<unknown>[]), ...dashboards] };
  };
  const withKube = (stack: SiteStack): SiteStack => withTelemetry(withService(stack));

  const stacks: SiteStack[] = [];
  if (options.sites.includes('aws') && session) {
    const site = awsSite(config, session.provider, state, kube, talosExtensions(config, vpn).aws);
    const notes = session.offline
      ? [`no AWS credentials found: planning against an empty account (zones assumed: ${session.zones.join(', ')}; Talos images looked up at apply time)`]
      : [];
    const base = baseStack(config, site, session.zones, vpn?.crossSite, serviceEntry(config), grafana.readers);
    const later = `<talos ${config.talos.version} image>`;
    const unresolved = { controlplane: later, worker: later, gateway: later };
    const images =
      session.offline || options.layer === 'base' || options.forDown ? unresolved : await resolveNodeImages(config, session.provider.clients, session.zones);
    const traffic = entry ? trafficAwsNodes(config, site, config.service.activeSite) : [];
    // The lake's catalog stays with the stack while the lake is read: only monitoring removes it.
    const catalog = config.monitoring.enabled ? catalogNodes(config, site) : [];
    const stack: SiteStack = {
      site: 'aws',
      title: `AWS site: cluster ${site.cluster} in ${site.region}, account ${site.account}${session.identity ? ` as ${session.identity}` : ''}`,
      notes: [...notes, ...vpnNotes.aws, ...trafficState.notes, ...grafana.notes],
      provider: site,
      nodes: [
        ...base,
        ...catalog,
        ...nodeStack(config, site, session.zones, images),
        ...(vpn?.awsNodes(site, session.zones, images) ?? []),
        ...traffic,
        ...grafana.awsNodes(site, session.zones, { node: config.aws.workers.count > 0 ? instanceId('worker', 1) : instanceId('controlplane', 1) }),
      ] as Node<unknown>[],
      offline: session.offline,
      parts: { service: [], traffic: traffic.map((n) => n.id) },
      // What a feature the config turned off left behind is still found, so `up` and `down` delete it.
      alsoObserve: [
        ...(entry && !config.traffic.dns ? dnsLeftovers() : []),
        ...(ships ? [] : [iamUserKind]),
        ...(catalog.length > 0 ? [] : catalogKinds()),
        ...(config.monitoring.enabled && config.monitoring.managedPrometheus ? [] : [ampWorkspaceKind]),
        // With monitoring off, or for `down`, the workspace an earlier run made is found and deleted.
        ...(monitors ? [] : [leftoverGrafanaWorkspaceKind]),
      ] as AnyKind<unknown>[],
    };
    stacks.push(options.layer === 'base' ? withOnly(stack, base.map((n) => n.id)) : withKube(stack));
  }
  if (options.sites.includes('onprem')) {
    const site = onpremSite(config, state, kube, talosExtensions(config, vpn).onprem, new Set(options.reinstall));
    const vpnNodes = vpn?.onpremNodes({ awsInRun: options.sites.includes('aws') });
    const stack: SiteStack = {
      site: 'onprem',
      title: `on-prem site: cluster ${site.clusterName}, ${config.onprem.nodes.length} Talos hosts in ${config.onprem.cidr} (state in ${state.root})`,
      notes: [...vpnNotes.onprem, ...(await unpinnedHosts(site))],
      provider: site,
      nodes: withDependencies([...(onpremStack(config, site) as Node<unknown>[]), ...(vpnNodes?.nodes ?? [])], vpnNodes ? [vpnNodes.gateway] : []),
      offline: false,
    };
    stacks.push(withKube(stack));
  }
  return stacks;
}

/**
 * Where the dashboards go (monitoring.grafana, or the account's default) and their layer. Without
 * monitoring there are none; what an earlier config made is still looked for.
 */
async function dashboardsLayer(config: HybridConfig, monitors: boolean, session: AwsSession | undefined, active: SiteName): Promise<GrafanaLayer> {
  if (!monitors) return grafanaLayer(config, 'none', []);
  const choice = await chooseGrafana(config, session && { ssoAdmin: session.provider.clients.ssoAdmin, offline: session.offline });
  const dashboards = choice.mode === 'none' ? [] : await readDashboardFiles();
  return grafanaLayer(withGrafanaMode(config, choice.mode), choice.mode, dashboards, { active, ...(choice.note ? { notes: [choice.note] } : {}) });
}

function withGrafanaMode(config: HybridConfig, mode: GrafanaMode): HybridConfig {
  return { ...config, monitoring: { ...config.monitoring, grafana: mode } };
}

/** What the layers above add to each site's Talos configs: the VPN's documents, and where Talos sends its logs. */
export function talosExtensions(config: HybridConfig, vpn: VpnLayer | undefined): { aws?: ConfigExtension; onprem?: ConfigExtension } {
  const shipsTalosLogs = config.monitoring.enabled && config.monitoring.shipper.enabled;
  if (!shipsTalosLogs) return { ...(vpn ? { aws: vpn.awsExtension, onprem: vpn.onpremExtension } : {}) };
  return { aws: withTalosLogs(vpn?.awsExtension), onprem: withTalosLogs(vpn?.onpremExtension) };
}

/**
 * The config with the active site where traffic really goes: `--to` of a failover, else the last
 * failover's record, else service.activeSite; and what to tell the user about it.
 */
async function trafficNotes(config: HybridConfig, state: StateDir, override?: SiteName): Promise<{ config: HybridConfig; notes: string[]; settled: SiteName }> {
  const record = await readActiveSite(state);
  const unfinished = await readJournal(state);
  const notes = [
    ...(override ? [] : [disagreement(config, record)]),
    noEntryReason(config),
    unfinished && !override ? `a failover to ${unfinished.to} started at ${unfinished.startedAt} did not finish: run \`hybridctl failover --to ${unfinished.to}\` to finish it` : undefined,
  ].filter((n): n is string => n !== undefined);
  const site = override ?? record?.site;
  // Where traffic is before a failover run moves it: what lives on the active site but is not part of a failover stays there until `up`.
  const settled = record?.site ?? config.service.activeSite;
  return { config: site ? withActiveSite(config, site) : config, notes, settled };
}

export interface VpnCheckOptions {
  deadlineSeconds: number;
  report(message: string): void;
  signal?: AbortSignal;
}

/**
 * The VPN check across both sites (`vpn check`, and `up` after it changed the VPN), or undefined
 * when the config turns the VPN off. AWS is asked when credentials allow; without them the AWS
 * side is reported as unreadable rather than failing the whole check.
 */
export async function checkVpnSites(config: HybridConfig, options: PipelineOptions, check: VpnCheckOptions): Promise<VpnCheckReport | undefined> {
  const state = StateDir.forConfig(options.configFile, config.metadata.name, options.stateDir);
  const session = await connectForSites(config, { ...options, sites: ['onprem'], allowOffline: false });
  const aws = session && !session.offline ? session.provider : undefined;
  const vpn = vpnLayer(config, state, aws ? { aws } : {});
  if (!vpn) return undefined;
  return checkVpn({
    config,
    vpn,
    ...(aws ? { aws: awsSite(config, aws, state, {}, talosExtensions(config, vpn).aws) } : {}),
    onprem: onpremSite(config, state, {}, talosExtensions(config, vpn).onprem),
    ...check,
  });
}

/**
 * The sites as `status` reads them, with no observation and no lock: each site's kubeconfig and
 * Talos secrets from the state directory (so the AWS site is readable without AWS credentials),
 * and AWS itself when credentials allow (the load balancer, the lake).
 */
export async function statusAccess(given: HybridConfig, options: PipelineOptions): Promise<StatusAccess> {
  const state = StateDir.forConfig(options.configFile, given.metadata.name, options.stateDir);
  const config = (await trafficNotes(given, state)).config;
  const session = await connectForSites(config, { ...options, sites: ['aws'], allowOffline: true });
  const aws = session && !session.offline ? session.provider : undefined;
  const vpn = vpnLayer(config, state, aws ? { aws } : {});
  const extensions = talosExtensions(config, vpn);
  const sites = {
    ...(session ? { aws: awsSite(config, session.provider, state, {}, extensions.aws) } : {}),
    onprem: onpremSite(config, state, {}, extensions.onprem),
  };
  return { config, state, sites, ...(aws ? { aws } : {}) };
}

/**
 * The AWS session: required when the AWS site is in the run; for an on-prem run that only needs
 * ECR (the service image), missing credentials or an unreachable AWS leave the service undeployed.
 */
async function connectForSites(config: HybridConfig, options: PipelineOptions): Promise<AwsSession | undefined> {
  const connect = () =>
    sharedSession(config, {
      ...(options.profile ? { profile: options.profile } : {}),
      ...(options.region ? { region: options.region } : {}),
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    });
  if (options.sites.includes('aws')) {
    const session = await connect();
    return options.allowOffline ? session : requireOnline(session);
  }
  try {
    const session = await connect();
    return session.offline && !options.allowOffline ? undefined : session;
  } catch {
    return undefined;
  }
}

/** Nodes with more dependencies, added by a layer above (the on-prem gateway waits for the VPN's keys and peer). */
function withDependencies(nodes: Node<unknown>[], extra: readonly { id: string; dependsOn: string[] }[]): Node<unknown>[] {
  return nodes.map((n) => {
    const more = extra.filter((e) => e.id === n.id).flatMap((e) => e.dependsOn);
    return more.length > 0 ? { ...n, dependsOn: [...n.dependsOn, ...more] } : n;
  });
}

/** A stack cut down to some nodes and everything they depend on (`image push` needs only the repository). */
export function withOnly(stack: SiteStack, ids: readonly string[]): SiteStack {
  const byId = new Map(stack.nodes.map((n) => [n.id, n]));
  const keep = new Set<string>();
  const visit = (id: string) => {
    if (keep.has(id)) return;
    keep.add(id);
    for (const dep of byId.get(id)?.dependsOn ?? []) visit(dep);
  };
  for (const id of ids) visit(id);
  const { alsoObserve: _, ...rest } = stack;
  return { ...rest, nodes: stack.nodes.filter((n) => keep.has(n.id)), keep: new Set(stack.nodes.map((n) => `${n.kind.kind}/${n.id}`)) };
}

/**
 * Only these nodes, their dependencies on other nodes dropped: for work that acts through what
 * already exists (the service through the site's kubeconfig file), without observing the rest.
 */
export function detached(stack: SiteStack, ids: readonly string[]): SiteStack {
  const wanted = new Set(ids);
  const nodes = stack.nodes.filter((n) => wanted.has(n.id)).map((n) => ({ ...n, dependsOn: n.dependsOn.filter((d) => wanted.has(d)) }));
  const { alsoObserve: _, ...rest } = stack;
  return { ...rest, nodes, keep: new Set(stack.nodes.map((n) => `${n.kind.kind}/${n.id}`)) };
}

/**
 * A plan that changes only `ids`: what they depend on is used as it is, and must exist. Orphans
 * are left for `up`.
 */
export function restrictPlan(plan: SitePlan, ids: readonly string[]): SitePlan {
  const wanted = new Set(ids);
  const changes = plan.plan.changes.flatMap((c) => {
    if (wanted.has(c.id) || c.action === 'noop') return [c];
    if (c.action === 'delete') return [];
    if (!c.found) throw new ActionError(`${plan.site} site: ${c.kind} ${c.id} does not exist yet; run \`hybridctl up\` first`);
    return [{ ...c, action: 'noop' as const, changes: [] }];
  });
  return { ...plan, plan: { changes } };
}

/**
 * Observes each site and plans it. A site that cannot be observed is reported with its plan, so
 * the other still converges; when no site can be, that is the run's error.
 */
export async function planStacks(stacks: readonly SiteStack[], mode: 'up' | 'down'): Promise<SitePlan[]> {
  const plans: SitePlan[] = await Promise.all(
    stacks.map(async (stack) => {
      const observation = new Observation(stack.provider, { empty: stack.offline });
      try {
        const also = stack.alsoObserve ? { alsoObserve: stack.alsoObserve } : {};
        const plan = mode === 'up' ? await planUp(stack.nodes, observation, { ...(stack.keep ? { keep: stack.keep } : {}), ...also }) : await planDown([...stack.nodes], observation, also);
        return { ...stack, plan };
      } catch (error) {
        if (error instanceof UsageError) throw error;
        return { ...stack, plan: { changes: [] }, error };
      }
    }),
  );
  const failed = plans.filter((p) => p.error !== undefined);
  if (failed.length > 0 && failed.length === plans.length) {
    if (failed.length === 1) throw failed[0]?.error;
    throw new ActionError(failed.map((p) => `${p.site} site: ${messageOf(p.error)}`).join('\n'));
  }
  return plans;
}

export interface ApplyOptions {
  signal: AbortSignal;
  onEvent: (event: EngineEvent) => void;
}

/** The changes of every site, keyed `<site>:<key>` as applyPlans reports them (both sites have a kubeconfig, say). */
export function siteChanges(plans: readonly SitePlan[]): (PlannedChange<unknown> & { site: SiteName })[] {
  return plans.flatMap((p) => p.plan.changes.filter(isChange).map((c) => ({ ...c, key: `${p.site}:${c.key}`, site: p.site })));
}

/** Applies each site's plan; sites are independent, so one failing does not stop the other. */
export async function applyPlans(plans: readonly SitePlan[], options: ApplyOptions): Promise<Outcome[]> {
  return Promise.all(
    plans.map((p) => execute(p.plan, p.provider, { signal: options.signal, onEvent: (event) => options.onEvent({ ...event, key: `${p.site}:${event.key}` }) })),
  );
}

/**
 * Hosts whose first configuration is still to come and whose maintenance certificate is not
 * pinned: that configuration goes to whatever answers on the address.
 */
async function unpinnedHosts(site: OnpremSite): Promise<string[]> {
  const configured = await configuredAddresses(site.state, site.site);
  const unpinned = site.nodes.filter((n) => !n.fingerprint && (!configured.has(n.address) || site.reinstall?.has(n.address))).map((n) => n.address);
  if (unpinned.length === 0) return [];
  return [
    `no fingerprint pinned for ${unpinned.join(', ')}: the first configuration (with the cluster's CA keys) goes to whatever answers on that address. ` +
      'Pin each host: set onprem.nodes[].fingerprint to the certificate fingerprint its console shows in maintenance mode',
  ];
}
