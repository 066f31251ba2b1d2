import {
  CreateBucketCommand,
  DeleteBucketCommand,
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketLoggingCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  GetPublicAccessBlockCommand,
  type LifecycleRule as S3LifecycleRule,
  ListBucketsCommand,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutPublicAccessBlockCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { setTimeout as sleep } from 'node:timers/promises';
import { diffFields } from '../../../core/engine/diff.ts';
import { type Val, known } from '../../../core/engine/model.ts';
import { deleting, ifExists } from '../calls.ts';
import { errorCode } from '../errors.ts';
import { type Tags, bucketPurpose } from '../naming.ts';
import type { AwsAct, AwsKind } from '../provider.ts';
import { emptyBucket } from '../s3-empty.ts';
import { componentOf, missingTags, tagChange, toList, toRecord } from '../tags.ts';

/** A lifecycle rule in the few terms we use; S3's own shape has many equivalent spellings. */
export interface LifecycleRule {
  id: string;
  enabled: boolean;
  transitionToInfrequentAccessDays?: number;
  expireDays?: number;
  noncurrentExpireDays?: number;
  abortIncompleteUploadDays?: number;
}

/** A statement of a bucket policy, in IAM's JSON shape. */
export type PolicyStatement = Record<string, unknown>;

export interface S3BucketSpec {
  bucketName: string;
  kmsKeyArn: Val;
  lifecycle: LifecycleRule[];
  /** What the bucket grants besides its owner (log delivery services, say); requests without TLS are denied whatever these say. */
  grants?: PolicyStatement[];
  tags: Tags;
}

/** Where a bucket's server access logs go; the s3-access-logging kind manages it. */
export interface BucketLogging {
  targetBucket: string;
  targetPrefix: string;
}

export interface Encryption {
  algorithm: string;
  keyArn: string | undefined;
  bucketKey: boolean;
}

export interface S3BucketState {
  bucketName: string;
  encryption: Encryption | undefined;
  versioning: string | undefined;
  publicAccessBlock: Record<string, boolean> | undefined;
  policy: unknown;
  lifecycle: LifecycleRule[];
  logging: BucketLogging | undefined;
  tags: Tags;
}

const BLOCK_ALL = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };

/** The logical id of a bucket with this purpose (`state`, `telemetry`). */
export function bucketIdFor(purpose: string): string {
  return `bucket-${purpose}`;
}

/**
 * The bucket's policy: the grants, then a deny of every request without TLS, to everyone (the
 * log delivery services write over TLS). S3 does not care about the order of statements; the
 * grants come first because moto's check of a logging target reads statements until one matches
 * and cannot read a `"Principal": "*"`.
 */
