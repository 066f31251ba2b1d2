import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Deployment } from '@kubernetes/client-node';
import type { ResourceKind } from '../core/engine/model.ts';
import { ActionError } from '../core/errors.ts';
import { requireClient } from './access.ts';
import type { KubeClient } from './client.ts';
import { ANNOTATION_HASH, type KubeSite, type ObjectState, kubeObjectKind } from './object-kind.ts';

export interface RolloutSpec {
  namespace: string;
  name: string;
  /** The applied-hash the Deployment will carry once applied: a rollout of an older one does not count. */
  hash: string;
}

export interface RolloutState {
  hash: string;
  generation: number;
  observedGeneration: number;
  replicas: number;
  updated: number;
  available: number;
  /** Pods of every template, old ones still terminating included. */
  total: number;
}

/** The rollout of a Deployment's id: `rollout/<namespace>/<name>`. */
export function rolloutId(namespace: string, name: string): string {
  return `rollout/${namespace}/${name}`;
}

function stateOf(d: V1Deployment): RolloutState {
  return {
    hash: d.metadata?.annotations?.[ANNOTATION_HASH] ?? '',
    generation: d.metadata?.generation ?? 0,
    observedGeneration: d.status?.observedGeneration ?? 0,
    replicas: d.spec?.replicas ?? 1,
    updated: d.status?.updatedReplicas ?? 0,
    available: d.status?.availableReplicas ?? 0,
    total: d.status?.replicas ?? 0,
  };
}

export function rolledOut(s: RolloutState): boolean {
  return s.observedGeneration >= s.generation && s.updated >= s.replicas && s.available >= s.replicas && s.total <= s.updated;
}

/**
 * A Deployment rolled out: its controller has seen the current generation, every replica is
 * updated and available, no pod of an older template is left, and what is rolled out is what the templates ask for now. Waiting
 * reports progress; a timeout names the stuck pods and their last events.
 */
export const rolloutKind: ResourceKind<RolloutSpec, RolloutState, KubeSite> = {
  kind: 'rollout',
  condition: true,

  async observe(ctx) {
    // The Deployments as their own kind read them: no second list call.
    const deployments = await ctx.observe<ObjectState>(kubeObjectKind('apps/v1', 'Deployment'));
    return deployments.map(({ state: { live } }) => {
      const d = live as V1Deployment & typeof live;
      const state = stateOf(d);
      return { id: rolloutId(d.metadata.namespace ?? '', d.metadata.name), ref: `${state.available}/${state.replicas} available`, state };
    });
  },

  diff(state, spec) {
    if (state.hash !== spec.hash) return { changes: [{ field: 'rolled out', from: state.hash || 'an older template', to: spec.hash }] };
    if (!rolledOut(state)) return { changes: [{ field: 'available', from: `${state.available}/${state.replicas}`, to: `${state.replicas}/${state.replicas}` }] };
    return { changes: [] };
  },

  describe(spec) {
    return { wait: `every replica of ${spec.namespace}/${spec.name} updated and available` };
  },

  async create(spec, ctx) {
    const state = await waitForRollout(await requireClient(ctx.provider), ctx.provider, spec, ctx.report, ctx.signal);
    return { id: ctx.id, ref: `${state.available}/${state.replicas} available`, state };
  },

  async update(_found, spec, _changes, ctx) {
    return this.create(spec, ctx);
  },

  async destroy() {},

  outputs(found) {
    return { available: String(found.state.available) };
  },
};

async function waitForRollout(client: KubeClient, site: KubeSite, spec: RolloutSpec, report: (m: string) => void, signal: AbortSignal): Promise<RolloutState> {
  const deadline = Date.now() + site.rolloutMs;
  const ref = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: spec.name, namespace: spec.namespace } };
  for (;;) {
    const deployment = await client.get<V1Deployment & typeof ref>(ref);
    if (deployment) {
      const state = stateOf(deployment);
      if (rolledOut(state) && state.hash === spec.hash) return state;
      const stalled = deployment.status?.conditions?.find((c) => c.type === 'Progressing' && c.reason === 'ProgressDeadlineExceeded');
      const old = state.total > state.updated ? `, ${state.total - state.updated} old terminating` : '';
      report(`rolling out ${spec.namespace}/${spec.name}: ${state.updated}/${state.replicas} updated, ${state.available} available${old}`);
      if (stalled || Date.now() > deadline) throw await stuck(client, site, spec, state, stalled ? 'stopped progressing' : `did not finish within ${Math.round(site.rolloutMs / 1000)}s`);
    } else {
      report(`waiting for Deployment ${spec.namespace}/${spec.name} to exist`);
      if (Date.now() > deadline) throw new ActionError(`${site.site} cluster: Deployment ${spec.namespace}/${spec.name} does not exist`);
    }
    await sleep(1_000, undefined, { signal });
  }
}

/** What a rollout waits on: the pods that are not ready, and the last thing that happened to each. */
async function stuck(client: KubeClient, site: KubeSite, spec: RolloutSpec, state: RolloutState, why: string): Promise<ActionError> {
  const pods = await client.pods(spec.namespace, `app.kubernetes.io/name=${spec.name}`);
  const notReady = pods.filter((p) => !p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
  const details = await Promise.all(
    notReady.slice(0, 5).map(async (p) => {
      const events = await client.events(spec.namespace, p.metadata?.name ?? '');
      const last = events.at(-1);
      return `${p.metadata?.name} (${p.status?.phase ?? 'unknown'}${last ? `; last event: ${last.reason}: ${last.message}` : ''})`;
    }),
  );
  return new ActionError(
    `${site.site} cluster: the rollout of ${spec.namespace}/${spec.name} ${why}: ${state.available}/${state.replicas} available${details.length ? `; not ready: ${details.join('; ')}` : ''}`,
    'look at the pods with kubectl describe (the kubeconfig comes from `hybridctl kubeconfig`)',
  );
}
