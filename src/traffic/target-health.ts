import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { AwsProvider } from '../providers/aws/provider.ts';

export interface TargetHealth {
  id: string;
  /** initial, healthy, unhealthy, unused, draining, unavailable: as the load balancer reports. */
  state: string;
  reason?: string;
}

/** The targets of a group and how the load balancer judges them. */
export async function groupHealth(provider: AwsProvider, targetGroupArn: string): Promise<TargetHealth[]> {
  const result = await provider.clients.elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }));
  return (result.TargetHealthDescriptions ?? []).map((d) => ({
    id: d.Target?.Id ?? '',
    state: d.TargetHealth?.State ?? 'unavailable',
    ...(d.TargetHealth?.Description ? { reason: d.TargetHealth.Description } : {}),
  }));
}

export function summarise(targets: readonly TargetHealth[]): string {
  if (targets.length === 0) return 'no targets registered';
  return targets.map((t) => `${t.id} ${t.state}${t.state !== 'healthy' && t.reason ? ` (${t.reason})` : ''}`).join(', ');
}
