import type { HybridConfig, SiteName } from '../core/config/schema.ts';
import type { Node } from '../core/engine/model.ts';
import { type KubeSite, stamped } from '../kube/object-kind.ts';
import { objectNodes } from '../kube/object-nodes.ts';
import { PULL_SECRET_NAME, SERVICE_NAMESPACE } from '../service/manifests.ts';
import { type ServiceImage, pullSecretNodes } from '../service/stack.ts';
import { telemetryManifests } from './manifests.ts';
import { MONITORING_NAMESPACE } from './prometheus-config.ts';
import { shipperManifests } from './shipper-manifests.ts';

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
export function telemetryStack(config: HybridConfig, site: SiteName, after: readonly string[], shipper?: ShipperPlacement): Node<KubeSite>[] {
  const shipperObjects = shipper
    ? shipperManifests(config, site, {
        image: shipper.image.reference,
        ...(shipper.image.pullSecret ? { pullSecret: PULL_SECRET_NAME } : {}),
        bucket: shipper.bucket,
        region: shipper.region,
        withServiceLogs: shipper.withServiceLogs,
      })
    : [];
  const objects = [...telemetryManifests(config, site), ...shipperObjects].map((o) => stamped(o, config.metadata.name));
  const login = shipper ? pullSecretNodes(shipper.image, MONITORING_NAMESPACE, [...after, `Namespace/${MONITORING_NAMESPACE}`]) : [];
  const inputs = [...login, ...(shipper?.credentials ? [shipper.credentials] : [])];
  // The shipper's log access lives in the service's namespace, which the service's nodes create.
  const serviceNamespace = `Namespace/${SERVICE_NAMESPACE}`;
  const nodes = objectNodes(objects, after, inputs.map((n) => n.id)).map((n) =>
    n.id.includes(`/${SERVICE_NAMESPACE}/`) ? { ...n, dependsOn: [...n.dependsOn, serviceNamespace] } : n,
  );
  return [...inputs, ...nodes];
}
