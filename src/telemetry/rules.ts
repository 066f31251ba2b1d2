import type { HybridConfig } from '../core/config/schema.ts';

/** A Prometheus rule group, as a rule file holds it. */
export interface RuleGroup {
  name: string;
  interval?: string;
  rules: ({ record: string; expr: string } | ReturnType<typeof alert>)[];
}

function alert(name: string, expr: string, pending: string, severity: 'critical' | 'warning', summary: string) {
  return { alert: name, expr, for: pending, labels: { severity }, annotations: { summary } };
}

/**
 * The service's recording rules (request rate, error ratio, latency quantiles) and the alerts the
 * obvious failures deserve, per site: every target carries a `site` label, so the AWS Prometheus,
 * which also holds the on-prem series, keeps the sites apart. Names follow Prometheus's
 * `level:metric:operations` convention.
 */
export function ruleGroups(config: HybridConfig): RuleGroup[] {
  const job = 'job="readings"';
  // The service's own requests: not the scrapes of /metrics or the kubelet's probes.
  const api = `${job},route=~"/api/.+"`;
  return [
    {
      name: 'readings.rules',
      rules: [
        { record: 'job:http_requests:rate1m', expr: `sum by (job, site) (rate(http_requests_total{${api}}[1m]))` },
        { record: 'job_route:http_requests:rate1m', expr: `sum by (job, site, route, method) (rate(http_requests_total{${api}}[1m]))` },
        // From the answers that did not fail, so that no 5xx at all (no such series) gives 0, not nothing.
        { record: 'job:http_requests_errors:ratio_rate1m', expr: `1 - sum by (job, site) (rate(http_requests_total{${api},code!~"5.."}[1m])) / sum by (job, site) (rate(http_requests_total{${api}}[1m]))` },
        ...[0.5, 0.95, 0.99].map((q) => ({
          record: `job:http_request_duration_seconds:p${Math.round(q * 100)}_rate1m`,
          expr: `histogram_quantile(${q}, sum by (job, site, le) (rate(http_request_duration_seconds_bucket{${api}}[1m])))`,
        })),
        { record: 'job:readings_accepted:rate1m', expr: `sum by (job, site) (rate(readings_accepted_total{${job}}[1m]))` },
      ],
    },
    {
      name: 'hybrid.alerts',
      rules: [
        alert('ReadingsDown', `sum by (site) (up{${job}}) == 0`, '2m', 'critical', `no readings pod of cluster ${config.metadata.name} answers a scrape on this site`),
        alert('ReadingsErrorRatioHigh', 'job:http_requests_errors:ratio_rate1m > 0.05', '5m', 'warning', "more than 5% of the service's requests fail with 5xx"),
        alert('SiteTargetsDown', 'sum by (job, site) (up) == 0', '5m', 'critical', 'every target of {{ $labels.job }} is down on this site'),
        alert('KubeNodeNotReady', 'kube_node_status_condition{condition="Ready",status="true"} == 0', '5m', 'warning', 'node {{ $labels.node }} is not Ready'),
        alert('RemoteWriteFailing', 'rate(prometheus_remote_storage_samples_failed_total[5m]) > 0', '10m', 'warning', "samples to the other site's Prometheus fail: is the VPN up? (`hybridctl vpn check`)"),
        alert(
          'CertificateExpiresSoon',
          'apiserver_client_certificate_expiration_seconds_bucket{le="604800"} - ignoring(le) apiserver_client_certificate_expiration_seconds_bucket{le="0"} > 0',
          '0m',
          'warning',
          'a client certificate the API server saw expires within 7 days',
        ),
      ],
    },
  ];
}
