import type { HybridConfig } from '../../core/config/schema.ts';
import { bucketName } from '../../providers/aws/naming.ts';
import type { AwsProvider } from '../../providers/aws/provider.ts';
import { type LakeSummary, summarize } from '../../telemetry/lake-listing.ts';
import type { DataStatus } from '../model.ts';
import type { Source } from '../poller.ts';

/**
 * How long a listing of the lake serves. The lake changes once per shipping interval, and listing
 * it is a paged LIST of every object: at every refresh, a lake of months would cost hundreds of
 * requests every few seconds.
 */
const LISTING_TTL_MS = 60_000;

/** What `data ls` shows: per signal and site, the objects in the lake and the newest one's age (as of each refresh). */
export function dataSource(config: HybridConfig, aws: AwsProvider | undefined): Source<DataStatus> {
  let listing: { at: number; rows: LakeSummary[] } | undefined;
  return async () => {
    if (!config.monitoring.enabled || !config.monitoring.shipper.enabled) return { unset: 'the data lake\'s shipper is turned off (monitoring)' };
    if (!aws) return { unset: 'no AWS credentials: the lake is in the telemetry bucket' };
    const bucket = bucketName(aws, 'telemetry');
    if (!listing || Date.now() - listing.at >= LISTING_TTL_MS) listing = { at: Date.now(), rows: await summarize(aws.clients.s3, bucket) };
    const now = Date.now();
    return {
      bucket,
      rows: listing.rows.map((r) => ({ signal: r.signal, site: r.site, objects: r.objects, ...(r.newest ? { newestAgeS: Math.round((now - r.newest.getTime()) / 1000) } : {}) })),
    };
  };
}
