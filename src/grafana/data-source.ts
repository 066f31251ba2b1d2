import { PROMETHEUS } from './dashboards/panels.ts';

/** Where the dashboards' Prometheus is, and how Grafana signs its requests to it. */
export interface PrometheusTarget {
  url: string;
  /**
   * An Amazon Managed Service for Prometheus workspace: requests signed with SigV4, with the
   * managed workspace's IAM role (`ec2_iam_role`) or the AWS SDK's default credentials (`default`).
   */
  sigv4?: { region: string; authType: 'ec2_iam_role' | 'default' };
}

/** A data source as Grafana's HTTP API and its provisioning files describe it. */
export interface GrafanaDataSource {
  uid: string;
  name: string;
  type: 'prometheus';
  access: 'proxy';
  url: string;
  isDefault: boolean;
  jsonData: Record<string, unknown>;
}

/** The one data source the dashboards read (uid `hybridctl-prometheus`): the Prometheus that holds both sites. */
export function prometheusDataSource(target: PrometheusTarget): GrafanaDataSource {
  return {
    uid: PROMETHEUS.uid!,
    name: 'Prometheus (both sites)',
    type: 'prometheus',
    access: 'proxy',
    url: target.url.replace(/\/+$/, ''),
    isDefault: true,
    jsonData: {
      httpMethod: 'POST',
      timeInterval: '30s',
      ...(target.sigv4 ? { sigV4Auth: true, sigV4AuthType: target.sigv4.authType, sigV4Region: target.sigv4.region } : {}),
    },
  };
}
