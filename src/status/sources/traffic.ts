import type { HybridConfig, SiteName } from '../../core/config/schema.ts';
import { SITES } from '../../core/config/schema.ts';
import { Observation } from '../../core/engine/plan.ts';
import { messageOf } from '../../core/errors.ts';
import type { KubeSite } from '../../kube/object-kind.ts';
import { targetGroupKind } from '../../providers/aws/kinds/target-group.ts';
import type { AwsProvider } from '../../providers/aws/provider.ts';
import { serviceGroupId } from '../../traffic/aws-stack.ts';
import { noEntryReason, serviceEntry } from '../../traffic/entry.ts';
import { groupHealth } from '../../traffic/target-health.ts';
import type { TrafficStatus } from '../model.ts';
import type { Source } from '../poller.ts';
import { prometheusReader } from '../prometheus.ts';

/** Minutes of request rate the sparkline covers. */
export const HISTORY_MINUTES = 10;

/**
 * The public entry's target health per site (the load balancer's own judgement, read through the
 * target-group kind `plan` observes with) and the service's request rate, 5xx share and p99 per
 * site from each site's Prometheus, with the rate of the last minutes. What cannot be read is
 * named in `missing`, and the rest still shown.
 */
export function trafficSource(config: HybridConfig, aws: AwsProvider | undefined, sites: Partial<Record<SiteName, KubeSite>>): Source<TrafficStatus> {
  return async (signal) => {
    const noEntry = serviceEntry(config) ? undefined : (noEntryReason(config) ?? 'no public entry (traffic.enabled is false)');
    if (noEntry && !config.monitoring.enabled) return { unset: `${noEntry}, and no monitoring` };
    const status: TrafficStatus = { targets: {}, rate: {}, errorRatio: {}, p99: {}, history: {}, missing: [] };
    await Promise.all([
      noEntry ? status.missing.push(noEntry) : readTargets(aws, status).catch((e: unknown) => status.missing.push(`load balancer: ${messageOf(e)}`)),
      ...SITES.filter((s) => sites[s]).map((site) => readMetrics(site, sites[site]!, status, signal).catch((e: unknown) => status.missing.push(`${site} Prometheus: ${messageOf(e)}`))),
    ]);
    return status;
  };
}

async function readTargets(aws: AwsProvider | undefined, status: TrafficStatus): Promise<void> {
  if (!aws) throw new Error('no AWS credentials');
  const groups = await new Observation(aws).observe(targetGroupKind);
  await Promise.all(
    SITES.map(async (site) => {
      const group = groups.find((g) => g.id === serviceGroupId(site));
      if (!group) return;
      const targets = await groupHealth(aws, (group.state as { arn: string }).arn);
      status.targets[site] = { healthy: targets.filter((t) => t.state === 'healthy').length, total: targets.length };
    }),
  );
}

async function readMetrics(site: SiteName, kubeSite: KubeSite, status: TrafficStatus, signal: AbortSignal): Promise<void> {
  const kube = await kubeSite.kube();
  if (!kube) throw new Error('no kubeconfig yet');
  const prometheus = prometheusReader(kube);
  const one = async (expr: string) => (await prometheus.query(expr, signal))[0]?.value;
  const own = `{site="${site}"}`;
  const [rate, errors, p99, history] = await Promise.all([
    one(`sum(job:http_requests:rate1m${own})`),
    one(`max(job:http_requests_errors:ratio_rate1m${own})`),
    one(`max(job:http_request_duration_seconds:p99_rate1m${own})`),
    prometheus.range(`sum(job:http_requests:rate1m${own})`, HISTORY_MINUTES, 30, signal),
  ]);
  if (rate !== undefined) status.rate[site] = rate;
  if (errors !== undefined && !Number.isNaN(errors)) status.errorRatio[site] = errors;
  if (p99 !== undefined && !Number.isNaN(p99)) status.p99[site] = p99;
  if (history[0]) status.history[site] = history[0].values;
}
