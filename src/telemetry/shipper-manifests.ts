import type { HybridConfig, SiteName } from '../core/config/schema.ts';
import { type KubeObject, SERVICE_NAMESPACE, labelled, renderTemplates, withPullSecret } from '../service/manifests.ts';
import { MONITORING_NAMESPACE } from './prometheus-config.ts';
import { TALOS_READER_DIR, TALOS_READER_SECRET } from './talos-reader.ts';

const TEMPLATE_DIR = new URL('../../templates/telemetry/', import.meta.url);
/** Where Talos's service logs arrive (json_lines over TCP), in the pod and on every node. */
export const TALOS_LOG_PORT = 5170;
export const TALOS_LOG_NODE_PORT = 30514;
/** The on-prem shipper's AWS key (it has no instance role), written by `up`. */
export const SHIPPER_CREDENTIALS_SECRET = 'shipper-aws-credentials';

export type PodSpec = { hostNetwork?: boolean; dnsPolicy?: string; containers: { envFrom?: unknown[] }[] };

export interface ShipperTarget {
  /** The service image, which carries /shipper. */
  image: string;
  pullSecret?: string;
  /** The telemetry bucket and its region. */
  bucket: string;
  region: string;
  /** The service runs here, so its logs are shipped. */
  withServiceLogs: boolean;
}

/**
 * The site's shipper: one Deployment writing windows of metrics, logs and states into the
 * telemetry bucket, read-only access to the cluster, and the NodePort Talos sends its logs to.
 * On AWS it runs in the host's network to use the node role; on-prem it reads its key from a Secret.
 */
export function shipperManifests(config: HybridConfig, site: SiteName, target: ShipperTarget): KubeObject[] {
  const onAws = site === 'aws';
  const values = {
    namespace: MONITORING_NAMESPACE,
    site,
    image: target.image,
    bucket: target.bucket,
    region: target.region,
    interval: `${config.monitoring.shipper.intervalMinutes}m`,
    logNamespace: SERVICE_NAMESPACE,
    talosPort: TALOS_LOG_PORT,
    talosNodePort: TALOS_LOG_NODE_PORT,
    talosReaderDir: TALOS_READER_DIR,
    talosReaderSecret: TALOS_READER_SECRET,
  };
  const templates = target.withServiceLogs ? ['shipper', 'shipper-logs'] : ['shipper'];
  const objects = renderTemplates(TEMPLATE_DIR, templates, values);
  const pod = (objects.find((o) => o.kind === 'Deployment') as { spec: { template: { spec: PodSpec } } } | undefined)?.spec.template.spec;
  if (pod && onAws) {
    // The node role reaches pods in the host's network only: IMDSv2's hop limit 1 keeps other pods away from it.
    pod.hostNetwork = true;
    pod.dnsPolicy = 'ClusterFirstWithHostNet';
  }
  if (pod && !onAws) for (const container of pod.containers) container.envFrom = [{ secretRef: { name: SHIPPER_CREDENTIALS_SECRET } }];
  return labelled(withPullSecret(objects, target.pullSecret), config.metadata.name, 'telemetry');
}
