import { PutBucketLoggingCommand } from '@aws-sdk/client-s3';
import { diffFields } from '../../../core/engine/diff.ts';
import { type Val, known } from '../../../core/engine/model.ts';
import { deleting } from '../calls.ts';
import type { AwsAct, AwsKind } from '../provider.ts';
import { s3BucketKind } from './s3-bucket.ts';

export interface S3AccessLoggingSpec {
  /** The bucket whose requests are logged. */
  bucketName: Val;
  /** Where the logs go: a bucket whose policy lets `logging.s3.amazonaws.com` write under the prefix. */
  targetBucket: Val;
  targetPrefix: string;
}

export interface S3AccessLoggingState {
  bucketName: string;
  targetBucket: string;
  targetPrefix: string;
}

/** The id of a bucket's access logging: `bucket-state` → `bucket-state-access-logs`. */
export function accessLogsIdFor(bucketId: string): string {
  return `${bucketId}-access-logs`;
}

/**
 * Server access logging of one bucket into another (Security Hub S3.9). A resource of its own,
 * not a field of the bucket, so that `down` turns it off before either bucket is emptied (an
 * emptied log bucket would otherwise fill up again). Reads the buckets' observation: no calls of its own.
 */
export const s3AccessLoggingKind: AwsKind<S3AccessLoggingSpec, S3AccessLoggingState> = {
  kind: 's3-access-logging',

  async observe(ctx) {
    const buckets = await ctx.observe(s3BucketKind);
    return buckets.flatMap((b) =>
      b.state.logging
        ? [{ id: accessLogsIdFor(b.id), ref: `${b.state.bucketName}/logging`, state: { bucketName: b.state.bucketName, ...b.state.logging } }]
        : [],
    );
  },

  diff(state, spec) {
    return { changes: diffFields(state, { targetBucket: spec.targetBucket, targetPrefix: spec.targetPrefix }) };
  },

  describe(spec) {
    return { bucket: spec.bucketName, logsTo: spec.targetBucket, prefix: spec.targetPrefix };
  },

  async create(spec, ctx) {
    const state = await enable(ctx, spec);
    return { id: ctx.id, ref: `${state.bucketName}/logging`, state };
  },

  async update(found, spec, _changes, ctx) {
    return { ...found, state: await enable(ctx, spec) };
  },

  async destroy(found, ctx) {
    await deleting(() => ctx.provider.clients.s3.send(new PutBucketLoggingCommand({ Bucket: found.state.bucketName, BucketLoggingStatus: {} })));
  },

  outputs(found) {
    return { targetBucket: found.state.targetBucket, targetPrefix: found.state.targetPrefix };
  },
};

async function enable(ctx: AwsAct, spec: S3AccessLoggingSpec): Promise<S3AccessLoggingState> {
  const state = { bucketName: known(spec.bucketName), targetBucket: known(spec.targetBucket), targetPrefix: spec.targetPrefix };
  await ctx.provider.clients.s3.send(
    new PutBucketLoggingCommand({ Bucket: state.bucketName, BucketLoggingStatus: { LoggingEnabled: { TargetBucket: state.targetBucket, TargetPrefix: state.targetPrefix } } }),
  );
  return state;
}
