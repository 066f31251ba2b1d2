import { DescribeTagsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { TAG_CLUSTER, type Tags } from './naming.ts';
import type { AwsProvider } from './provider.ts';
import { toRecord } from './tags.ts';

/** Tags of load-balancing resources (20 ARNs per call), keeping only this cluster's. */
export async function clusterTagged(provider: AwsProvider, arns: readonly string[]): Promise<Map<string, Tags>> {
  const out = new Map<string, Tags>();
  for (let i = 0; i < arns.length; i += 20) {
    const result = await provider.clients.elb.send(new DescribeTagsCommand({ ResourceArns: arns.slice(i, i + 20) }));
    for (const d of result.TagDescriptions ?? []) {
      const tags = toRecord(d.Tags);
      if (d.ResourceArn && tags[TAG_CLUSTER] === provider.cluster) out.set(d.ResourceArn, tags);
    }
  }
  return out;
}
