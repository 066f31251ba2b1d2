import type { DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelIds, dashboard, row, stat, timeseries } from './panels.ts';

/** Both Kubernetes clusters: nodes, pods, etcd and the API server, per site. */
export function clustersDashboard(): DashboardBuilder {
  const ids = new PanelIds();
  return dashboard('hybridctl / Clusters', 'hybridctl-clusters', { refresh: '30s', from: 'now-1h' })
    .withRow(row(ids, 'Nodes and pods'))
    .withPanel(
      stat(ids, {
        title: 'Nodes ready',
        description: 'Nodes whose Ready condition is true, per site (kube-state-metrics).',
        unit: 'none',
        queries: [{ expr: 'sum by (site) (kube_node_status_condition{condition="Ready", status="true"})', legend: '{{site}}' }],
      }),
    )
    .withPanel(
      stat(ids, {
        title: 'Nodes',
        description: 'Nodes registered, per site (kube-state-metrics).',
        unit: 'none',
        queries: [{ expr: 'count by (site) (kube_node_info)', legend: '{{site}}' }],
      }),
    )
    .withPanel(
      timeseries(ids, {
        title: 'Pods by phase',
        description: 'Pods in each phase, per site (kube-state-metrics).',
        unit: 'none',
        queries: [{ expr: 'sum by (site, phase) (kube_pod_status_phase) > 0', legend: '{{site}} {{phase}}' }],
      }),
    )
    .withRow(row(ids, 'Control plane'))
    .withPanel(
      stat(ids, {
        title: 'etcd members',
        description: 'etcd members answering a scrape, per site.',
        unit: 'none',
        queries: [{ expr: 'count by (site) (etcd_server_has_leader)', legend: '{{site}}' }],
      }),
    )
    .withPanel(
      stat(ids, {
        title: 'etcd has a leader',
        description: '1 when every member of the site sees a leader.',
        unit: 'bool_yes_no',
        queries: [{ expr: 'min by (site) (etcd_server_has_leader)', legend: '{{site}}' }],
      }),
    )
    .withPanel(
      timeseries(ids, {
        title: 'etcd leader changes',
        description: 'Leader changes each member saw over the last hour; more than a few point at a slow disk or network.',
        unit: 'none',
        queries: [{ expr: 'sum by (site) (increase(etcd_server_leader_changes_seen_total[1h]))', legend: '{{site}}' }],
      }),
    )
    .withPanel(
      timeseries(ids, {
        title: 'API server latency',
        description: 'p99 of the API server request duration per site, long-running WATCH and CONNECT requests left out.',
        unit: 's',
        queries: [
          {
            expr: 'histogram_quantile(0.99, sum by (site, le) (rate(apiserver_request_duration_seconds_bucket{verb!~"WATCH|CONNECT"}[5m])))',
            legend: '{{site}} p99',
          },
        ],
      }),
    );
}
