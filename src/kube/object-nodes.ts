import type { Node } from '../core/engine/model.ts';
import type { KubeObject } from './client.ts';
import { ANNOTATION_HASH, type KubeSite, kubeObjectKind, objectId } from './object-kind.ts';
import { rolloutId, rolloutKind } from './rollout.ts';

const WORKLOADS = new Set(['Deployment', 'DaemonSet']);
/** What a workload's pods mount or run as: created first, so the pods start at once. */
const POD_INPUTS = new Set(['ServiceAccount', 'ConfigMap']);

/**
 * Rendered objects as engine nodes: each applied with server-side apply (pruned when dropped),
 * after `after` (the site's kubeconfig) and its namespace; workloads after what their pods use
 * and `workloadDeps`; each Deployment's rollout waited for.
 */
export function objectNodes(objects: readonly KubeObject[], after: readonly string[], workloadDeps: readonly string[] = []): Node<KubeSite>[] {
  const namespaceIds = new Map(objects.filter((o) => o.kind === 'Namespace').map((o) => [o.metadata.name, objectId(o)]));
  const inputIds = objects.filter((o) => POD_INPUTS.has(o.kind)).map(objectId);
  const nodes: Node<KubeSite>[] = [];
  for (const object of objects) {
    const id = objectId(object);
    const namespaceId = object.metadata.namespace ? namespaceIds.get(object.metadata.namespace) : undefined;
    const dependsOn = [...after, ...(namespaceId ? [namespaceId] : [])];
    if (WORKLOADS.has(object.kind)) dependsOn.push(...inputIds, ...workloadDeps);
    nodes.push({ id, kind: kubeObjectKind(object.apiVersion, object.kind), dependsOn, spec: () => ({ object }) });
    if (object.kind === 'Deployment') {
      const ns = object.metadata.namespace ?? 'default';
      const hash = (object.metadata as { annotations?: Record<string, string> }).annotations?.[ANNOTATION_HASH] ?? '';
      nodes.push({ id: rolloutId(ns, object.metadata.name), kind: rolloutKind, dependsOn: [id], spec: () => ({ namespace: ns, name: object.metadata.name, hash }) });
    }
  }
  return nodes;
}