export function bucketPolicy(bucketName: string, grants: readonly PolicyStatement[] = []) {
  return {
    Version: '2012-10-17',
    Statement: [
      ...grants,
      {
        Sid: 'DenyInsecureTransport',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Resource: [`arn:aws:s3:::${bucketName}`, `arn:aws:s3:::${bucketName}/*`],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    ],
  };
}

function desired(spec: S3BucketSpec) {
  return {
    encryption: { algorithm: 'aws:kms', keyArn: spec.kmsKeyArn, bucketKey: true },
    versioning: 'Enabled',
    publicAccessBlock: BLOCK_ALL,
    policy: bucketPolicy(spec.bucketName, spec.grants),
    lifecycle: spec.lifecycle,
  };
}

export const s3BucketKind: AwsKind<S3BucketSpec, S3BucketState> = {
  kind: 's3-bucket',

  /** Bucket names are ours by construction (cluster, account, region), so one list call finds them. */
  async observe({ provider }) {
    const s3 = provider.clients.s3;
    const listed = await s3.send(new ListBucketsCommand({ Prefix: `hctl-${provider.cluster}-` }));
    const ours = (listed.Buckets ?? []).flatMap((b) => {
      const purpose = b.Name ? bucketPurpose(provider, b.Name) : undefined;
      return purpose && b.Name ? [{ name: b.Name, purpose }] : [];
    });
    return Promise.all(
      ours.map(async ({ name, purpose }) => {
        const state = await readBucket(s3, name);
        return { id: componentOf(state.tags) ?? bucketIdFor(purpose), ref: name, state };
      }),
    );
  },

  diff(state, spec) {
    return { changes: [...diffFields(state, desired(spec)), ...tagChange(state.tags, spec.tags)] };
  },

  describe(spec) {
    const grants = (spec.grants ?? []).map((g) => String(g.Sid ?? 'grant'));
    return { bucketName: spec.bucketName, ...desired(spec), policy: ['deny requests without TLS', ...grants].join('; ') };
  },

  async create(spec, ctx) {
    const { region } = ctx.provider;
    try {
      await ctx.provider.clients.s3.send(
        new CreateBucketCommand({
          Bucket: spec.bucketName,
          ObjectOwnership: 'BucketOwnerEnforced',
          ...(region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region as never } }),
        }),
      );
    } catch (error) {
      // Ours already (a run stopped before tagging it): carry on configuring it.
      if (errorCode(error) !== 'BucketAlreadyOwnedByYou') throw error;
    }
    const empty: S3BucketState = {
      bucketName: spec.bucketName,
      encryption: undefined,
      versioning: undefined,
      publicAccessBlock: undefined,
      policy: undefined,
      lifecycle: [],
      logging: undefined,
      tags: {},
    };
    return this.update({ id: ctx.id, ref: spec.bucketName, state: empty }, spec, this.diff(empty, spec).changes, ctx);
  },

  async update(found, spec, changes, ctx) {
    const s3 = ctx.provider.clients.s3;
    const Bucket = found.state.bucketName;
    const want = desired(spec);
    const changed = new Set(changes.map((c) => c.field));
    // Tags first, so a bucket interrupted mid-way is still recognisably ours.
    if (changed.has('tags')) await s3.send(new PutBucketTaggingCommand({ Bucket, Tagging: { TagSet: toList({ ...found.state.tags, ...missingTags(found.state.tags, spec.tags) }) } }));
    if (changed.has('publicAccessBlock')) await s3.send(new PutPublicAccessBlockCommand({ Bucket, PublicAccessBlockConfiguration: BLOCK_ALL }));
    if (changed.has('encryption')) await putEncryption(s3, Bucket, known(spec.kmsKeyArn));
    if (changed.has('versioning')) await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    if (changed.has('policy')) await s3.send(new PutBucketPolicyCommand({ Bucket, Policy: JSON.stringify(want.policy) }));
    if (changed.has('lifecycle')) await putLifecycle(ctx, Bucket, spec.lifecycle);
    return {
      ...found,
      state: { ...found.state, ...want, encryption: { ...want.encryption, keyArn: known(spec.kmsKeyArn) }, tags: { ...found.state.tags, ...spec.tags } },
    };
  },

  /**
   * Empties the bucket (every version) and deletes it. Log deliveries are asynchronous: a log
   * written after the bucket was emptied (a flow log's last interval, say) makes S3 answer
   * BucketNotEmpty, so it empties again and retries for a while.
   */
  async destroy(found, ctx) {
    const Bucket = found.state.bucketName;
    const deadline = Date.now() + 600_000;
    for (;;) {
      await emptyBucket(ctx, Bucket);
      try {
        await deleting(() => ctx.provider.clients.s3.send(new DeleteBucketCommand({ Bucket })));
        return;
      } catch (error) {
        if (errorCode(error) !== 'BucketNotEmpty' || Date.now() > deadline) throw error;
        ctx.report(`${Bucket} received more objects (late log deliveries); emptying it again`);
        await sleep(5_000, undefined, { signal: ctx.signal });
      }
    }
  },

  outputs(found) {
    return { bucketName: found.state.bucketName, arn: `arn:aws:s3:::${found.state.bucketName}` };
  },
};

