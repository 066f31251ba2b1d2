import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import type { HybridConfig, SiteName } from '../core/config/schema.ts';

/** A Kubernetes object as rendered: plain data, ready for server-side apply. */
export type KubeObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; [key: string]: unknown };

export const SERVICE_NAMESPACE = 'readings';
/** The service's Deployment (templates/service/deployment.yaml), and the label its pods carry. */
export const SERVICE_DEPLOYMENT = 'readings';
export const SERVICE_POD_SELECTOR = `app.kubernetes.io/name=${SERVICE_DEPLOYMENT}`;
export const PULL_SECRET_NAME = 'hybridctl-registry';
const TEMPLATES = ['namespace', 'serviceaccount', 'deployment', 'poddisruptionbudget', 'service', 'loadgen'];
const TEMPLATE_DIR = new URL('../../templates/service/', import.meta.url);

export interface ServiceRender {
  /** `registry/repository@sha256:…`: deployments pin the image by digest. */
  image: string;
  /** Name of a docker-registry Secret in the namespace, when the registry needs one. */
  pullSecret?: string;
}

/** Fills `{{ key }}` in a template; a placeholder without a value is a template bug. */
export function fill(template: string, values: Record<string, string | number>, name: string): string {
  return template.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, key: string) => {
    if (!(key in values)) throw new Error(`template ${name} uses {{ ${key} }}, which has no value`);
    return String(values[key]);
  });
}

/** The objects of some templates in a folder (`<name>.yaml`, several documents each), filled in. */
export function renderTemplates(dir: URL, names: readonly string[], values: Record<string, string | number>): KubeObject[] {
  return names.flatMap((name) => parseAllDocuments(fill(readFileSync(new URL(`${name}.yaml`, dir), 'utf8'), values, name)).map((doc) => doc.toJS() as KubeObject));
}

/** Marks objects as hybridctl's, of this cluster and component (what pruning and conflict checks go by). */
export function labelled(objects: KubeObject[], cluster: string, component: string): KubeObject[] {
  for (const object of objects) object.metadata.labels = { ...object.metadata.labels, 'app.kubernetes.io/managed-by': 'hybridctl', 'hybridctl.dev/cluster': cluster, 'hybridctl.dev/component': component };
  return objects;
}

/**
 * The sample service's objects for one site: the active site runs service.replicas and the load
 * generator, the standby runs service.standbyReplicas (warm) and a load generator scaled to zero
 * (failover scales it up). Without service.loadgen there is no load generator anywhere.
 */
export function serviceManifests(config: HybridConfig, site: SiteName, render: ServiceRender): KubeObject[] {
  const active = config.service.activeSite === site;
  const values = {
    namespace: SERVICE_NAMESPACE,
    site,
    image: render.image,
    replicas: active ? config.service.replicas : config.service.standbyReplicas,
    nodePort: config.service.nodePort,
    loadgenReplicas: active ? 1 : 0,
    loadgenRate: config.service.loadgen.rate,
  };
  const templates = config.service.loadgen.enabled ? TEMPLATES : TEMPLATES.filter((t) => t !== 'loadgen');
  const objects = labelled(renderTemplates(TEMPLATE_DIR, templates, values), config.metadata.name, 'service');
  return withPullSecret(objects, render.pullSecret);
}

/** Pods of these objects pull their image with the named docker-registry Secret (none: unchanged). */
export function withPullSecret(objects: KubeObject[], pullSecret: string | undefined): KubeObject[] {
  for (const object of objects) {
    const pod = (object as { spec?: { template?: { spec?: Record<string, unknown> } } }).spec?.template?.spec;
    if (pod && pullSecret) pod.imagePullSecrets = [{ name: pullSecret }];
  }
  return objects;
}
