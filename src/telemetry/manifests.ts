import { createHash } from 'node:crypto';
import type { HybridConfig, SiteName } from '../core/config/schema.ts';
import { toYaml } from '../core/yaml.ts';
import { type KubeObject, labelled, renderTemplates } from '../service/manifests.ts';
import { type ManagedWorkspace, MONITORING_NAMESPACE, PROMETHEUS_NODE_PORT, RULES_DIR, WIREGUARD_EXPORTER_PORT, prometheusConfig } from './prometheus-config.ts';
import { vpnPlan } from '../vpn/plan.ts';
import { GATEWAY_LABEL } from '../vpn/documents.ts';
import { withSiteAwsCredentials } from './shipper-manifests.ts';
import { ruleGroups } from './rules.ts';

const TEMPLATES = ['namespace', 'prometheus', 'node-exporter', 'kube-state-metrics'];
const TEMPLATE_DIR = new URL('../../templates/telemetry/', import.meta.url);

/**
 * The images, pinned: Prometheus at the release whose promtool checks the rendered configuration
 * in the tests (test/prometheus/go.mod, github.com/prometheus/prometheus v0.316.0 is 3.16.0).
 */
export const IMAGES = {
  prometheus: 'quay.io/prometheus/prometheus:v3.16.0',
  nodeExporter: 'quay.io/prometheus/node-exporter:v1.9.1',
  kubeStateMetrics: 'registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.18.0',
  // The release the dashboard tests build from crates.io (test/support/exporters.ts).
  wireguardExporter: 'docker.io/mindflavor/prometheus-wireguard-exporter:3.6.6',
} as const;

/**
 * A site's monitoring objects: Prometheus (its configuration and rules as ConfigMaps, rendered
 * from the config), node-exporter on every node, kube-state-metrics. The AWS Prometheus accepts
 * remote writes on a NodePort, which the on-prem one reaches over the VPN.
 */
export function telemetryManifests(config: HybridConfig, site: SiteName, workspace?: ManagedWorkspace): KubeObject[] {
  const prometheusYml = toYaml(prometheusConfig(config, site, workspace));
  const rulesYaml = toYaml({ groups: ruleGroups(config) });
  // Without a managed workspace the AWS Prometheus is where the on-prem one writes.
  const central = site === 'aws' && !workspace;
  const storage = config.monitoring.storage;
  const values = {
    namespace: MONITORING_NAMESPACE,
    prometheusImage: IMAGES.prometheus,
    nodeExporterImage: IMAGES.nodeExporter,
    kubeStateMetricsImage: IMAGES.kubeStateMetrics,
    wireguardExporterImage: IMAGES.wireguardExporter,
    wireguardExporterPort: WIREGUARD_EXPORTER_PORT,
    retention: config.monitoring.retention,
    // Without a storage class the data lives with the pod: Talos ships no provisioner.
    dataVolume: storage ? `persistentVolumeClaim: { claimName: ${DATA_CLAIM} }` : 'emptyDir: { sizeLimit: 20Gi }',
    rulesDir: RULES_DIR,
    // A new configuration or rule set rolls the pod: the files are read at start.
    configHash: createHash('sha256').update(prometheusYml).update(rulesYaml).digest('hex').slice(0, 16),
    receiverArg: central ? '- --web.enable-remote-write-receiver' : '',
    serviceType: central ? 'NodePort' : 'ClusterIP',
    nodePortField: central ? `, nodePort: ${PROMETHEUS_NODE_PORT}` : '',
  };
  const configMap = (name: string, file: string, text: string): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: MONITORING_NAMESPACE }, data: { [file]: text } });
  const objects = [
    ...renderTemplates(TEMPLATE_DIR, TEMPLATES, values),
    // The tunnel's state (handshakes, bytes each way), read on the site's gateway.
    ...(vpnPlan(config) ? renderTemplates(TEMPLATE_DIR, ['wireguard-exporter'], { ...values, site, gatewayLabel: GATEWAY_LABEL }) : []),
    configMap('prometheus-config', 'prometheus.yml', prometheusYml),
    configMap('prometheus-rules', 'rules.yaml', rulesYaml),
    ...(storage ? [dataClaim(storage)] : []),
  ];
  // SigV4 needs AWS credentials in the Prometheus pod.
  if (workspace) withSiteAwsCredentials(objects, 'prometheus', site);
  return labelled(objects, config.metadata.name, 'telemetry');
}

const DATA_CLAIM = 'prometheus-data';

/** Prometheus's volume, one writer at a time (the Deployment recreates its pod). */
function dataClaim(storage: { storageClass: string; sizeGiB: number }): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: DATA_CLAIM, namespace: MONITORING_NAMESPACE },
    spec: { storageClassName: storage.storageClass, accessModes: ['ReadWriteOnce'], resources: { requests: { storage: `${storage.sizeGiB}Gi` } } },
  };
}

