import type { HybridConfig, SiteName } from '../core/config/schema.ts';
import { ActionError } from '../core/errors.ts';
import { GRAFANA_ADMIN_SECRET, GRAFANA_PORT } from '../grafana/incluster/manifests.ts';
import { clusterGrafanaWorkspaces } from '../providers/aws/kinds/grafana-workspace.ts';
import { connectAws } from '../providers/aws/session.ts';
import { kubeconfigFileName } from '../talos/site.ts';
import { MONITORING_NAMESPACE } from '../telemetry/prometheus-config.ts';
import { readActiveSite } from '../traffic/active-site.ts';
import { freshState } from './access-files.ts';
import { type GlobalOptions, awsSettings, report } from './options.ts';

/**
 * `grafana open`: where the dashboards are. The managed workspace's URL (people sign in there with
 * IAM Identity Center or SAML); for Grafana in the cluster, the port-forward that reaches it on the
 * active site and how to read its admin password, which never leaves the cluster otherwise.
 */
export async function run(options: GlobalOptions, config: HybridConfig): Promise<number> {
  const mode = config.monitoring.enabled ? config.monitoring.grafana : 'none';
  if (mode === 'none') throw new ActionError('there is no Grafana: monitoring.grafana is none, or monitoring is off', 'set monitoring.grafana to managed or incluster and run `hybridctl up`');
  if (mode === 'managed' || mode === undefined) {
    const workspace = await managedWorkspace(options, config);
    if (workspace) {
      const url = `https://${workspace.endpoint}`;
      report(options, `${url}\n  sign in with ${workspace.signIn.includes('SAML') ? 'your SAML identity provider' : 'IAM Identity Center'}; the dashboards are in the folder hybridctl`, { mode: 'managed', url, workspaceId: workspace.workspaceId });
      return 0;
    }
    if (mode === 'managed') throw new ActionError('the Managed Grafana workspace does not exist yet', 'run `hybridctl up`');
  }
  const state = await freshState(options, config);
  const site: SiteName = (await readActiveSite(state))?.site ?? config.service.activeSite;
  if (!(await state.exists(kubeconfigFileName(site)))) throw new ActionError(`the ${site} site has no kubeconfig yet (${state.path(kubeconfigFileName(site))})`, 'run `hybridctl up`');
  const kubeconfig = state.path(kubeconfigFileName(site));
  const kubectl = `kubectl --kubeconfig ${kubeconfig} -n ${MONITORING_NAMESPACE}`;
  const forward = `${kubectl} port-forward svc/grafana ${GRAFANA_PORT}:${GRAFANA_PORT}`;
  const password = `${kubectl} get secret ${GRAFANA_ADMIN_SECRET} -o jsonpath='{.data.password}' | base64 -d`;
  report(
    options,
    [`Grafana runs in the ${site} site's cluster. Reach it with:`, `  ${forward}`, `then open http://localhost:${GRAFANA_PORT} and sign in as admin, with the password from:`, `  ${password}`].join('\n'),
    { mode: 'incluster', site, url: `http://localhost:${GRAFANA_PORT}`, portForward: forward, password },
  );
  return 0;
}

async function managedWorkspace(options: GlobalOptions, config: HybridConfig) {
  const session = await connectAws(config, {
    allowOffline: config.monitoring.grafana === undefined,
    skipZones: true,
    ...awsSettings(options),
  });
  if (session.offline) return undefined;
  const [found] = await clusterGrafanaWorkspaces(session.provider.clients.grafana, session.provider.cluster);
  return found;
}