async function readBucket(s3: S3Client, Bucket: string): Promise<S3BucketState> {
  const [tagging, encryption, versioning, block, policy, lifecycle, logging] = await Promise.all([
    ifExists(() => s3.send(new GetBucketTaggingCommand({ Bucket }))),
    ifExists(() => s3.send(new GetBucketEncryptionCommand({ Bucket }))),
    s3.send(new GetBucketVersioningCommand({ Bucket })),
    ifExists(() => s3.send(new GetPublicAccessBlockCommand({ Bucket }))),
    ifExists(() => s3.send(new GetBucketPolicyCommand({ Bucket }))),
    ifExists(() => s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket }))),
    s3.send(new GetBucketLoggingCommand({ Bucket })),
  ]);
  const target = logging.LoggingEnabled;
  const rule = encryption?.ServerSideEncryptionConfiguration?.Rules?.[0];
  const byDefault = rule?.ApplyServerSideEncryptionByDefault;
  const pab = block?.PublicAccessBlockConfiguration;
  return {
    bucketName: Bucket,
    encryption: byDefault ? { algorithm: byDefault.SSEAlgorithm ?? '', keyArn: byDefault.KMSMasterKeyID, bucketKey: rule?.BucketKeyEnabled ?? false } : undefined,
    versioning: versioning.Status,
    publicAccessBlock: pab
      ? {
          BlockPublicAcls: pab.BlockPublicAcls ?? false,
          IgnorePublicAcls: pab.IgnorePublicAcls ?? false,
          BlockPublicPolicy: pab.BlockPublicPolicy ?? false,
          RestrictPublicBuckets: pab.RestrictPublicBuckets ?? false,
        }
      : undefined,
    policy: policy?.Policy ? JSON.parse(policy.Policy) : undefined,
    lifecycle: (lifecycle?.Rules ?? []).map(fromS3Rule),
    logging: target?.TargetBucket ? { targetBucket: target.TargetBucket, targetPrefix: target.TargetPrefix ?? '' } : undefined,
    tags: toRecord(tagging?.TagSet),
  };
}

async function putEncryption(s3: S3Client, Bucket: string, keyArn: string): Promise<void> {
  await s3.send(
    new PutBucketEncryptionCommand({
      Bucket,
      ServerSideEncryptionConfiguration: {
        Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn }, BucketKeyEnabled: true }],
      },
    }),
  );
}

async function putLifecycle(ctx: AwsAct, Bucket: string, rules: LifecycleRule[]): Promise<void> {
  await ctx.provider.clients.s3.send(
    new PutBucketLifecycleConfigurationCommand({ Bucket, LifecycleConfiguration: { Rules: rules.map(toS3Rule) } }),
  );
}

function toS3Rule(rule: LifecycleRule): S3LifecycleRule {
  return {
    ID: rule.id,
    Status: rule.enabled ? 'Enabled' : 'Disabled',
    Filter: { Prefix: '' },
    ...(rule.transitionToInfrequentAccessDays ? { Transitions: [{ Days: rule.transitionToInfrequentAccessDays, StorageClass: 'STANDARD_IA' }] } : {}),
    ...(rule.expireDays ? { Expiration: { Days: rule.expireDays } } : {}),
    ...(rule.noncurrentExpireDays ? { NoncurrentVersionExpiration: { NoncurrentDays: rule.noncurrentExpireDays } } : {}),
    ...(rule.abortIncompleteUploadDays ? { AbortIncompleteMultipartUpload: { DaysAfterInitiation: rule.abortIncompleteUploadDays } } : {}),
  };
}

function fromS3Rule(rule: S3LifecycleRule): LifecycleRule {
  const ia = rule.Transitions?.find((t) => t.StorageClass === 'STANDARD_IA')?.Days;
  return {
    id: rule.ID ?? '',
    enabled: rule.Status === 'Enabled',
    ...(ia ? { transitionToInfrequentAccessDays: ia } : {}),
    ...(rule.Expiration?.Days ? { expireDays: rule.Expiration.Days } : {}),
    ...(rule.NoncurrentVersionExpiration?.NoncurrentDays ? { noncurrentExpireDays: rule.NoncurrentVersionExpiration.NoncurrentDays } : {}),
    ...(rule.AbortIncompleteMultipartUpload?.DaysAfterInitiation
      ? { abortIncompleteUploadDays: rule.AbortIncompleteMultipartUpload.DaysAfterInitiation }
      : {}),
  };
}
