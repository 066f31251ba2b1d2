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
  withSiteAwsCredentials(objects, 'shipper', site);
  return labelled(withPullSecret(objects, target.pullSecret), config.metadata.name, 'telemetry');
}

/**
 * Gives a Deployment's pods the site's AWS credentials: on AWS the node role, which IMDSv2 serves
 * to the host's network only (hop limit 1 keeps other pods away from it); on-prem the site's key
 * from its Secret.
 */
export function withSiteAwsCredentials(objects: KubeObject[], deployment: string, site: SiteName): void {
  const found = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === deployment) as { spec: { template: { spec: PodSpec } } } | undefined;
  const pod = found?.spec.template.spec;
  if (!pod) return;
  if (site === 'aws') Object.assign(pod, { hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' });
  else for (const container of pod.containers) container.envFrom = [{ secretRef: { name: SHIPPER_CREDENTIALS_SECRET } }];
}
