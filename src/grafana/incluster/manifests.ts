import { createHash } from 'node:crypto';
import type { HybridConfig, SiteName } from '../../core/config/schema.ts';
import { toYaml } from '../../core/yaml.ts';
import { type KubeObject, labelled, renderTemplates } from '../../service/manifests.ts';
import { MONITORING_NAMESPACE } from '../../telemetry/prometheus-config.ts';
import { withSiteAwsCredentials } from '../../telemetry/shipper-manifests.ts';
import { FOLDER } from '../content.ts';
import type { DashboardFile } from '../dashboard-files.ts';
import type { GrafanaDataSource } from '../data-source.ts';

/** Grafana's release, pinned. */
export const GRAFANA_IMAGE = 'docker.io/grafana/grafana:12.3.0';
export const GRAFANA_ADMIN_SECRET = 'grafana-admin';
export const GRAFANA_PORT = 3000;
const DASHBOARDS_DIR = '/etc/grafana/dashboards';
const TEMPLATE_DIR = new URL('../../../templates/grafana/', import.meta.url);

/**
 * Grafana in a site's cluster (monitoring.grafana: incluster), with the same data source and
 * dashboards as the managed workspace, as provisioning files: nothing is configured by hand or
 * through the API, and the UI cannot change them. With a managed Prometheus, Grafana signs its
 * queries with the site's AWS credentials, as Prometheus does its writes.
 */
export function inclusterManifests(config: HybridConfig, site: SiteName, dataSource: GrafanaDataSource, dashboards: readonly DashboardFile[]): KubeObject[] {
  const datasourcesYaml = toYaml({ apiVersion: 1, datasources: [{ ...dataSource, editable: false }] });
  const providersYaml = toYaml({
    apiVersion: 1,
    providers: [
      { name: 'hybridctl', folder: FOLDER.title, folderUid: FOLDER.uid, type: 'file', disableDeletion: true, allowUiUpdates: false, updateIntervalSeconds: 30, options: { path: DASHBOARDS_DIR } },
    ],
  });
  const configMap = (name: string, data: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: MONITORING_NAMESPACE }, data });
  const objects = [
    configMap('grafana-datasources', { 'hybridctl.yaml': datasourcesYaml }),
    configMap('grafana-dashboard-providers', { 'hybridctl.yaml': providersYaml }),
    configMap('grafana-dashboards', Object.fromEntries(dashboards.map((d) => [`${d.uid}.json`, d.json]))),
    ...renderTemplates(TEMPLATE_DIR, ['grafana'], {
      namespace: MONITORING_NAMESPACE,
      image: GRAFANA_IMAGE,
      adminSecret: GRAFANA_ADMIN_SECRET,
      dashboardsDir: DASHBOARDS_DIR,
      provisioningHash: createHash('sha256').update(datasourcesYaml).update(providersYaml).digest('hex').slice(0, 16),
    }),
  ];
  if (dataSource.jsonData.sigV4Auth) withSiteAwsCredentials(objects, 'grafana', site);
  return labelled(objects, config.metadata.name, 'grafana');
}
