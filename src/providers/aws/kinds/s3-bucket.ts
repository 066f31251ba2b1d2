import {
  CreateBucketCommand,
  DeleteBucketCommand,
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
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

export interface S3BucketSpec {
  bucketName: string;
  kmsKeyArn: Val;
  lifecycle: LifecycleRule[];
  tags: Tags;
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
  tags: Tags;
}

const BLOCK_ALL = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };

/** The logical id of a bucket with this purpose (`state`, `telemetry`). */
export function bucketIdFor(purpose: string): string {
  return `bucket-${purpose}`;
}

export function denyInsecureTransport(bucketName: string) {
  return {
    Version: '2012-10-17',
    Statement: [
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
    policy: denyInsecureTransport(spec.bucketName),
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
    return { bucketName: spec.bucketName, ...desired(spec), policy: 'deny requests without TLS' };
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

  async destroy(found, ctx) {
    const Bucket = found.state.bucketName;
    await emptyBucket(ctx, Bucket);
    await deleting(() => ctx.provider.clients.s3.send(new DeleteBucketCommand({ Bucket })));
  },

  outputs(found) {
    return { bucketName: found.state.bucketName, arn: `arn:aws:s3:::${found.state.bucketName}` };
  },
};

async function readBucket(s3: S3Client, Bucket: string): Promise<S3BucketState> {
  const [tagging, encryption, versioning, block, policy, lifecycle] = await Promise.all([
    ifExists(() => s3.send(new GetBucketTaggingCommand({ Bucket }))),
    ifExists(() => s3.send(new GetBucketEncryptionCommand({ Bucket }))),
    s3.send(new GetBucketVersioningCommand({ Bucket })),
    ifExists(() => s3.send(new GetPublicAccessBlockCommand({ Bucket }))),
    ifExists(() => s3.send(new GetBucketPolicyCommand({ Bucket }))),
    ifExists(() => s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket }))),
  ]);
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
