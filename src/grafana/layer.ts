import type { HybridConfig, SiteName } from '../core/config/schema.ts';
import type { AnyKind, Node, Refs } from '../core/engine/model.ts';
import { isUnknown } from '../core/engine/model.ts';
import type { KubeSite } from '../kube/object-kind.ts';
import { stamped } from '../kube/object-kind.ts';
import { idsTakingOutputs, objectNodes } from '../kube/object-nodes.ts';
import { PROMETHEUS_WORKSPACE_ID } from '../providers/aws/base-stack.ts';
import { leftoverGrafanaWorkspaceKind } from '../providers/aws/kinds/grafana-workspace.ts';
import type { AwsProvider } from '../providers/aws/provider.ts';
import type { ReaderPort } from '../providers/aws/security-rules.ts';
import { KUBECONFIG_ID } from '../talos/kinds/kubeconfig.ts';
import { MONITORING_NAMESPACE, PENDING_WORKSPACE_ENDPOINT, centralPrometheusUrl } from '../telemetry/prometheus-config.ts';
import { vpnPlan } from '../vpn/plan.ts';
import type { DashboardFile } from './dashboard-files.ts';
import { type PrometheusTarget, prometheusDataSource } from './data-source.ts';
import { GRAFANA_ADMIN_ID, grafanaAdminKind } from './incluster/admin-secret.ts';
import { inclusterManifests } from './incluster/manifests.ts';
import { type InVpcPrometheus, grafanaReaders, managedGrafanaNodes } from './managed/aws-stack.ts';
import type { GrafanaMode } from './mode.ts';

const VPN_DASHBOARD_UID = 'hybridctl-vpn';
const LOCAL_PROMETHEUS = `http://prometheus.${MONITORING_NAMESPACE}.svc:9090`;

/** What the dashboards add to the sites, for pipeline.ts to compose. */
export interface GrafanaLayer {
  mode: GrafanaMode;
  notes: string[];
  /** Node ports of the AWS site that the managed workspace's network interfaces reach. */
  readers: ReaderPort[];
  /** The managed workspace and its content (mode managed). */
  awsNodes(provider: AwsProvider, zones: readonly string[], inVpc: InVpcPrometheus): Node<AwsProvider>[];
  /** Grafana in the site's cluster (mode incluster, on the active site), after the site's kubeconfig. */
  siteNodes(site: SiteName): Node<KubeSite>[];
  /** Kinds a site looks for so that what an earlier config made there is removed. */
  leftoverKinds(site: SiteName): AnyKind<unknown>[];
}

/**
 * The dashboards' layer for a config whose monitoring.grafana is resolved (see chooseGrafana):
 * the managed workspace on the AWS site, or Grafana in the cluster of `active` (where traffic
 * goes: it moves there with the next `up` after a failover, not during it), or nothing.
 */
export function grafanaLayer(
  config: HybridConfig,
  mode: GrafanaMode,
  built: readonly DashboardFile[],
  options: { notes?: string[]; active?: SiteName } = {},
): GrafanaLayer {
  const active = options.active ?? config.service.activeSite;
  const notes = options.notes ?? [];
  // Without the VPN there is no tunnel to show.
  const dashboards = vpnPlan(config) ? built : built.filter((d) => d.uid !== VPN_DASHBOARD_UID);
  const inCluster = (site: SiteName) => mode === 'incluster' && site === active;
  return {
    mode,
    notes: [...notes, ...(mode === 'incluster' ? inclusterNotes(config, active) : [])],
    readers: mode === 'managed' ? grafanaReaders(config) : [],
    awsNodes: (provider, zones, inVpc) => (mode === 'managed' ? managedGrafanaNodes(config, provider, zones, dashboards, inVpc) : []),
    siteNodes: (site) => (inCluster(site) ? inclusterNodes(config, site, dashboards) : []),
    leftoverKinds: (site) => [...(inCluster(site) ? [] : [grafanaAdminKind]), ...(site === 'aws' && mode !== 'managed' ? [leftoverGrafanaWorkspaceKind] : [])] as AnyKind<unknown>[],
  };
}

function inclusterNotes(config: HybridConfig, site: SiteName): string[] {
  if (site === 'onprem' && !config.monitoring.managedPrometheus && !vpnPlan(config)) {
    return ["Grafana on-prem shows the on-prem site only: the AWS site's metrics reach it over the VPN, which is off"];
  }
  return [];
}

/** Where the in-cluster Grafana of `site` reads both sites' metrics. */
function inclusterTarget(config: HybridConfig, site: SiteName, workspaceEndpoint?: string): PrometheusTarget {
  if (config.monitoring.managedPrometheus) return { url: workspaceEndpoint ?? PENDING_WORKSPACE_ENDPOINT, sigv4: { region: config.aws.region, authType: 'default' } };
  // On-prem, the AWS Prometheus (which holds both sites) over the VPN, where the on-prem one writes.
  const central = site === 'onprem' ? centralPrometheusUrl(config) : undefined;
  return { url: central ?? LOCAL_PROMETHEUS };
}

function inclusterNodes(config: HybridConfig, site: SiteName, dashboards: readonly DashboardFile[]): Node<KubeSite>[] {
  const render = (endpoint?: string) =>
    inclusterManifests(config, site, prometheusDataSource(inclusterTarget(config, site, endpoint)), dashboards).map((o) => stamped(o, config.metadata.name));
  const objects = render();
  const namespace = `Namespace/${MONITORING_NAMESPACE}`;
  const admin: Node<KubeSite> = { id: GRAFANA_ADMIN_ID, kind: grafanaAdminKind, dependsOn: [KUBECONFIG_ID, namespace], spec: () => ({}) };
  const managed = config.monitoring.managedPrometheus;
  const other = managed ? render(`${PENDING_WORKSPACE_ENDPOINT}other/`) : [];
  const from = managed
    ? {
        ids: idsTakingOutputs(objects, other),
        dependsOn: [PROMETHEUS_WORKSPACE_ID],
        render: (refs: Refs) => {
          const endpoint = refs.get(PROMETHEUS_WORKSPACE_ID, 'endpoint');
          return render(isUnknown(endpoint) ? undefined : endpoint);
        },
      }
    : undefined;
  return [admin, ...objectNodes(objects, [KUBECONFIG_ID, namespace], [GRAFANA_ADMIN_ID], from)];
}
