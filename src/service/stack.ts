import type { HybridConfig, SiteName } from '../core/config/schema.ts';
import type { Node } from '../core/engine/model.ts';
import { ANNOTATION_HASH, type KubeSite, kubeObjectKind, objectId, stamped } from '../kube/object-kind.ts';
import { rolloutId, rolloutKind } from '../kube/rollout.ts';
import { PULL_SECRET_NAME, serviceManifests } from './manifests.ts';
import { PULL_SECRET_ID, type PullSecretSpec, pullSecretKind } from './pull-secret.ts';

/** Where the service image is, for deployments: by digest, and how nodes log in to pull it. */
export interface ServiceImage {
  reference: string;
  pullSecret?: PullSecretSpec;
}

/**
 * The sample service on one site, as engine nodes: the objects from templates/service/ (each
 * applied with server-side apply, pruned when dropped), the registry login, and the rollouts
 * waited for. They all come after `after` (the site's kubeconfig).
 */
export function serviceStack(config: HybridConfig, site: SiteName, image: ServiceImage, after: readonly string[]): Node<KubeSite>[] {
  const objects = serviceManifests(config, site, { image: image.reference, ...(image.pullSecret ? { pullSecret: PULL_SECRET_NAME } : {}) }).map((o) => stamped(o, config.metadata.name));
  const namespace = objects.find((o) => o.kind === 'Namespace');
  const namespaceId = namespace ? objectId(namespace) : undefined;
  const nodes: Node<KubeSite>[] = [];
  if (image.pullSecret) {
    const spec = image.pullSecret;
    nodes.push({ id: PULL_SECRET_ID, kind: pullSecretKind, dependsOn: [...after, ...(namespaceId ? [namespaceId] : [])], spec: () => spec });
  }
  const accountIds = objects.filter((o) => o.kind === 'ServiceAccount').map(objectId);
  for (const object of objects) {
    const id = objectId(object);
    const dependsOn = [...after];
    if (namespaceId && id !== namespaceId) dependsOn.push(namespaceId);
    if (object.kind === 'Deployment') dependsOn.push(...accountIds, ...(image.pullSecret ? [PULL_SECRET_ID] : []));
    nodes.push({ id, kind: kubeObjectKind(object.apiVersion, object.kind), dependsOn, spec: () => ({ object }) });
    if (object.kind === 'Deployment') {
      const ns = object.metadata.namespace ?? 'default';
      nodes.push({ id: rolloutId(ns, object.metadata.name), kind: rolloutKind, dependsOn: [id], spec: () => ({ namespace: ns, name: object.metadata.name, hash: object.metadata.annotations?.[ANNOTATION_HASH] ?? '' }) });
    }
  }
  return nodes;
}
