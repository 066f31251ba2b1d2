import {
  CreateUserCommand,
  DeleteAccessKeyCommand,
  DeleteUserCommand,
  DeleteUserPolicyCommand,
  GetUserPolicyCommand,
  ListAccessKeysCommand,
  ListUserPoliciesCommand,
  ListUserTagsCommand,
  PutUserPolicyCommand,
  TagUserCommand,
  paginateListUsers,
} from '@aws-sdk/client-iam';
import { diffFields } from '../../../core/engine/diff.ts';
import { collect, deleting, ifExists } from '../calls.ts';
import { type Tags, iamPath } from '../naming.ts';
import type { AwsKind } from '../provider.ts';
import { componentOf, missingTags, tagChange, toList, toRecord } from '../tags.ts';
import { type PolicyDocument, parsePolicy, syncInlinePolicies } from './iam-role.ts';

export interface IamUserSpec {
  userName: string;
  /** Inline policies by name. */
  inlinePolicies: Record<string, PolicyDocument>;
  tags: Tags;
}

export interface IamUserState {
  userName: string;
  arn: string;
  inlinePolicies: Record<string, unknown>;
  tags: Tags;
}

/**
 * An IAM user for a workload outside AWS (the on-prem shipper): no console password, no managed
 * policies, only the inline ones asked for. Its access keys are made by whoever hands them over;
 * deleting the user deletes them first.
 */
export const iamUserKind: AwsKind<IamUserSpec, IamUserState> = {
  kind: 'iam-user',

  async observe({ provider }) {
    const iam = provider.clients.iam;
    const pages = await collect(paginateListUsers({ client: iam }, { PathPrefix: iamPath(provider.cluster) }));
    return Promise.all(
      pages
        .flatMap((p) => p.Users ?? [])
        .map(async (user) => {
          const UserName = user.UserName ?? '';
          const [tags, names] = await Promise.all([iam.send(new ListUserTagsCommand({ UserName })), iam.send(new ListUserPoliciesCommand({ UserName }))]);
          const inline = await Promise.all(
            (names.PolicyNames ?? []).map(async (name) => [name, parsePolicy((await iam.send(new GetUserPolicyCommand({ UserName, PolicyName: name }))).PolicyDocument)] as const),
          );
          const tagRecord = toRecord(tags.Tags);
          const state: IamUserState = { userName: UserName, arn: user.Arn ?? '', inlinePolicies: Object.fromEntries(inline), tags: tagRecord };
          return { id: componentOf(tagRecord) ?? UserName, ref: UserName, state };
        }),
    );
  },

  diff(state, spec) {
    if (state.userName !== spec.userName) return { changes: [{ field: 'userName', from: state.userName, to: spec.userName }], replace: 'the user name changed' };
    return { changes: [...diffFields(state, { inlinePolicies: spec.inlinePolicies }), ...tagChange(state.tags, spec.tags)] };
  },

  describe(spec) {
    return { userName: spec.userName, inlinePolicies: Object.keys(spec.inlinePolicies) };
  },

  async create(spec, ctx) {
    const created = await ctx.provider.clients.iam.send(new CreateUserCommand({ UserName: spec.userName, Path: iamPath(ctx.provider.cluster), Tags: toList(spec.tags) }));
    const found = { id: ctx.id, ref: spec.userName, state: { userName: spec.userName, arn: created.User?.Arn ?? '', inlinePolicies: {}, tags: spec.tags } };
    return this.update(found, spec, this.diff(found.state, spec).changes, ctx);
  },

  async update(found, spec, _changes, ctx) {
    const iam = ctx.provider.clients.iam;
    const UserName = found.state.userName;
    await syncInlinePolicies(found.state.inlinePolicies, spec.inlinePolicies, {
      put: (name, document) => iam.send(new PutUserPolicyCommand({ UserName, PolicyName: name, PolicyDocument: document })),
      remove: (name) => iam.send(new DeleteUserPolicyCommand({ UserName, PolicyName: name })),
    });
    const missing = missingTags(found.state.tags, spec.tags);
    if (Object.keys(missing).length > 0) await iam.send(new TagUserCommand({ UserName, Tags: toList(missing) }));
    return { ...found, state: { ...found.state, inlinePolicies: spec.inlinePolicies, tags: { ...found.state.tags, ...spec.tags } } };
  },

  async destroy(found, ctx) {
    const iam = ctx.provider.clients.iam;
    const UserName = found.state.userName;
    // A user can only be deleted bare: no access keys, no inline policies.
    const keys = await ifExists(() => iam.send(new ListAccessKeysCommand({ UserName })));
    for (const key of keys?.AccessKeyMetadata ?? []) await deleting(() => iam.send(new DeleteAccessKeyCommand({ UserName, AccessKeyId: key.AccessKeyId })));
    for (const name of Object.keys(found.state.inlinePolicies)) await deleting(() => iam.send(new DeleteUserPolicyCommand({ UserName, PolicyName: name })));
    await deleting(() => iam.send(new DeleteUserCommand({ UserName })));
  },

  outputs(found) {
    return { userName: found.state.userName, arn: found.state.arn };
  },
};
