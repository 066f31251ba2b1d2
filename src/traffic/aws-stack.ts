import type { HybridConfig, SiteName } from '../core/config/schema.ts';
import type { Node, Refs } from '../core/engine/model.ts';
import { instanceId } from '../providers/aws/node-stack.ts';
import { lbTargetsKind, targetsIdFor } from '../providers/aws/kinds/lb-targets.ts';
import { listenerKind } from '../providers/aws/kinds/listener.ts';
import { type TargetHealthCheck, targetGroupKind } from '../providers/aws/kinds/target-group.ts';
import { nameOf, tagsFor } from '../providers/aws/naming.ts';
import { type AwsSite, LOAD_BALANCER_ID } from '../providers/aws/talos-site.ts';
import { dnsNodes } from './dns-stack.ts';
import { onpremWorkers } from './entry.ts';

type SiteNode = Node<AwsSite>;

export const SERVICE_LISTENER_ID = 'listener-service';

/** The logical id of a site's target group for the service. */
export function serviceGroupId(site: SiteName): string {
  return `tg-service-${site}`;
}

export function healthCheckOf(config: HybridConfig): TargetHealthCheck {
  const h = config.traffic.healthCheck;
  return { protocol: 'HTTP', path: h.path, intervalSeconds: h.intervalSeconds, healthyThreshold: h.healthyThreshold, unhealthyThreshold: h.unhealthyThreshold };
}

/**
 * The public entry on AWS: a target group per site on the service's NodePort (AWS workers by
 * instance, on-prem workers by IP over the VPN), a listener on traffic.port forwarding to the
 * active site's group, and with traffic.dns the Route 53 failover pair.
 */
export function trafficAwsNodes(config: HybridConfig, site: AwsSite, activeSite: SiteName): SiteNode[] {
  const tags = (id: string) => tagsFor(site, id);
  const nodes: SiteNode[] = [];
  const add = <Spec>(id: string, kind: SiteNode['kind'], dependsOn: string[], spec: (refs: Refs) => Spec) => nodes.push({ id, kind, dependsOn, spec });
  const workers = Array.from({ length: config.aws.workers.count }, (_, i) => instanceId('worker', i + 1));

  for (const target of ['aws', 'onprem'] as const) {
    const id = serviceGroupId(target);
    add(id, targetGroupKind, ['vpc'], (refs) => ({
      name: nameOf(config.metadata.name, `svc-${target}`),
      port: config.service.nodePort,
      vpcId: refs.get('vpc', 'vpcId'),
      targetType: target === 'aws' ? 'instance' : 'ip',
      healthCheck: healthCheckOf(config),
      deregistrationDelaySeconds: config.traffic.drainSeconds,
      tags: tags(id),
    }));
  }
  add(targetsIdFor(serviceGroupId('aws')), lbTargetsKind, [serviceGroupId('aws'), ...workers], (refs) => ({
    targetGroupArn: refs.get(serviceGroupId('aws'), 'arn'),
    targets: workers.map((w) => ({ id: refs.get(w, 'instanceId') })),
  }));
  add(targetsIdFor(serviceGroupId('onprem')), lbTargetsKind, [serviceGroupId('onprem')], (refs) => ({
    targetGroupArn: refs.get(serviceGroupId('onprem'), 'arn'),
    targets: onpremWorkers(config).map((address) => ({ id: address, outsideVpc: true })),
  }));
  add(SERVICE_LISTENER_ID, listenerKind, [LOAD_BALANCER_ID, serviceGroupId('aws'), serviceGroupId('onprem')], (refs) => ({
    loadBalancerArn: refs.get(LOAD_BALANCER_ID, 'arn'),
    port: config.traffic.port,
    targetGroupArn: refs.get(serviceGroupId(activeSite), 'arn'),
    tags: tags(SERVICE_LISTENER_ID),
  }));
  nodes.push(...dnsNodes(config, site, activeSite));
  return nodes;
}
