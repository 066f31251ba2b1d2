import { DescribeAvailabilityZonesCommand } from '@aws-sdk/client-ec2';
import type { HybridConfig } from '../../core/config/schema.ts';
import { MAX_ZONE_LETTER } from '../../core/config/semantic.ts';
import { UsageError } from '../../core/errors.ts';
import type { AwsClients } from './clients.ts';

/**
 * The zones the cluster uses. A count takes the region's first available zones by name; a list
 * is checked against the region. Without an account to ask, a count assumes zones a, b, c.
 */
export async function resolveZones(config: HybridConfig, clients: AwsClients | undefined): Promise<string[]> {
  const wanted = config.aws.availabilityZones;
  const region = config.aws.region;
  if (!clients) return Array.isArray(wanted) ? wanted : ['a', 'b', 'c'].slice(0, wanted).map((l) => `${region}${l}`);
  const result = await clients.ec2.send(
    new DescribeAvailabilityZonesCommand({ Filters: [{ Name: 'zone-type', Values: ['availability-zone'] }] }),
  );
  const available = (result.AvailabilityZones ?? [])
    .filter((z) => z.State === 'available' && z.ZoneName)
    .map((z) => z.ZoneName as string)
    .filter((z) => z.slice(-1) <= MAX_ZONE_LETTER)
    .sort();
  if (Array.isArray(wanted)) {
    wanted.forEach((zone, i) => {
      if (!available.includes(zone))
        throw new UsageError(`aws.availabilityZones[${i}]: "${zone}" is not an available zone of ${region} (available: ${available.join(', ')})`);
    });
    return wanted;
  }
  if (available.length < wanted)
    throw new UsageError(`aws.availabilityZones: ${wanted} zones wanted but ${region} offers ${available.length} (${available.join(', ')})`);
  return available.slice(0, wanted);
}
