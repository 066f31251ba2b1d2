import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ActContext, Found, ResourceKind, Val } from '../../core/engine/model.ts';
import { known } from '../../core/engine/model.ts';
import type { TalosCredentials } from '../client/client.ts';
import { TalosError, TalosUnreachableError } from '../client/errors.ts';
import { adminCredentials } from '../credentials.ts';
import type { Role } from '../machine-config.ts';
import { probeNode } from '../probe.ts';
import type { SecretsBundle } from '../secrets.ts';
import { type TalosNode, type TalosSite, connect, withClient } from '../site.ts';
import { forgetConfigured, recordConfigured } from '../trust.ts';
import { readSiteBundle, talosSecretsKind } from './secrets.ts';

export interface NodeSpec {
  address: Val;
  role: Role;
  /** Ties the node to the site's bundle: a new bundle means new configs. */
  clusterId: Val;
  /** The Kubernetes API endpoint its config names. */
  endpoint: Val;
  /** Where Talos calls go through (AWS: the load balancer); undefined: straight to the node. */
  via: Val | undefined;
  fingerprint?: string;
}

export interface NodeState {
  address: string;
  role: Role;
  /** How it was reached (AWS: through the load balancer). */
  via?: string;
  /** What applying our config would change, from a dry run; empty when nothing. */
  pending: string;
}

type Ctx = ActContext<TalosSite>;

/**
 * One Talos machine, found when it is configured with this cluster's CA; a dry run says whether
 * its config differs. Nodes in maintenance mode (or not answering yet) are created: configured,
 * or waited for until talos.timeouts.reachSeconds and then reported with what to check.
 */
export const talosNodeKind: ResourceKind<NodeSpec, NodeState, TalosSite> = {
  kind: 'talos-node',

  async observe(ctx) {
    const site = ctx.provider;
    const bundle = (await ctx.observe(talosSecretsKind))[0]?.state.bundle;
    const creds = bundle ? await adminCredentials(bundle) : undefined;
    const view = await site.view(ctx);
    const found = await Promise.all(
      view.nodes.map(async (node): Promise<Found<NodeState> | undefined> => {
        const probe = await probeNode(site, node, creds, view.via);
        if (probe.mode !== 'configured' || !bundle || !creds) return undefined;
        const config = await site.configFor(node, bundle, view.endpoint);
        const [result] = await withClient(connect(node, creds, site.timeouts, { via: view.via }), (c) => c.applyConfiguration(config, { mode: 'AUTO', dryRun: true }));
        const pending = pendingChanges(result?.modeDetails ?? '');
        return { id: node.id, ref: node.address, state: { address: node.address, role: node.role, ...(view.via ? { via: view.via } : {}), pending } };
      }),
    );
    return found.filter((f): f is Found<NodeState> => f !== undefined);
  },

  diff(state, spec) {
    if (state.address !== spec.address) return { changes: [{ field: 'address', from: state.address, to: spec.address }] };
    return { changes: state.pending ? [{ field: 'config', from: 'applied', to: state.pending }] : [] };
  },

  describe(spec) {
    return { address: spec.address, role: spec.role, config: 'this cluster\'s machine config' };
  },

  async create(spec, ctx) {
    return converge(spec, ctx);
  },

  async update(_found, spec, _changes, ctx) {
    return converge(spec, ctx);
  },

  async destroy(found, ctx) {
    const site = ctx.provider;
    const bundle = await readBundle(site);
    if (!bundle) return;
    const creds = await adminCredentials(bundle);
    const { via, role } = found.state;
    const node = { address: found.state.address };
    if (site.platform === 'cloud') {
      // The instance goes next; a control plane leaving a cluster that stays must leave etcd first.
      if (ctx.deleting !== 'orphan' || role !== 'controlplane') return;
      ctx.report('leaving etcd');
      await withClient(connect(node, creds, site.timeouts, { via }), (c) => c.reset({ graceful: true, reboot: false }));
      return;
    }
    ctx.report('resetting to maintenance mode');
    await withClient(connect(node, creds, site.timeouts, { via }), (c) => c.reset({ graceful: false, reboot: true }));
    await forgetConfigured(site, node.address);
    ctx.report('waiting for it to come back in maintenance mode');
    await withClient(connect(node, 'maintenance', site.timeouts), (c) => c.whileUnavailable(() => c.version(), site.timeouts.installMs, ctx.report, 'maintenance mode'));
  },

  outputs(found) {
    return { address: found.state.address };
  },
};

