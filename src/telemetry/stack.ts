import type { HybridConfig, SiteName } from '../core/config/schema.ts';
import { type Node, type Refs, isUnknown } from '../core/engine/model.ts';
import { type KubeSite, stamped } from '../kube/object-kind.ts';
import { objectNodes } from '../kube/object-nodes.ts';
import { PULL_SECRET_NAME, SERVICE_NAMESPACE } from '../service/manifests.ts';
import { type ServiceImage, pullSecretNodes } from '../service/stack.ts';
import { telemetryManifests } from './manifests.ts';
import { type ManagedWorkspace, MONITORING_NAMESPACE } from './prometheus-config.ts';
import { shipperManifests } from './shipper-manifests.ts';

/** What a plan shows for the workspace's address before AWS has made the workspace. */
const PENDING_ENDPOINT = 'https://aps-workspaces.invalid/workspaces/known-after-apply/';

export interface ShipperPlacement {
  image: ServiceImage;
  bucket: string;
  region: string;
  /** The service is deployed on the site, so its logs are shipped. */
  withServiceLogs: boolean;
  /** The node that gives the shipper its AWS key (on-prem, which has no instance role). */
  credentials?: Node<KubeSite>;
}

/**
 * A site's monitoring as engine nodes, after `after` (the site's kubeconfig): Prometheus,
 * node-exporter, kube-state-metrics, and the shipper when it has an image and a bucket.
 */
/**
 * Where the site's Prometheus remote-writes when monitoring.managedPrometheus is on: the node
 * whose `endpoint` output is the workspace's (on AWS the workspace itself, on-prem a condition
 * that waits for it), and the node that gives on-prem its key.
 */
export interface ManagedPrometheus {
  workspaceId: string;
  nodes: Node<KubeSite>[];
}

export function telemetryStack(config: HybridConfig, site: SiteName, after: readonly string[], shipper?: ShipperPlacement, managed?: ManagedPrometheus): Node<KubeSite>[] {
  const shipperObjects = shipper
    ? shipperManifests(config, site, {
        image: shipper.image.reference,
        ...(shipper.image.pullSecret ? { pullSecret: PULL_SECRET_NAME } : {}),
        bucket: shipper.bucket,
        region: shipper.region,
        withServiceLogs: shipper.withServiceLogs,
      })
    : [];
  const render = (workspace?: ManagedWorkspace) => [...telemetryManifests(config, site, workspace), ...shipperObjects].map((o) => stamped(o, config.metadata.name));
  const endpointOf = (refs: Refs): string => {
    const endpoint = managed ? refs.get(managed.workspaceId, 'endpoint') : '';
    return isUnknown(endpoint) ? PENDING_ENDPOINT : endpoint;
  };
  const objects = render(managed ? { endpoint: PENDING_ENDPOINT } : undefined);
  const from = managed ? { dependsOn: [managed.workspaceId], render: (refs: Refs) => render({ endpoint: endpointOf(refs) }) } : undefined;
  const login = shipper ? pullSecretNodes(shipper.image, MONITORING_NAMESPACE, [...after, `Namespace/${MONITORING_NAMESPACE}`]) : [];
  const extra = [...(shipper?.credentials ? [shipper.credentials] : []), ...(managed?.nodes ?? [])];
  const inputs = [...login, ...extra.filter((n, i) => extra.findIndex((m) => m.id === n.id) === i)];
  // The shipper's log access lives in the service's namespace, which the service's nodes create.
  const serviceNamespace = `Namespace/${SERVICE_NAMESPACE}`;
  const nodes = objectNodes(objects, after, inputs.map((n) => n.id), from).map((n) =>
    n.id.includes(`/${SERVICE_NAMESPACE}/`) ? { ...n, dependsOn: [...n.dependsOn, serviceNamespace] } : n,
  );
  return [...inputs, ...nodes];
}
