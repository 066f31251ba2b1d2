import {
  CreateKeyCommand,
  DescribeKeyCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  type KMSClient,
  ListResourceTagsCommand,
  PutKeyPolicyCommand,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
  UpdateKeyDescriptionCommand,
  paginateListAliases,
} from '@aws-sdk/client-kms';
import { GetResourcesCommand } from '@aws-sdk/client-resource-groups-tagging-api';
import { diffFields } from '../../../core/engine/diff.ts';
import type { Found } from '../../../core/engine/model.ts';
import { collect, deleting } from '../calls.ts';
import { TAG_CLUSTER, type Tags, kmsAlias } from '../naming.ts';
import type { AwsKind, AwsObserve } from '../provider.ts';
import { componentOf, missingTags, tagChange } from '../tags.ts';

export interface KmsKeySpec {
  description: string;
  /** The key policy (IAM's JSON shape). */
  policy: Record<string, unknown>;
  tags: Tags;
}

export interface KmsKeyState {
  keyId: string;
  arn: string;
  description: string;
  enabled: boolean;
  rotation: boolean;
  /** Parsed; undefined if it could not be read. */
  policy: unknown;
  tags: Tags;
}

/** KMS keeps one policy per key, always under this name. */
const POLICY_NAME = 'default';

/** Days a deleted key waits before KMS destroys it (the shortest KMS allows). */
export const KEY_DELETION_WINDOW_DAYS = 7;
const GONE = new Set(['PendingDeletion', 'PendingReplicaDeletion']);

/** The account's aliases; the key and the alias kinds share this one read. */
export function listAliases(ctx: AwsObserve) {
  return ctx.shared('kms:ListAliases', async () =>
    (await collect(paginateListAliases({ client: ctx.provider.clients.kms }, {}))).flatMap((p) => p.Aliases ?? []),
  );
}

export const kmsKeyKind: AwsKind<KmsKeySpec, KmsKeyState> = {
  kind: 'kms-key',

  /**
   * The key our alias points at comes first; keys tagged for the cluster but without the alias
   * (a run stopped between creating the key and its alias) follow, so none is ever leaked.
   */
  async observe(ctx) {
    const { provider } = ctx;
    const [aliases, tagged] = await Promise.all([
      listAliases(ctx),
      provider.clients.tagging.send(
        new GetResourcesCommand({ ResourceTypeFilters: ['kms:key'], TagFilters: [{ Key: TAG_CLUSTER, Values: [provider.cluster] }] }),
      ),
    ]);
    const aliased = aliases.find((a) => a.AliasName === kmsAlias(provider.cluster))?.TargetKeyId;
    const keyIds = [...new Set([...(aliased ? [aliased] : []), ...(tagged.ResourceTagMappingList ?? []).map((m) => m.ResourceARN?.split('/').pop() ?? '')])];
    const found = await Promise.all(keyIds.filter(Boolean).map((keyId) => readKey(provider.clients.kms, keyId)));
    return found.filter((f): f is Found<KmsKeyState> => f !== undefined);
  },

  diff(state, spec) {
    return {
      changes: [...diffFields(state, { description: spec.description, enabled: true, rotation: true, policy: spec.policy }), ...tagChange(state.tags, spec.tags)],
    };
  },

  describe(spec) {
    const grants = ((spec.policy.Statement as { Sid?: string }[] | undefined) ?? []).map((s) => s.Sid ?? 'statement');
    return { description: spec.description, keySpec: 'SYMMETRIC_DEFAULT', rotation: true, policy: grants.join('; ') };
  },

  async create(spec, ctx) {
    const kms = ctx.provider.clients.kms;
    const created = await kms.send(
      new CreateKeyCommand({
        Description: spec.description,
        KeyUsage: 'ENCRYPT_DECRYPT',
        KeySpec: 'SYMMETRIC_DEFAULT',
        Policy: JSON.stringify(spec.policy),
        Tags: Object.entries(spec.tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue })),
      }),
    );
    const keyId = created.KeyMetadata?.KeyId ?? '';
    const state: KmsKeyState = { keyId, arn: created.KeyMetadata?.Arn ?? '', description: spec.description, enabled: true, rotation: false, policy: spec.policy, tags: spec.tags };
    return this.update({ id: ctx.id, ref: keyId, state }, spec, diffFields(state, { rotation: true }), ctx);
  },

  async update(found, spec, changes, ctx) {
    const kms = ctx.provider.clients.kms;
    const KeyId = found.state.keyId;
    if (changes.some((c) => c.field === 'enabled')) await kms.send(new EnableKeyCommand({ KeyId }));
    if (changes.some((c) => c.field === 'rotation')) await kms.send(new EnableKeyRotationCommand({ KeyId }));
    if (changes.some((c) => c.field === 'description')) await kms.send(new UpdateKeyDescriptionCommand({ KeyId, Description: spec.description }));
    if (changes.some((c) => c.field === 'policy')) await kms.send(new PutKeyPolicyCommand({ KeyId, PolicyName: POLICY_NAME, Policy: JSON.stringify(spec.policy) }));
    const missing = missingTags(found.state.tags, spec.tags);
    if (Object.keys(missing).length > 0)
      await kms.send(new TagResourceCommand({ KeyId, Tags: Object.entries(missing).map(([TagKey, TagValue]) => ({ TagKey, TagValue })) }));
    return { ...found, state: { ...found.state, description: spec.description, enabled: true, rotation: true, policy: spec.policy, tags: { ...found.state.tags, ...spec.tags } } };
  },

  async destroy(found, ctx) {
    ctx.report(`scheduling deletion of ${found.state.keyId} in ${KEY_DELETION_WINDOW_DAYS} days`);
    await deleting(() =>
      ctx.provider.clients.kms.send(new ScheduleKeyDeletionCommand({ KeyId: found.state.keyId, PendingWindowInDays: KEY_DELETION_WINDOW_DAYS })),
    );
  },

  outputs(found) {
    return { keyId: found.state.keyId, arn: found.state.arn };
  },
};