async function readBundle(site: TalosSite): Promise<SecretsBundle | undefined> {
  return (await readSiteBundle(site))?.bundle;
}

/** Waits for a node to answer, configures it if it is in maintenance mode, or applies a changed config. */
async function converge(spec: NodeSpec, ctx: Ctx): Promise<Found<NodeState>> {
  const site = ctx.provider;
  const node: TalosNode = { id: ctx.id, address: known(spec.address), role: spec.role, ...(spec.fingerprint ? { fingerprint: spec.fingerprint } : {}) };
  const via = spec.via === undefined ? undefined : known(spec.via);
  const bundle = await readBundle(site);
  if (!bundle) throw new Error(`the ${site.site} secrets bundle is missing`);
  const creds = await adminCredentials(bundle);
  const probe = await waitUntilReachable(site, node, creds, via, ctx);
  // After it answers: a layer above may ask the node itself what goes into its config.
  const config = await site.configFor(node, bundle, known(spec.endpoint));
  if (probe === 'maintenance') {
    ctx.report('applying the config (maintenance mode)');
    await withClient(connect(node, 'maintenance', site.timeouts), (c) => c.applyConfiguration(config, { mode: 'REBOOT' }));
  } else {
    ctx.report('checking its config');
    const [dryRun] = await withClient(connect(node, creds, site.timeouts, { via }), (c) => c.applyConfiguration(config, { mode: 'AUTO', dryRun: true }));
    if (pendingChanges(dryRun?.modeDetails ?? '')) {
      ctx.report('applying the changed config');
      await withClient(connect(node, creds, site.timeouts, { via }), (c) => c.applyConfiguration(config, { mode: 'AUTO' }));
    }
  }
  ctx.report('waiting for it to answer configured');
  await withClient(connect(node, creds, site.timeouts, { via }), (c) => c.whileUnavailable(() => c.version(), site.timeouts.installMs, ctx.report, 'the node to install Talos and reboot')).catch(
    (error: unknown) => {
      if (error instanceof TalosError) throw new TalosError(node.address, `did not come back configured: ${error.message}`, error.hint, error.code, error);
      throw error;
    },
  );
  if (site.trustOnFirstUse) await recordConfigured(site, node.address);
  return { id: node.id, ref: node.address, state: { address: node.address, role: node.role, ...(via ? { via } : {}), pending: '' } };
}

async function waitUntilReachable(site: TalosSite, node: TalosNode, creds: TalosCredentials, via: string | undefined, ctx: Ctx): Promise<'maintenance' | 'configured'> {
  const deadline = Date.now() + site.timeouts.reachMs;
  for (;;) {
    const probe = await probeNode(site, node, creds, via);
    if (probe.mode !== 'unreachable') return probe.mode;
    if (Date.now() > deadline) {
      throw new TalosUnreachableError(
        node.address,
        `did not answer on ${node.address}:50000 within ${Math.round(site.timeouts.reachMs / 1000)}s`,
        site.platform === 'cloud'
          ? 'is the instance running and booted from the Talos image? check its system log in the EC2 console'
          : 'is it booted from Talos media and in maintenance mode, and is port 50000 reachable from here?',
      );
    }
    ctx.report('waiting for Talos to answer (booting)');
    await sleep(2_000, undefined, { signal: ctx.signal });
  }
}

/**
 * The config changes a dry-run apply reports, or '' when there are none. Talos ends its
 * summary with "Config diff:" and the unified diff, or "No changes." when there is none.
 */
export function pendingChanges(modeDetails: string): string {
  const diff = modeDetails.split(/Config diff:\s*/)[1]?.trim() ?? modeDetails.trim();
  if (diff === '' || /^No changes\.?$/i.test(diff)) return '';
  const changed = diff.split('\n').filter((l) => /^[+-][^+-]/.test(l)).length;
  return `${changed} changed lines (sha256 ${createHash('sha256').update(diff).digest('hex').slice(0, 12)})`;
}
