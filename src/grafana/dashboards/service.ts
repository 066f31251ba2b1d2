import { AnnotationQueryBuilder, type DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelIds, dashboard, row, PROMETHEUS, stat, timeseries } from './panels.ts';

/** Each site's share of the service's requests: the active site is the one above half. */
const SHARE = 'sum by (site) (job:http_requests:rate1m) / scalar(sum(job:http_requests:rate1m))';
const SHARE_1M_AGO = 'sum by (site) (job:http_requests:rate1m offset 1m) / scalar(sum(job:http_requests:rate1m offset 1m))';
const READINGS = 'namespace="readings", deployment="readings"';

/**
 * The readings service on both sites: its traffic, errors and latency from the recording rules,
 * its replicas, which site is active, and an annotation where the majority of traffic moved.
 */
export function serviceDashboard(): DashboardBuilder {
  const ids = new PanelIds();
  return dashboard('hybridctl / Service', 'hybridctl-service', { refresh: '30s', from: 'now-1h' })
    .annotation(
      new AnnotationQueryBuilder()
        .name('Failover')
        .datasource(PROMETHEUS)
        .enable(true)
        .iconColor('orange')
        .expr(`(${SHARE} > 0.5) unless (${SHARE_1M_AGO} > 0.5)`)
        .step('60s')
        .titleFormat('traffic moved to {{site}}'),
    )
    .withRow(row(ids, 'Where the traffic goes'))
    .withPanel(
      stat(ids, {
        title: 'Active site',
        description: 'The site serving more than half of the requests.',
        unit: 'none',
        names: true,
        queries: [{ expr: `${SHARE} > 0.5`, legend: '{{site}}' }],
      }),
    )
    .withPanel(
      stat(ids, {
        title: 'Replicas ready',
        description: "The readings Deployment's ready replicas, per site (kube-state-metrics).",
        unit: 'none',
        queries: [{ expr: `sum by (site) (kube_deployment_status_replicas_ready{${READINGS}})`, legend: '{{site}}' }],
      }),
    )
    .withPanel(
      timeseries(ids, {
        title: 'Share of requests per site',
        description: "Each site's part of the service's requests; a failover moves it from one site to the other.",
        unit: 'percentunit',
        queries: [{ expr: SHARE, legend: '{{site}}' }],
      }),
    )
    .withPanel(
      timeseries(ids, {
        title: 'Replicas ready and desired per site',
        description: "The readings Deployment's replicas (kube-state-metrics).",
        unit: 'none',
        queries: [
          { expr: `sum by (site) (kube_deployment_status_replicas_ready{${READINGS}})`, legend: '{{site}} ready' },
          { expr: `sum by (site) (kube_deployment_spec_replicas{${READINGS}})`, legend: '{{site}} desired' },
        ],
      }),
    )
    .withRow(row(ids, 'Requests'))
    .withPanel(
      timeseries(ids, {
        title: 'Request rate per site',
        description: 'Requests per second to /api/ (job:http_requests:rate1m).',
        unit: 'reqps',
        queries: [{ expr: 'sum by (site) (job:http_requests:rate1m)', legend: '{{site}}' }],
      }),
    )
    .withPanel(
      timeseries(ids, {
        title: 'Error ratio per site',
        description: 'The share of requests answered with 5xx (job:http_requests_errors:ratio_rate1m); the alert fires above 5 %.',
        unit: 'percentunit',
        queries: [{ expr: 'max by (site) (job:http_requests_errors:ratio_rate1m)', legend: '{{site}}' }],
      }),
    )
    .withPanel(
      timeseries(ids, {
        title: 'Latency per site',
        description: 'p50, p95 and p99 of the request duration over a minute.',
        unit: 's',
        span: 24,
        queries: [50, 95, 99].map((p) => ({ expr: `max by (site) (job:http_request_duration_seconds:p${p}_rate1m)`, legend: `{{site}} p${p}` })),
      }),
    );
}