async function readKey(kms: KMSClient, keyId: string): Promise<Found<KmsKeyState> | undefined> {
  const described = await kms.send(new DescribeKeyCommand({ KeyId: keyId }));
  const meta = described.KeyMetadata;
  if (!meta || GONE.has(meta.KeyState ?? '')) return undefined;
  const [rotation, tagList, policy] = await Promise.all([
    kms.send(new GetKeyRotationStatusCommand({ KeyId: keyId })),
    kms.send(new ListResourceTagsCommand({ KeyId: keyId })),
    kms.send(new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: POLICY_NAME })),
  ]);
  const tags = Object.fromEntries((tagList.Tags ?? []).map((t) => [t.TagKey ?? '', t.TagValue ?? '']));
  const state: KmsKeyState = {
    keyId: meta.KeyId ?? keyId,
    arn: meta.Arn ?? '',
    description: meta.Description ?? '',
    enabled: meta.KeyState === 'Enabled',
    rotation: rotation.KeyRotationEnabled ?? false,
    policy: policy.Policy ? JSON.parse(policy.Policy) : undefined,
    tags,
  };
  return { id: componentOf(tags) ?? 'kms-key', ref: state.keyId, state };
}

/**
 * The cluster key's policy: the account administers and uses it through IAM (KMS's default
 * statement), and the two log delivery services may encrypt with it what they write into the
 * telemetry bucket (SSE-KMS with this key), for this account's logs only.
 */
export function clusterKeyPolicy(account: string, region: string): Record<string, unknown> {
  return {
    Version: '2012-10-17',
    Statement: [
      { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: 'kms:*', Resource: '*' },
      {
        Sid: 'AllowVpcFlowLogDelivery',
        Effect: 'Allow',
        Principal: { Service: 'delivery.logs.amazonaws.com' },
        Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
        Resource: '*',
        Condition: { StringEquals: { 'aws:SourceAccount': account }, ArnLike: { 'aws:SourceArn': `arn:aws:logs:${region}:${account}:*` } },
      },
      {
        Sid: 'AllowS3ServerAccessLogDelivery',
        Effect: 'Allow',
        Principal: { Service: 'logging.s3.amazonaws.com' },
        Action: ['kms:GenerateDataKey'],
        Resource: '*',
        Condition: { StringEquals: { 'aws:SourceAccount': account } },
      },
    ],
  };
}
