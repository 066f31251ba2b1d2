import type { Node, Refs } from '../core/engine/model.ts';
import type { KubeObject } from './client.ts';
import { ANNOTATION_HASH, type KubeSite, kubeObjectKind, objectId } from './object-kind.ts';
import { rolloutId, rolloutKind } from './rollout.ts';

const WORKLOADS = new Set(['Deployment', 'DaemonSet']);
/** What a workload's pods mount or run as: created first, so the pods start at once. */
const POD_INPUTS = new Set(['ServiceAccount', 'ConfigMap', 'PersistentVolumeClaim']);

/** Objects whose content takes outputs of other nodes (an AWS endpoint, say): rendered again from them at apply time. */
export interface RenderedFrom {
  dependsOn: readonly string[];
  /** The objects whose content takes those outputs; the others are as given. */
  ids: ReadonlySet<string>;
  render(refs: Refs): KubeObject[];
}

/**
 * The ids of the objects that take another node's outputs: those that differ between two
 * renderings with different stand-ins for the outputs (`RenderedFrom.ids`).
 */
export function idsTakingOutputs(objects: readonly KubeObject[], other: readonly KubeObject[]): Set<string> {
  return new Set(objects.filter((o, i) => JSON.stringify(o) !== JSON.stringify(other[i])).map(objectId));
}

/**
 * Rendered objects as engine nodes: each applied with server-side apply (pruned when dropped),
 * after `after` (the site's kubeconfig) and its namespace; workloads after what their pods use
 * and `workloadDeps`; each Deployment's rollout waited for. With `from`, `objects` gives the
 * ids and order, and each node's object is taken from `from.render` with the refs of its nodes.
 */
export function objectNodes(objects: readonly KubeObject[], after: readonly string[], workloadDeps: readonly string[] = [], from?: RenderedFrom): Node<KubeSite>[] {
  const namespaceIds = new Map(objects.filter((o) => o.kind === 'Namespace').map((o) => [o.metadata.name, objectId(o)]));
  const inputIds = objects.filter((o) => POD_INPUTS.has(o.kind)).map(objectId);
  const rendered = (id: string) => (from?.ids.has(id) ? from : undefined);
  const current = (refs: Refs, id: string, fallback: KubeObject): KubeObject => rendered(id)?.render(refs).find((o) => objectId(o) === id) ?? fallback;
  const nodes: Node<KubeSite>[] = [];
  for (const object of objects) {
    const id = objectId(object);
    const namespaceId = object.metadata.namespace ? namespaceIds.get(object.metadata.namespace) : undefined;
    const dependsOn = [...after, ...(namespaceId ? [namespaceId] : []), ...(rendered(id)?.dependsOn ?? [])];
    if (WORKLOADS.has(object.kind)) dependsOn.push(...inputIds, ...workloadDeps);
    nodes.push({ id, kind: kubeObjectKind(object.apiVersion, object.kind), dependsOn, spec: (refs) => ({ object: current(refs, id, object) }) });
    if (object.kind === 'Deployment') {
      const ns = object.metadata.namespace ?? 'default';
      const hash = (o: KubeObject) => (o.metadata as { annotations?: Record<string, string> }).annotations?.[ANNOTATION_HASH] ?? '';
      nodes.push({ id: rolloutId(ns, object.metadata.name), kind: rolloutKind, dependsOn: [id, ...(rendered(id)?.dependsOn ?? [])], spec: (refs) => ({ namespace: ns, name: object.metadata.name, hash: hash(current(refs, id, object)) }) });
    }
  }
  return nodes;
}
