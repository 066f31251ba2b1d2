import type { HybridConfig, SiteName } from '../core/config/schema.ts';
import { SERVICE_NAMESPACE } from '../service/manifests.ts';
import { vpnPlan } from '../vpn/plan.ts';

export const MONITORING_NAMESPACE = 'monitoring';
/** Where the rule files are mounted in the Prometheus pod. */
export const RULES_DIR = '/etc/prometheus/rules';
/** What a plan shows for the managed workspace's address before AWS has made it. */
export const PENDING_WORKSPACE_ENDPOINT = 'https://aps-workspaces.invalid/workspaces/known-after-apply/';
/** The AWS Prometheus's NodePort: the on-prem one remote-writes to it over the VPN. */
export const PROMETHEUS_NODE_PORT = 30090;
/** Where the WireGuard exporter listens on each site's VPN gateway. */
export const WIREGUARD_EXPORTER_PORT = 9586;
const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
const SCRAPE_INTERVAL = '30s';

/** Kubelet and cAdvisor through the API server's node proxy: the API server's CA and the pod's token, no kubelet certificate to trust. */
function nodeProxyJob(job: string, path: string) {
  return {
    job_name: job,
    scheme: 'https',
    kubernetes_sd_configs: [{ role: 'node' }],
    authorization: { credentials_file: `${SA_DIR}/token` },
    tls_config: { ca_file: `${SA_DIR}/ca.crt` },
    relabel_configs: [
      { target_label: '__address__', replacement: 'kubernetes.default.svc:443' },
      { source_labels: ['__meta_kubernetes_node_name'], regex: '(.+)', target_label: '__metrics_path__', replacement: `/api/v1/nodes/$1/proxy${path}` },
      { source_labels: ['__meta_kubernetes_node_name'], target_label: 'node' },
    ],
  };
}

/**
 * A control-plane component on every control plane's node address (the Talos patch in
 * templates/talos/ binds them there). Their serving certificates are self-signed per node, so
 * the connection is encrypted but the name is not verified; the token is the pod's.
 */
function controlPlaneJob(job: string, port: number, secure: boolean) {
  return {
    job_name: job,
    scheme: secure ? 'https' : 'http',
    kubernetes_sd_configs: [{ role: 'node' }],
    ...(secure ? { authorization: { credentials_file: `${SA_DIR}/token` }, tls_config: { insecure_skip_verify: true } } : {}),
    relabel_configs: [
      { source_labels: ['__meta_kubernetes_node_labelpresent_node_role_kubernetes_io_control_plane'], regex: 'true', action: 'keep' },
      { source_labels: ['__meta_kubernetes_node_address_InternalIP'], target_label: '__address__', replacement: `$1:${port}` },
      { source_labels: ['__meta_kubernetes_node_name'], target_label: 'node' },
    ],
  };
}

/**
 * Every API server, at the addresses of the `kubernetes` Service's endpoints, verified against
 * the cluster's CA under the Service's name (the endpoints are node addresses).
 */
function apiserverJob() {
  return {
    job_name: 'apiserver',
    scheme: 'https',
    kubernetes_sd_configs: [{ role: 'endpoints', namespaces: { names: ['default'] } }],
    authorization: { credentials_file: `${SA_DIR}/token` },
    tls_config: { ca_file: `${SA_DIR}/ca.crt`, server_name: 'kubernetes.default.svc' },
    relabel_configs: [{ source_labels: ['__meta_kubernetes_service_name', '__meta_kubernetes_endpoint_port_name'], regex: 'kubernetes;https', action: 'keep' }],
  };
}

/**
 * The `metrics` port of one of monitoring's own pods (`app.kubernetes.io/name: app`): the shipper's
 * counters, the WireGuard exporter on the gateway; `label` names each target by its pod or node.
 */
function monitoringPodJob(job: string, app: string, label: 'pod' | 'node') {
  return {
    job_name: job,
    kubernetes_sd_configs: [{ role: 'pod', namespaces: { names: [MONITORING_NAMESPACE] } }],
    relabel_configs: [
      { source_labels: ['__meta_kubernetes_pod_label_app_kubernetes_io_name', '__meta_kubernetes_pod_container_port_name'], regex: `${app};metrics`, action: 'keep' },
      { source_labels: [`__meta_kubernetes_pod_${label === 'pod' ? 'name' : 'node_name'}`], target_label: label },
    ],
  };
}

