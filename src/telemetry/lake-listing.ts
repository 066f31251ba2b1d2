import { type S3Client, paginateListObjectsV2 } from '@aws-sdk/client-s3';
import { type FlowLogOrigin, type LakeScope, type Partition, inScope, partitionOf, prefixesFor, siteOfKey } from './lake-keys.ts';
import { type LakeSite, SIGNALS, type Signal } from './lake-schema.ts';

/** One object in the lake as S3 lists it. */
export interface LakeObject {
  key: string;
  size: number;
  /** Changes whenever the object's content does: the cache's key. */
  etag: string;
  lastModified: Date | undefined;
}

export interface LakeFile extends LakeObject {
  partition: Partition;
}

export async function listPrefix(s3: S3Client, bucket: string, prefix: string): Promise<LakeObject[]> {
  const out: LakeObject[] = [];
  for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: bucket, Prefix: prefix })) {
    for (const o of page.Contents ?? []) {
      if (o.Key === undefined) continue;
      out.push({ key: o.Key, size: o.Size ?? 0, etag: (o.ETag ?? '').replaceAll('"', ''), lastModified: o.LastModified });
    }
  }
  return out;
}

/** The Parquet files of the signals in scope, from listings pruned to the sites and days asked for. */
export async function listDataFiles(s3: S3Client, bucket: string, signals: readonly Signal[], scope: LakeScope, flowOrigin?: FlowLogOrigin): Promise<LakeFile[]> {
  const prefixes = signals.flatMap((signal) => prefixesFor(signal, scope, flowOrigin));
  const listed = await Promise.all(prefixes.map((prefix) => listPrefix(s3, bucket, prefix)));
  return listed.flat().flatMap((o) => {
    const partition = partitionOf(o.key);
    return partition && signals.includes(partition.signal) && inScope(partition, scope) ? [{ ...o, partition }] : [];
  });
}

export interface LakeSummary {
  signal: Signal;
  site: LakeSite;
  objects: number;
  bytes: number;
  newest: Date | undefined;
}

/** `data ls`: per signal and site, every object (Parquet and raw lines alike). */
export async function summarize(s3: S3Client, bucket: string): Promise<LakeSummary[]> {
  const prefixes = [...SIGNALS.filter((s) => s !== 'flows').map((s) => `signal=${s}/`), ...prefixesFor('flows', { sites: ['aws'] })];
  const listed = (await Promise.all(prefixes.map((prefix) => listPrefix(s3, bucket, prefix)))).flat();
  const rows = new Map<string, LakeSummary>();
  for (const signal of SIGNALS)
    for (const site of signal === 'flows' ? (['aws'] as const) : (['aws', 'onprem'] as const))
      rows.set(`${signal}/${site}`, { signal, site, objects: 0, bytes: 0, newest: undefined });
  for (const o of listed) {
    const where = siteOfKey(o.key);
    const row = where && rows.get(`${where.signal}/${where.site}`);
    if (!row) continue;
    row.objects += 1;
    row.bytes += o.size;
    if (o.lastModified && (!row.newest || o.lastModified > row.newest)) row.newest = o.lastModified;
  }
  return [...rows.values()];
}
