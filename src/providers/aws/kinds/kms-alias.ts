import { CreateAliasCommand, DeleteAliasCommand, UpdateAliasCommand } from '@aws-sdk/client-kms';
import { diffFields } from '../../../core/engine/diff.ts';
import { type Val, known } from '../../../core/engine/model.ts';
import { deleting } from '../calls.ts';
import { kmsAlias } from '../naming.ts';
import type { AwsKind } from '../provider.ts';
import { listAliases } from './kms-key.ts';

/** Aliases carry no tags; the cluster's alias is found by its name and has this logical id. */
export const KMS_ALIAS_ID = 'kms-alias';

export interface KmsAliasSpec {
  aliasName: string;
  targetKeyId: Val;
}

export interface KmsAliasState {
  aliasName: string;
  targetKeyId: string;
}

export const kmsAliasKind: AwsKind<KmsAliasSpec, KmsAliasState> = {
  kind: 'kms-alias',

  async observe(ctx) {
    const name = kmsAlias(ctx.provider.cluster);
    return (await listAliases(ctx))
      .filter((a) => a.AliasName === name)
      .map((a) => ({ id: KMS_ALIAS_ID, ref: name, state: { aliasName: name, targetKeyId: a.TargetKeyId ?? '' } }));
  },

  diff(state, spec) {
    return { changes: diffFields(state, { targetKeyId: spec.targetKeyId }) };
  },

  describe(spec) {
    return { aliasName: spec.aliasName, targetKeyId: spec.targetKeyId };
  },

  async create(spec, ctx) {
    const targetKeyId = known(spec.targetKeyId);
    await ctx.provider.clients.kms.send(new CreateAliasCommand({ AliasName: spec.aliasName, TargetKeyId: targetKeyId }));
    return { id: ctx.id, ref: spec.aliasName, state: { aliasName: spec.aliasName, targetKeyId } };
  },

  async update(found, spec, _changes, ctx) {
    const targetKeyId = known(spec.targetKeyId);
    await ctx.provider.clients.kms.send(new UpdateAliasCommand({ AliasName: found.state.aliasName, TargetKeyId: targetKeyId }));
    return { ...found, state: { ...found.state, targetKeyId } };
  },

  async destroy(found, ctx) {
    await deleting(() => ctx.provider.clients.kms.send(new DeleteAliasCommand({ AliasName: found.state.aliasName })));
  },

  outputs(found) {
    return { aliasName: found.state.aliasName };
  },
};
