import type { HybridConfig, SiteName } from '../core/config/schema.ts';
import { type Node, type Refs, type ResourceKind, isUnknown } from '../core/engine/model.ts';
import { type KubeSite, type ObjectSpec, type ObjectState, kubeObjectKind, stamped } from '../kube/object-kind.ts';
import { idsTakingOutputs, objectNodes } from '../kube/object-nodes.ts';
import { rolloutKind } from '../kube/rollout.ts';
import { type KubeObject, PULL_SECRET_NAME, SERVICE_NAMESPACE } from '../service/manifests.ts';
import { type ServiceImage, pullSecretNodes } from '../service/stack.ts';
import { telemetryManifests } from './manifests.ts';
import { MONITORING_NAMESPACE, PENDING_WORKSPACE_ENDPOINT } from './prometheus-config.ts';
import { TALOS_READER_ID, talosReaderKind } from './talos-reader.ts';
import { SECRETS_ID } from '../talos/kinds/secrets.ts';
import { type PodSpec, SHIPPER_CREDENTIALS_SECRET, shipperManifests } from './shipper-manifests.ts';

/** What a plan shows for the workspace's address before AWS has made the workspace, and for a key not made yet. */
const PENDING_KEY = '(known after apply)';

export interface ShipperPlacement {
  image: ServiceImage;
  bucket: string;
  region: string;
  /** The service is deployed on the site, so its logs are shipped. */
  withServiceLogs: boolean;
}

/**
 * The on-prem site's AWS key (it has no instance role): the node that writes it into its Secret
 * (output `accessKeyId`), and the one that deletes the keys it replaced once every pod that reads
 * the Secret has rolled over to the new one.
 */
export interface SiteKey {
  node: Node<KubeSite>;
  retire(after: readonly string[]): Node<KubeSite>;
}

export interface TelemetryParts {
  shipper?: ShipperPlacement;
  /** monitoring.managedPrometheus: the node whose `endpoint` output is the workspace's (on AWS the workspace, on-prem a condition that waits for it). */
  managed?: { workspaceId: string; node?: Node<KubeSite> };
  key?: SiteKey;
}

/** Pods that read the key's Secret carry its id, so a new key rolls them (a Secret read through envFrom is read at start only). */
const ANNOTATION_KEY = 'hybridctl.dev/aws-access-key-id';

/**
 * A site's monitoring as engine nodes, after `after` (the site's kubeconfig): Prometheus,
 * node-exporter, kube-state-metrics, and the shipper when it has an image and a bucket. Objects
 * that take another node's output (the workspace's endpoint, the key's id) are rendered again
 * from it at apply time.
 */
