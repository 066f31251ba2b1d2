import type { HybridConfig } from '../../core/config/schema.ts';
import { bucketName } from '../../providers/aws/naming.ts';
import type { AwsProvider } from '../../providers/aws/provider.ts';
import { summarize } from '../../telemetry/lake-listing.ts';
import type { DataStatus } from '../model.ts';
import type { Source } from '../poller.ts';

/** What `data ls` shows: per signal and site, the objects in the lake and the newest one's age. */
export function dataSource(config: HybridConfig, aws: AwsProvider | undefined): Source<DataStatus> {
  return async () => {
    if (!config.monitoring.enabled || !config.monitoring.shipper.enabled) return { unset: 'the data lake\'s shipper is turned off (monitoring)' };
    if (!aws) return { unset: 'no AWS credentials: the lake is in the telemetry bucket' };
    const bucket = bucketName(aws, 'telemetry');
    const rows = await summarize(aws.clients.s3, bucket);
    const now = Date.now();
    return {
      bucket,
      rows: rows.map((r) => ({ signal: r.signal, site: r.site, objects: r.objects, ...(r.newest ? { newestAgeS: Math.round((now - r.newest.getTime()) / 1000) } : {}) })),
    };
  };
}
