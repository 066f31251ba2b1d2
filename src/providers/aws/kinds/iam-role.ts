import {
  CreateRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListInstanceProfilesForRoleCommand,
  ListRolePoliciesCommand,
  ListRoleTagsCommand,
  PutRolePolicyCommand,
  RemoveRoleFromInstanceProfileCommand,
  TagRoleCommand,
  UpdateAssumeRolePolicyCommand,
  paginateListRoles,
} from '@aws-sdk/client-iam';
import { diffFields } from '../../../core/engine/diff.ts';
import { collect, deleting, ifExists } from '../calls.ts';
import { type Tags, iamPath } from '../naming.ts';
import type { AwsKind } from '../provider.ts';
import { componentOf, missingTags, tagChange, toList, toRecord } from '../tags.ts';

export type PolicyDocument = { Version: string; Statement: Record<string, unknown>[] };

export interface IamRoleSpec {
  roleName: string;
  description: string;
  trustPolicy: PolicyDocument;
  /** Inline policies by name; a role with no statements to grant has none. */
  inlinePolicies: Record<string, PolicyDocument>;
  tags: Tags;
}

export interface IamRoleState {
  roleName: string;
  arn: string;
  trustPolicy: unknown;
  inlinePolicies: Record<string, unknown>;
  tags: Tags;
}

export const iamRoleKind: AwsKind<IamRoleSpec, IamRoleState> = {
  kind: 'iam-role',

  async observe({ provider }) {
    const iam = provider.clients.iam;
    const pages = await collect(paginateListRoles({ client: iam }, { PathPrefix: iamPath(provider.cluster) }));
    return Promise.all(
      pages
        .flatMap((p) => p.Roles ?? [])
        .map(async (role) => {
          const roleName = role.RoleName ?? '';
          const [tags, policyNames] = await Promise.all([
            iam.send(new ListRoleTagsCommand({ RoleName: roleName })),
            iam.send(new ListRolePoliciesCommand({ RoleName: roleName })),
          ]);
          const inline = await Promise.all(
            (policyNames.PolicyNames ?? []).map(async (name) => {
              const policy = await iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: name }));
              return [name, parsePolicy(policy.PolicyDocument)] as const;
            }),
          );
          const tagRecord = toRecord(tags.Tags);
          const state: IamRoleState = {
            roleName,
            arn: role.Arn ?? '',
            trustPolicy: parsePolicy(role.AssumeRolePolicyDocument),
            inlinePolicies: Object.fromEntries(inline),
            tags: tagRecord,
          };
          return { id: componentOf(tagRecord) ?? roleName, ref: roleName, state };
        }),
    );
  },

  diff(state, spec) {
    if (state.roleName !== spec.roleName) return { changes: [{ field: 'roleName', from: state.roleName, to: spec.roleName }], replace: 'a role cannot be renamed' };
    return {
      changes: [...diffFields(state, { trustPolicy: spec.trustPolicy, inlinePolicies: spec.inlinePolicies }), ...tagChange(state.tags, spec.tags)],
    };
  },

  describe(spec) {
    return { roleName: spec.roleName, trustPolicy: spec.trustPolicy, inlinePolicies: Object.keys(spec.inlinePolicies) };
  },

  async create(spec, ctx) {
    const iam = ctx.provider.clients.iam;
    const created = await iam.send(
      new CreateRoleCommand({
        RoleName: spec.roleName,
        Path: iamPath(ctx.provider.cluster),
        Description: spec.description,
        AssumeRolePolicyDocument: JSON.stringify(spec.trustPolicy),
        Tags: toList(spec.tags),
      }),
    );
    const found = {
      id: ctx.id,
      ref: spec.roleName,
      state: { roleName: spec.roleName, arn: created.Role?.Arn ?? '', trustPolicy: spec.trustPolicy, inlinePolicies: {}, tags: spec.tags },
    };
    return this.update(found, spec, this.diff(found.state, spec).changes, ctx);
  },

  async update(found, spec, changes, ctx) {
    const iam = ctx.provider.clients.iam;
    const { roleName } = found.state;
    if (changes.some((c) => c.field === 'trustPolicy'))
      await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: roleName, PolicyDocument: JSON.stringify(spec.trustPolicy) }));
    await syncInlinePolicies(found.state.inlinePolicies, spec.inlinePolicies, {
      put: (name, document) => iam.send(new PutRolePolicyCommand({ RoleName: roleName, PolicyName: name, PolicyDocument: document })),
      remove: (name) => iam.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: name })),
    });
    const missing = missingTags(found.state.tags, spec.tags);
    if (Object.keys(missing).length > 0) await iam.send(new TagRoleCommand({ RoleName: roleName, Tags: toList(missing) }));
    return { ...found, state: { ...found.state, trustPolicy: spec.trustPolicy, inlinePolicies: spec.inlinePolicies, tags: { ...found.state.tags, ...spec.tags } } };
  },

  async destroy(found, ctx) {
    const iam = ctx.provider.clients.iam;
    const RoleName = found.state.roleName;
    // A role can only be deleted bare: no profiles, no attached or inline policies.
    const profiles = await ifExists(() => iam.send(new ListInstanceProfilesForRoleCommand({ RoleName })));
    for (const p of profiles?.InstanceProfiles ?? [])
      await deleting(() => iam.send(new RemoveRoleFromInstanceProfileCommand({ RoleName, InstanceProfileName: p.InstanceProfileName })));
    const attached = await ifExists(() => iam.send(new ListAttachedRolePoliciesCommand({ RoleName })));
    for (const p of attached?.AttachedPolicies ?? []) await deleting(() => iam.send(new DetachRolePolicyCommand({ RoleName, PolicyArn: p.PolicyArn })));
    for (const name of Object.keys(found.state.inlinePolicies)) await deleting(() => iam.send(new DeleteRolePolicyCommand({ RoleName, PolicyName: name })));
    await deleting(() => iam.send(new DeleteRoleCommand({ RoleName })));
  },

  outputs(found) {
    return { roleName: found.state.roleName, arn: found.state.arn };
  },
};

/** Makes an identity's inline policies those wanted: puts what differs, deletes what is no longer wanted. */
export async function syncInlinePolicies(
  live: Record<string, unknown>,
  wanted: Record<string, PolicyDocument>,
  calls: { put(name: string, document: string): Promise<unknown>; remove(name: string): Promise<unknown> },
): Promise<void> {
  for (const [name, document] of Object.entries(wanted)) {
    if (JSON.stringify(live[name]) !== JSON.stringify(document)) await calls.put(name, JSON.stringify(document));
  }
  for (const name of Object.keys(live)) {
    if (!(name in wanted)) await deleting(() => calls.remove(name));
  }
}

/** IAM returns policy documents URL-encoded. */
export function parsePolicy(document: string | undefined): unknown {
  if (!document) return undefined;
  const text = document.trimStart().startsWith('{') ? document : decodeURIComponent(document);
  return JSON.parse(text);
}
