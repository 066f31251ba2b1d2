import type { HybridConfig, SiteName } from './core/config/schema.ts';
import { type EngineEvent, type Outcome, execute } from './core/engine/execute.ts';
import type { Node } from './core/engine/model.ts';
import { Observation, type Plan, planDown, planUp } from './core/engine/plan.ts';
import { baseStack } from './providers/aws/base-stack.ts';
import { nodeStack } from './providers/aws/node-stack.ts';
import { connectAws } from './providers/aws/session.ts';
import { resolveNodeImages } from './providers/aws/talos-image.ts';
import { awsSite } from './providers/aws/talos-site.ts';
import { onpremSite } from './providers/metal/site.ts';
import { onpremStack } from './providers/metal/stack.ts';
import { StateDir } from './core/state.ts';

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
  /** `down` needs no Talos images. */
  forDown?: boolean;
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
}

export interface SitePlan extends SiteStack {
  plan: Plan<unknown>;
}

/** What each site consists of, in the order `up` builds them (`down` goes the other way). */
export async function loadStacks(config: HybridConfig, options: PipelineOptions): Promise<SiteStack[]> {
  const stacks: SiteStack[] = [];
  if (options.sites.includes('aws')) {
    const session = await connectAws(config, {
      allowOffline: options.allowOffline,
      ...(options.profile ? { profile: options.profile } : {}),
      ...(options.region ? { region: options.region } : {}),
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    });
    const state = StateDir.forConfig(options.configFile, config.metadata.name, options.stateDir);
    const site = awsSite(config, session.provider, state);
    const notes = session.offline
      ? [`no AWS credentials found: planning against an empty account (zones assumed: ${session.zones.join(', ')}; Talos images looked up at apply time)`]
      : [];
    const base = baseStack(config, site, session.zones);
    const unresolved = { controlplane: `<talos ${config.talos.version} image>`, worker: `<talos ${config.talos.version} image>` };
    const images =
      session.offline || options.layer === 'base' || options.forDown ? unresolved : await resolveNodeImages(config, session.provider.clients, session.zones);
    const stack: SiteStack = {
      site: 'aws',
      title: `AWS site: cluster ${site.cluster} in ${site.region}, account ${site.account}${session.identity ? ` as ${session.identity}` : ''}`,
      notes,
      provider: site,
      nodes: [...base, ...nodeStack(config, site, session.zones, images)] as Node<unknown>[],
      offline: session.offline,
    };
    stacks.push(options.layer === 'base' ? withOnly(stack, base.map((n) => n.id)) : stack);
  }
  if (options.sites.includes('onprem')) {
    const state = StateDir.forConfig(options.configFile, config.metadata.name, options.stateDir);
    const site = onpremSite(config, state);
    stacks.push({
      site: 'onprem',
      title: `on-prem site: cluster ${site.clusterName}, ${config.onprem.nodes.length} Talos hosts in ${config.onprem.cidr} (state in ${state.root})`,
      notes: [],
      provider: site,
      nodes: onpremStack(config, site) as Node<unknown>[],
      offline: false,
    });
  }
  return stacks;
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
  return { ...stack, nodes: stack.nodes.filter((n) => keep.has(n.id)), keep: new Set(stack.nodes.map((n) => `${n.kind.kind}/${n.id}`)) };
}

export async function planStacks(stacks: readonly SiteStack[], mode: 'up' | 'down'): Promise<SitePlan[]> {
  return Promise.all(
    stacks.map(async (stack) => {
      const observation = new Observation(stack.provider, { empty: stack.offline });
      const plan = mode === 'up' ? await planUp(stack.nodes, observation, stack.keep ? { keep: stack.keep } : {}) : await planDown([...stack.nodes], observation);
      return { ...stack, plan };
    }),
  );
}

export interface ApplyOptions {
  signal: AbortSignal;
  onEvent: (event: EngineEvent) => void;
}

/** Applies each site's plan; sites are independent, so one failing does not stop the other. */
export async function applyPlans(plans: readonly SitePlan[], options: ApplyOptions): Promise<Outcome[]> {
  return Promise.all(plans.map((p) => execute(p.plan, p.provider, { signal: options.signal, onEvent: options.onEvent })));
}
