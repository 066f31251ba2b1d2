import { createHash } from 'node:crypto';
import type { Found, ResourceKind, Val } from '../../core/engine/model.ts';
import { TalosError, TalosUnreachableError } from '../client/errors.ts';
import { adminCredentials } from '../credentials.ts';
import type { Role } from '../machine-config.ts';
import { probeNode } from '../probe.ts';
import type { SecretsBundle } from '../secrets.ts';
import { type TalosNode, type TalosSite, connect, withClient } from '../site.ts';
import { readSiteBundle, talosSecretsKind } from './secrets.ts';

export interface NodeSpec {
  address: string;
  role: Role;
  /** Ties the node to the site's bundle: a new bundle means new configs. */
  clusterId: Val;
}

export interface NodeState {
  address: string;
  /** What applying our config would change, from a dry run; empty when nothing. */
  pending: string;
}

/**
 * One Talos machine, found when it is configured with this cluster's CA; a dry run says whether
 * its config differs. Nodes in maintenance mode (or not answering) are created: configured, or
 * waited for until talos.timeouts.reachSeconds and then reported with what to check.
 */
export const talosNodeKind: ResourceKind<NodeSpec, NodeState, TalosSite> = {
  kind: 'talos-node',

  async observe(ctx) {
    const site = ctx.provider;
    const bundle = (await ctx.observe(talosSecretsKind))[0]?.state.bundle;
    const creds = bundle ? await adminCredentials(bundle) : undefined;
    const found = await Promise.all(
      site.nodes.map(async (node): Promise<Found<NodeState> | undefined> => {
        const probe = await probeNode(site, node, creds);
        if (probe.mode !== 'configured' || !bundle || !creds) return undefined;
        const config = await site.configFor(node, bundle);
        const [result] = await withClient(connect(node, creds, site.timeouts), (c) => c.applyConfiguration(config, { mode: 'AUTO', dryRun: true }));
        return { id: node.id, ref: node.address, state: { address: node.address, pending: pendingChanges(result?.modeDetails ?? '') } };
      }),
    );
    return found.filter((f): f is Found<NodeState> => f !== undefined);
  },

  diff(state) {
    return { changes: state.pending ? [{ field: 'config', from: 'applied', to: state.pending }] : [] };
  },

  describe(spec) {
    return { address: spec.address, role: spec.role, config: 'install Talos with this cluster\'s config' };
  },

  async create(spec, ctx) {
    return converge(spec, ctx);
  },

  async update(_found, spec, _changes, ctx) {
    return converge(spec, ctx);
  },

  async destroy(found, ctx) {
    const site = ctx.provider;
    const node = nodeOf(site, found.state.address);
    const bundle = await readBundle(site);
    if (!bundle) return;
    const creds = await adminCredentials(bundle);
    ctx.report('resetting to maintenance mode');
    await withClient(connect(node, creds, site.timeouts), (c) => c.reset({ graceful: false, reboot: true }));
    ctx.report('waiting for it to come back in maintenance mode');
    await withClient(connect(node, 'maintenance', site.timeouts), (c) => c.whileUnavailable(() => c.version(), site.timeouts.installMs, ctx.report, 'maintenance mode'));
  },

  outputs(found) {
    return { address: found.state.address };
  },
};

function nodeOf(site: TalosSite, address: string): TalosNode {
  const node = site.nodes.find((n) => n.address === address);
  if (!node) throw new Error(`no node ${address} in the ${site.site} inventory`);
  return node;
}

async function readBundle(site: TalosSite): Promise<SecretsBundle | undefined> {
  return (await readSiteBundle(site))?.bundle;
}

/** Applies the config whatever state the node is in now, then waits until it answers with our CA. */
async function converge(spec: NodeSpec, ctx: Parameters<ResourceKind<NodeSpec, NodeState, TalosSite>['create']>[1]): Promise<Found<NodeState>> {
  const site = ctx.provider;
  const node = nodeOf(site, spec.address);
  const bundle = await readBundle(site);
  if (!bundle) throw new Error(`the ${site.site} secrets bundle is missing`);
  const creds = await adminCredentials(bundle);
  const config = await site.configFor(node, bundle);

  let probe = await probeNode(site, node, creds);
  const deadline = Date.now() + site.timeouts.reachMs;
  while (probe.mode === 'unreachable' && Date.now() < deadline) {
    ctx.report('waiting for the node to answer on the Talos API');
    await new Promise((r) => setTimeout(r, 2_000));
    probe = await probeNode(site, node, creds);
  }
  if (probe.mode === 'unreachable') {
    throw new TalosUnreachableError(node.address, `did not answer on ${node.address}:50000 within ${Math.round(site.timeouts.reachMs / 1000)}s`, 'is it booted from Talos media and in maintenance mode, and is port 50000 reachable from here?');
  }

  if (probe.mode === 'maintenance') {
    ctx.report('applying the config (maintenance mode)');
    await withClient(connect(node, 'maintenance', site.timeouts), (c) => c.applyConfiguration(config, { mode: 'REBOOT' }));
  } else {
    ctx.report('applying the changed config');
    await withClient(connect(node, creds, site.timeouts), (c) => c.applyConfiguration(config, { mode: 'AUTO' }));
  }
  ctx.report('waiting for it to come up configured (install and reboot)');
  await withClient(connect(node, creds, site.timeouts), (c) =>
    c.whileUnavailable(() => c.version(), site.timeouts.installMs, ctx.report, 'the node to install Talos and reboot'),
  ).catch((error: unknown) => {
    if (error instanceof TalosError) throw new TalosError(node.address, `did not come back configured: ${error.message}`, error.hint, error.code, error);
    throw error;
  });
  return { id: node.id, ref: node.address, state: { address: node.address, pending: '' } };
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
