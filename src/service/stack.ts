import type { HybridConfig, SiteName } from '../core/config/schema.ts';
import type { Node } from '../core/engine/model.ts';
import { type KubeSite, stamped } from '../kube/object-kind.ts';
import { objectNodes } from '../kube/object-nodes.ts';
import { PULL_SECRET_NAME, SERVICE_NAMESPACE, serviceManifests } from './manifests.ts';
import { type PullSecretSpec, pullSecretId, pullSecretKind } from './pull-secret.ts';

/** Where the service image is, for deployments: by digest, and how nodes log in to pull it. */
export interface ServiceImage {
  reference: string;
  pullSecret?: Omit<PullSecretSpec, 'namespace'>;
}

/**
 * The sample service on one site, as engine nodes: the objects from templates/service/ (each
 * applied with server-side apply, pruned when dropped), the registry login, and the rollouts
 * waited for. They all come after `after` (the site's kubeconfig).
 */
export function serviceStack(config: HybridConfig, site: SiteName, image: ServiceImage, after: readonly string[]): Node<KubeSite>[] {
  const objects = serviceManifests(config, site, { image: image.reference, ...(image.pullSecret ? { pullSecret: PULL_SECRET_NAME } : {}) }).map((o) => stamped(o, config.metadata.name));
  const login = pullSecretNodes(image, SERVICE_NAMESPACE, [...after, `Namespace/${SERVICE_NAMESPACE}`]);
  return [...login, ...objectNodes(objects, after, login.map((n) => n.id))];
}

/** The registry login pods in `namespace` pull the service image with, when the registry needs one. */
export function pullSecretNodes(image: ServiceImage, namespace: string, dependsOn: readonly string[]): Node<KubeSite>[] {
  if (!image.pullSecret) return [];
  const spec: PullSecretSpec = { ...image.pullSecret, namespace };
  return [{ id: pullSecretId(namespace), kind: pullSecretKind, dependsOn: [...dependsOn], spec: () => spec }];
}
