import { DeleteObjectsCommand, ListObjectVersionsCommand, type ObjectIdentifier } from '@aws-sdk/client-s3';
import { isNotFound } from './errors.ts';
import type { AwsAct } from './provider.ts';

/** Deletes every object version and delete marker: a versioned bucket must be empty to be deleted. */
export async function emptyBucket(ctx: AwsAct, Bucket: string): Promise<number> {
  const s3 = ctx.provider.clients.s3;
  let deleted = 0;
  let KeyMarker: string | undefined;
  let VersionIdMarker: string | undefined;
  try {
    for (;;) {
      const page = await s3.send(new ListObjectVersionsCommand({ Bucket, KeyMarker, VersionIdMarker, MaxKeys: 1000 }));
      const objects: ObjectIdentifier[] = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v) => ({ Key: v.Key, VersionId: v.VersionId }));
      if (objects.length > 0) {
        const result = await s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: objects, Quiet: true } }));
        const failed = result.Errors ?? [];
        if (failed.length > 0) throw new Error(`could not delete ${failed.length} objects from ${Bucket}, e.g. ${failed[0]?.Key} (${failed[0]?.Code})`);
        deleted += objects.length;
        ctx.report(`emptying ${Bucket}: ${deleted} object versions deleted`);
      }
      if (!page.IsTruncated) return deleted;
      KeyMarker = page.NextKeyMarker;
      VersionIdMarker = page.NextVersionIdMarker;
    }
  } catch (error) {
    if (isNotFound(error)) return deleted;
    throw error;
  }
}
