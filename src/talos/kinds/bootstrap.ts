import type { ResourceKind, Val } from '../../core/engine/model.ts';
import { known } from '../../core/engine/model.ts';
import { TalosError } from '../client/errors.ts';
import { adminCredentials } from '../credentials.ts';
import { waitHealthy } from '../health.ts';
import { type TalosSite, connect, withClient } from '../site.ts';
import { readSiteBundle } from './secrets.ts';

export const BOOTSTRAP_ID = 'etcd-bootstrap';

export interface BootstrapSpec {
  /** The control plane that bootstraps etcd: the first one. */
  node: Val;
  /** Every control plane: all must become etcd members. */
  controlPlanes: Val[];
  /** Where Talos calls go through (AWS: the load balancer). */
  via: Val | undefined;
}

export interface BootstrapState {
  members: string[];
}

/** Talos refuses a second bootstrap with this (etcd already has data): it means the work is done. */
const ALREADY = /already bootstrapped|etcd data directory is not empty|AlreadyExists/i;

/**
 * Etcd bootstrapped exactly once: found when the first control plane lists etcd members, so a
 * re-run after any interruption never bootstraps again.
 */
export const etcdBootstrapKind: ResourceKind<BootstrapSpec, BootstrapState, TalosSite> = {
  kind: 'etcd-bootstrap',

  async observe(ctx) {
    const site = ctx.provider;
    const bundle = (await readSiteBundle(site))?.bundle;
    const view = await site.view(ctx);
    const first = view.nodes.find((n) => n.role === 'controlplane');
    if (!bundle || !first) return [];
    const creds = await adminCredentials(bundle);
    try {
      const [message] = await withClient(connect(first, creds, site.timeouts, { via: view.via }), (c) => c.etcdMembers());
      const members = (message?.members ?? []).map((m) => m.hostname);
      return members.length > 0 ? [{ id: BOOTSTRAP_ID, ref: first.address, state: { members } }] : [];
    } catch {
      // Not configured yet, not bootstrapped, or rebooting: all mean "not bootstrapped as far as we can tell".
      return [];
    }
  },

  diff() {
    return { changes: [] };
  },

  describe(spec) {
    return { on: spec.node, then: 'wait until every control plane is an etcd member with healthy services' };
  },

  async create(spec, ctx) {
    const site = ctx.provider;
    const bundle = (await readSiteBundle(site))?.bundle;
    if (!bundle) throw new Error(`cannot bootstrap ${site.site}: no secrets bundle`);
    const creds = await adminCredentials(bundle);
    const first = { address: known(spec.node) };
    const via = spec.via === undefined ? undefined : known(spec.via);
    const controlPlanes = spec.controlPlanes.map(known);
    ctx.report(`bootstrapping etcd on ${first.address}`);
    await withClient(connect(first, creds, site.timeouts, { via }), (c) => c.whileUnavailable(() => c.bootstrap(), site.timeouts.installMs, ctx.report)).catch(
      (error: unknown) => {
        if (!(error instanceof TalosError && ALREADY.test(error.message))) throw error;
      },
    );
    await waitHealthy(site, creds, controlPlanes, via, ctx.report);
    return { id: ctx.id, ref: first.address, state: { members: controlPlanes } };
  },

  async update(found) {
    return found;
  },

  /** Etcd goes with the nodes. */
  async destroy() {},

  outputs(found) {
    return { members: found.state.members.join(',') };
  },
};