/** Pods that ask to be scraped (`prometheus.io/scrape: "true"`, with port and path annotations) in one namespace. */
function annotatedPodsJob(job: string, namespace: string) {
  return {
    job_name: job,
    kubernetes_sd_configs: [{ role: 'pod', namespaces: { names: [namespace] } }],
    relabel_configs: [
      { source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_scrape'], regex: 'true', action: 'keep' },
      { source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_path'], regex: '(.+)', target_label: '__metrics_path__' },
      { source_labels: ['__meta_kubernetes_pod_ip', '__meta_kubernetes_pod_annotation_prometheus_io_port'], regex: '(.+);(\\d+)', target_label: '__address__', replacement: '$1:$2' },
      { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
      { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
      { source_labels: ['__meta_kubernetes_pod_node_name'], target_label: 'node' },
    ],
  };
}

/**
 * Every target's `site` label. External labels would mark the series only on their way out, and
 * the AWS Prometheus evaluates its rules over both sites' series.
 */
export function siteLabel(site: SiteName) {
  return { target_label: 'site', replacement: site };
}

/** Where the on-prem Prometheus sends its samples: the AWS one's NodePort at the AWS gateway's tunnel address, a Kubernetes node reachable over the VPN whatever the VPC's addresses. */
export function remoteWriteUrl(config: HybridConfig): string | undefined {
  const central = centralPrometheusUrl(config);
  return central ? `${central}/api/v1/write` : undefined;
}

/** The AWS Prometheus as the on-prem site reaches it over the VPN (none without the VPN). */
export function centralPrometheusUrl(config: HybridConfig): string | undefined {
  const plan = vpnPlan(config);
  return plan ? `http://${plan.aws.address.split('/')[0]}:${PROMETHEUS_NODE_PORT}` : undefined;
}

/** The managed workspace (monitoring.managedPrometheus), as AWS reports it. */
export interface ManagedWorkspace {
  /** `https://aps-workspaces.<region>.amazonaws.com/workspaces/<id>/` */
  endpoint: string;
}

const QUEUE = { max_samples_per_send: 2000 };

function plainRemoteWrite(config: HybridConfig) {
  const url = remoteWriteUrl(config);
  return url ? { url, queue_config: QUEUE } : undefined;
}

/** Both sites write into the workspace, signed with SigV4 by the node role (AWS) or the site's key (on-prem). */
function managedRemoteWrite(config: HybridConfig, workspace: ManagedWorkspace) {
  return { url: `${workspace.endpoint.replace(/\/?$/, '/')}api/v1/remote_write`, sigv4: { region: config.aws.region }, queue_config: QUEUE };
}

/**
 * prometheus.yml for one site: the readings service (its pods' annotations), kubelet and
 * cAdvisor, the API servers, the controller manager (10257), scheduler (10259) and etcd (2381) on
 * control planes, node-exporter, kube-state-metrics, the shipper and Prometheus itself; every series labelled with its site
 * and cluster. The on-prem one also remote-writes everything to the AWS one, so one place holds
 * both sites; with a managed workspace, both write there instead.
 */
export function prometheusConfig(config: HybridConfig, site: SiteName, workspace?: ManagedWorkspace): Record<string, unknown> {
  const remoteWrite = workspace ? managedRemoteWrite(config, workspace) : site === 'onprem' ? plainRemoteWrite(config) : undefined;
  const controlPlaneJobs = [controlPlaneJob('kube-controller-manager', 10257, true), controlPlaneJob('kube-scheduler', 10259, true), controlPlaneJob('etcd', 2381, false)];
  const jobs: ({ job_name: string; relabel_configs?: unknown[] } & Record<string, unknown>)[] = [
    annotatedPodsJob('readings', SERVICE_NAMESPACE),
    nodeProxyJob('kubelet', '/metrics'),
    nodeProxyJob('cadvisor', '/metrics/cadvisor'),
    apiserverJob(),
    ...controlPlaneJobs,
    {
      job_name: 'node-exporter',
      kubernetes_sd_configs: [{ role: 'pod', namespaces: { names: [MONITORING_NAMESPACE] } }],
      relabel_configs: [
        { source_labels: ['__meta_kubernetes_pod_label_app_kubernetes_io_name'], regex: 'node-exporter', action: 'keep' },
        { source_labels: ['__meta_kubernetes_pod_ip'], target_label: '__address__', replacement: '$1:9100' },
        { source_labels: ['__meta_kubernetes_pod_node_name'], target_label: 'node' },
      ],
    },
    { job_name: 'kube-state-metrics', static_configs: [{ targets: [`kube-state-metrics.${MONITORING_NAMESPACE}.svc:8080`] }] },
    monitoringPodJob('shipper', 'shipper', 'pod'),
    ...(vpnPlan(config) ? [monitoringPodJob('wireguard', 'wireguard-exporter', 'node')] : []),
    { job_name: 'prometheus', static_configs: [{ targets: ['localhost:9090'] }] },
  ];
  return {
    global: { scrape_interval: SCRAPE_INTERVAL, evaluation_interval: SCRAPE_INTERVAL, external_labels: { cluster: config.metadata.name } },
    rule_files: [`${RULES_DIR}/*.yaml`],
    scrape_configs: jobs.map((job) => ({ ...job, relabel_configs: [...(job.relabel_configs ?? []), siteLabel(site)] })),
    ...(remoteWrite ? { remote_write: [remoteWrite] } : {}),
  };
}
