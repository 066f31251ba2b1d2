import {
  EnableEbsEncryptionByDefaultCommand,
  GetEbsDefaultKmsKeyIdCommand,
  GetEbsEncryptionByDefaultCommand,
  ModifyEbsDefaultKmsKeyIdCommand,
  ResetEbsDefaultKmsKeyIdCommand,
} from '@aws-sdk/client-ec2';
import { diffFields } from '../../../core/engine/diff.ts';
import { type Val, known } from '../../../core/engine/model.ts';
import type { AwsKind } from '../provider.ts';
import { kmsKeyKind } from './kms-key.ts';

/**
 * A region-wide account setting, not a taggable resource: it is the cluster's while the cluster
 * has a key (so a default moved to another key, or encryption turned off, is drift to restore),
 * and while it names the cluster's key (so that a cluster left with only its setting still cleans up).
 */
export const EBS_ENCRYPTION_ID = 'ebs-encryption';

export interface EbsEncryptionSpec {
  kmsKeyArn: Val;
}

export interface EbsEncryptionState {
  enabled: boolean;
  kmsKeyArn: string;
  /** The default names the cluster's key: only then does `down` reset it. */
  clusterKey: boolean;
}

/**
 * EBS encryption by default, with the cluster's key, for the region. On delete the default key
 * goes back to the AWS-managed one (a deleted key must not stay the region's default); encryption
 * by default stays on.
 */
export const ebsEncryptionKind: AwsKind<EbsEncryptionSpec, EbsEncryptionState> = {
  kind: 'ebs-encryption',

  async observe(ctx) {
    const ec2 = ctx.provider.clients.ec2;
    const [keys, enabled, key] = await Promise.all([
      ctx.observe(kmsKeyKind),
      ec2.send(new GetEbsEncryptionByDefaultCommand({})),
      ec2.send(new GetEbsDefaultKmsKeyIdCommand({})),
    ]);
    const kmsKeyArn = key.KmsKeyId ?? '';
    const clusterKey = keys.some((k) => k.state.arn === kmsKeyArn || k.state.keyId === kmsKeyArn);
    if (keys.length === 0) return [];
    return [{ id: EBS_ENCRYPTION_ID, ref: `ebs-default:${ctx.provider.region}`, state: { enabled: enabled.EbsEncryptionByDefault ?? false, kmsKeyArn, clusterKey } }];
  },

  diff(state, spec) {
    return { changes: diffFields(state, { enabled: true, kmsKeyArn: spec.kmsKeyArn }) };
  },

  describe(spec) {
    return { enabled: true, kmsKeyArn: spec.kmsKeyArn, scope: 'every new EBS volume in the region' };
  },

  async create(spec, ctx) {
    const state: EbsEncryptionState = { enabled: false, kmsKeyArn: '', clusterKey: false };
    return this.update({ id: ctx.id, ref: `ebs-default:${ctx.provider.region}`, state }, spec, this.diff(state, spec).changes, ctx);
  },

  async update(found, spec, changes, ctx) {
    const ec2 = ctx.provider.clients.ec2;
    const kmsKeyArn = known(spec.kmsKeyArn);
    if (changes.some((c) => c.field === 'kmsKeyArn')) await ec2.send(new ModifyEbsDefaultKmsKeyIdCommand({ KmsKeyId: kmsKeyArn }));
    if (changes.some((c) => c.field === 'enabled')) await ec2.send(new EnableEbsEncryptionByDefaultCommand({}));
    return { ...found, state: { enabled: true, kmsKeyArn, clusterKey: true } };
  },

  /** The region's default goes back to the AWS-managed key, unless it already names someone else's. */
  async destroy(found, ctx) {
    if (!found.state.clusterKey) return;
    await ctx.provider.clients.ec2.send(new ResetEbsDefaultKmsKeyIdCommand({}));
  },

  outputs(found) {
    return { kmsKeyArn: found.state.kmsKeyArn };
  },
};