export function telemetryStack(config: HybridConfig, site: SiteName, after: readonly string[], parts: TelemetryParts = {}): Node<KubeSite>[] {
  const { shipper, managed, key } = parts;
  const shipperObjects = shipper
    ? shipperManifests(config, site, {
        image: shipper.image.reference,
        ...(shipper.image.pullSecret ? { pullSecret: PULL_SECRET_NAME } : {}),
        bucket: shipper.bucket,
        region: shipper.region,
        withServiceLogs: shipper.withServiceLogs,
      })
    : [];
  const render = (inputs: { endpoint?: string; keyId?: string }) =>
    withKeyAnnotation([...telemetryManifests(config, site, inputs.endpoint ? { endpoint: inputs.endpoint } : undefined), ...shipperObjects], inputs.keyId).map((o) =>
      stamped(o, config.metadata.name),
    );
  const known = (refs: Refs, id: string | undefined, output: string, pending: string): string | undefined => {
    if (!id) return undefined;
    const value = refs.get(id, output);
    return isUnknown(value) ? pending : value;
  };
  const keyId = key?.node.id;
  const objects = render({ ...(managed ? { endpoint: PENDING_WORKSPACE_ENDPOINT } : {}), ...(keyId ? { keyId: PENDING_KEY } : {}) });
  // Which objects take those outputs: the ones that differ when the outputs do.
  const other = render({ ...(managed ? { endpoint: `${PENDING_WORKSPACE_ENDPOINT}other/` } : {}), ...(keyId ? { keyId: `${PENDING_KEY} other` } : {}) });
  const ids = idsTakingOutputs(objects, other);
  const from =
    managed || keyId
      ? {
          ids,
          dependsOn: [...(managed ? [managed.workspaceId] : []), ...(keyId ? [keyId] : [])],
          render: (refs: Refs) => {
            const endpoint = known(refs, managed?.workspaceId, 'endpoint', PENDING_WORKSPACE_ENDPOINT);
            const id = known(refs, keyId, 'accessKeyId', PENDING_KEY);
            return render({ ...(endpoint ? { endpoint } : {}), ...(id ? { keyId: id } : {}) });
          },
        }
      : undefined;
  const login = shipper ? pullSecretNodes(shipper.image, MONITORING_NAMESPACE, [...after, `Namespace/${MONITORING_NAMESPACE}`]) : [];
  // The shipper mounts its talosconfig, which the site's Talos secrets sign.
  const reader: Node<KubeSite>[] = shipper ? [{ id: TALOS_READER_ID, kind: talosReaderKind as Node<KubeSite>['kind'], dependsOn: [...after, SECRETS_ID, `Namespace/${MONITORING_NAMESPACE}`], spec: () => ({}) }] : [];
  const inputs = [...login, ...reader, ...(managed?.node ? [managed.node] : []), ...(key ? [key.node] : [])];
  // The shipper's log access lives in the service's namespace, which the service's nodes create.
  const serviceNamespace = `Namespace/${SERVICE_NAMESPACE}`;
  const nodes = objectNodes(objects, after, inputs.map((n) => n.id), from).map((n) =>
    n.id.includes(`/${SERVICE_NAMESPACE}/`) ? { ...n, dependsOn: [...n.dependsOn, serviceNamespace] } : n,
  );
  const rollouts = nodes.filter((n) => n.kind === rolloutKind).map((n) => n.id);
  return [...inputs, ...nodes, ...(key && usesKey(objects) ? [key.retire(rollouts)] : [])];
}

/**
 * The Kubernetes kinds monitoring uses, for a site to look for when monitoring or its shipper is
 * off: what an earlier config made is then found and pruned (cluster-wide roles and bindings, and
 * the shipper's role in the service's namespace, outlive the monitoring namespace).
 */
export function telemetryKinds(config: HybridConfig, site: SiteName): ResourceKind<ObjectSpec, ObjectState, KubeSite>[] {
  const sample = { image: 'sample', bucket: 'sample', region: config.aws.region, withServiceLogs: true };
  const objects = [...telemetryManifests(config, site), ...shipperManifests(config, site, sample)];
  return [...new Set(objects.map((o) => `${o.apiVersion} ${o.kind}`))].map((k) => {
    const [apiVersion, kind] = k.split(' ') as [string, string];
    return kubeObjectKind(apiVersion, kind);
  });
}

function podTemplates(objects: readonly object[]) {
  return objects.flatMap((o) => {
    const template = (o as { spec?: { template?: { metadata?: { annotations?: Record<string, string> }; spec?: PodSpec } } }).spec?.template;
    return template ? [template] : [];
  });
}

const readsKey = (pod: PodSpec | undefined) => (pod?.containers ?? []).some((c) => JSON.stringify(c.envFrom ?? []).includes(SHIPPER_CREDENTIALS_SECRET));

function usesKey(objects: readonly object[]): boolean {
  return podTemplates(objects).some((t) => readsKey(t.spec));
}

function withKeyAnnotation(objects: KubeObject[], keyId: string | undefined): KubeObject[] {
  if (!keyId) return objects;
  for (const template of podTemplates(objects)) {
    if (readsKey(template.spec)) template.metadata = { ...template.metadata, annotations: { ...template.metadata?.annotations, [ANNOTATION_KEY]: keyId } };
  }
  return objects;
}
