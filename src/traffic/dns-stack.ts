import type { HybridConfig, SiteName } from '../core/config/schema.ts';
import type { Node, Refs } from '../core/engine/model.ts';
import { route53FailoverKind, DNS_FAILOVER_ID } from '../providers/aws/kinds/route53-failover.ts';
import { route53HealthCheckKind } from '../providers/aws/kinds/route53-health-check.ts';
import { errorCode } from '../providers/aws/errors.ts';
import { tagsFor } from '../providers/aws/naming.ts';
import type { AwsKind } from '../providers/aws/provider.ts';
import { type AwsSite, LOAD_BALANCER_ID } from '../providers/aws/talos-site.ts';

type SiteNode = Node<AwsSite>;

function isAccessDenied(error: unknown): boolean {
  return /AccessDenied/.test(errorCode(error));
}

export const DNS_CHECK_IDS = { aws: 'dns-check-aws', onprem: 'dns-check-onprem' } as const;

/**
 * With traffic.dns: a Route 53 health check per site's entry (the load balancer's listener, the
 * on-prem edge) and the failover record pair, the active site PRIMARY. This is the path that
 * survives losing the AWS region, where the load balancer goes too.
 */
export function dnsNodes(config: HybridConfig, site: AwsSite, activeSite: SiteName): SiteNode[] {
  const dns = config.traffic.dns;
  const ingress = config.onprem.ingress;
  if (!dns || !ingress) return [];
  const check = config.traffic.healthCheck;
  const common = {
    path: check.path,
    // Route 53 checks every 10 or every 30 seconds.
    intervalSeconds: check.intervalSeconds <= 10 ? 10 : 30,
    failureThreshold: check.unhealthyThreshold,
    hostedZoneId: dns.hostedZoneId,
    recordName: dns.name,
  };
  const nodes: SiteNode[] = [];
  nodes.push({
    id: DNS_CHECK_IDS.aws,
    kind: route53HealthCheckKind,
    dependsOn: [LOAD_BALANCER_ID],
    spec: (refs: Refs) => ({ ...common, target: { fqdn: refs.get(LOAD_BALANCER_ID, 'dnsName') }, port: config.traffic.port, tags: tagsFor(site, DNS_CHECK_IDS.aws) }),
  });
  nodes.push({
    id: DNS_CHECK_IDS.onprem,
    kind: route53HealthCheckKind,
    dependsOn: [],
    spec: () => ({ ...common, target: { ipAddress: ingress.address }, port: ingress.port, tags: tagsFor(site, DNS_CHECK_IDS.onprem) }),
  });
  nodes.push({
    id: DNS_FAILOVER_ID,
    kind: route53FailoverKind,
    dependsOn: [LOAD_BALANCER_ID, DNS_CHECK_IDS.aws, DNS_CHECK_IDS.onprem],
    spec: (refs: Refs) => ({
      hostedZoneId: dns.hostedZoneId,
      name: dns.name,
      ttl: dns.ttl,
      primary: activeSite,
      aws: { dnsName: refs.get(LOAD_BALANCER_ID, 'dnsName'), hostedZoneId: refs.get(LOAD_BALANCER_ID, 'canonicalHostedZoneId'), healthCheckId: refs.get(DNS_CHECK_IDS.aws, 'id') },
      onprem: { address: ingress.address, healthCheckId: refs.get(DNS_CHECK_IDS.onprem, 'id') },
    }),
  });
  return nodes;
}

/**
 * Without traffic.dns, the Route 53 kinds are still looked at, so that records and checks an
 * earlier config made are deleted. A caller without Route 53 permissions (who never used DNS)
 * gets nothing found rather than a failure.
 */
export function dnsLeftovers(): AwsKind<unknown, unknown>[] {
  return [route53HealthCheckKind, route53FailoverKind].map((kind) => ({
    ...(kind as unknown as AwsKind<unknown, unknown>),
    async observe(ctx) {
      try {
        return await (kind as unknown as AwsKind<unknown, unknown>).observe(ctx);
      } catch (error) {
        if (isAccessDenied(error)) return [];
        throw error;
      }
    },
  }));
}
