import type { HybridConfig, SiteName } from '../../core/config/schema.ts';
import { SITES } from '../../core/config/schema.ts';
import { messageOf } from '../../core/errors.ts';
import type { StateDir } from '../../core/state.ts';
import type { KubeObject } from '../../kube/client.ts';
import type { KubeSite } from '../../kube/object-kind.ts';
import { SERVICE_DEPLOYMENT, SERVICE_NAMESPACE, SERVICE_POD_SELECTOR } from '../../service/manifests.ts';
import { readActiveSite } from '../../traffic/active-site.ts';
import { LAST_FAILOVER_FILE } from '../../traffic/journal.ts';
import type { ServiceStatus, SiteService } from '../model.ts';
import type { Source } from '../poller.ts';

interface Deployment extends KubeObject {
  spec?: { replicas?: number; template?: { spec?: { containers?: { image?: string }[] } } };
  status?: { readyReplicas?: number };
}

/**
 * The service on each site (replicas ready of desired, the image running, its pods), which site
 * is active (where the last failover left traffic, else the config), and the last failover.
 * A site whose API does not answer is shown with why; the other still is.
 */
export function serviceSource(config: HybridConfig, state: StateDir, sites: Partial<Record<SiteName, KubeSite>>): Source<ServiceStatus> {
  return async () => {
    if (!config.service.enabled) return { unset: 'the service is turned off (service.enabled)' };
    const entries = await Promise.all(
      SITES.filter((s) => sites[s]).map(async (site) => [site, await siteService(sites[site]!).catch((e: unknown) => ({ error: messageOf(e) }))] as const),
    );
    const record = await readActiveSite(state);
    return {
      active: record?.site ?? config.service.activeSite,
      sites: Object.fromEntries(entries),
      ...(await lastFailover(state)),
    };
  };
}

async function siteService(site: KubeSite): Promise<SiteService | { error: string }> {
  const kube = await site.kube();
  if (!kube) return { error: 'no kubeconfig yet' };
  const [deployment, pods] = await Promise.all([
    kube.get<Deployment>({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: SERVICE_DEPLOYMENT, namespace: SERVICE_NAMESPACE } }),
    kube.pods(SERVICE_NAMESPACE, SERVICE_POD_SELECTOR),
  ]);
  if (!deployment) return { error: 'not deployed' };
  const image = deployment.spec?.template?.spec?.containers?.[0]?.image ?? '';
  return {
    ready: deployment.status?.readyReplicas ?? 0,
    desired: deployment.spec?.replicas ?? 0,
    image: image.includes('@') ? image.slice(image.indexOf('@') + 1) : image,
    pods: pods.map((p) => ({ name: p.metadata?.name ?? '', node: p.spec?.nodeName ?? '', ready: (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True') })),
  };
}

async function lastFailover(state: StateDir): Promise<Pick<ServiceStatus, 'lastFailover'>> {
  const text = await state.read(LAST_FAILOVER_FILE);
  if (!text) return {};
  const report = JSON.parse(text) as { to: SiteName; startedAt: string; totalMs?: number; probe?: { failed?: number } };
  return {
    lastFailover: {
      to: report.to,
      at: report.startedAt,
      ...(report.totalMs !== undefined ? { seconds: Math.round(report.totalMs / 100) / 10 } : {}),
      ...(report.probe?.failed !== undefined ? { failedRequests: report.probe.failed } : {}),
    },
  };
}
