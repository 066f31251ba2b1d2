import {
  AddRoleToInstanceProfileCommand,
  CreateInstanceProfileCommand,
  DeleteInstanceProfileCommand,
  GetInstanceProfileCommand,
  RemoveRoleFromInstanceProfileCommand,
  TagInstanceProfileCommand,
  paginateListInstanceProfiles,
} from '@aws-sdk/client-iam';
import { diffFields } from '../../../core/engine/diff.ts';
import { type Val, known } from '../../../core/engine/model.ts';
import { collect, deleting } from '../calls.ts';
import { type Tags, iamPath } from '../naming.ts';
import type { AwsKind } from '../provider.ts';
import { componentOf, missingTags, tagChange, toList, toRecord } from '../tags.ts';

export interface InstanceProfileSpec {
  profileName: string;
  roleName: Val;
  tags: Tags;
}

export interface InstanceProfileState {
  profileName: string;
  arn: string;
  roles: string[];
  tags: Tags;
}

export const instanceProfileKind: AwsKind<InstanceProfileSpec, InstanceProfileState> = {
  kind: 'instance-profile',

  async observe({ provider }) {
    const iam = provider.clients.iam;
    const pages = await collect(paginateListInstanceProfiles({ client: iam }, { PathPrefix: iamPath(provider.cluster) }));
    return Promise.all(
      pages
        .flatMap((p) => p.InstanceProfiles ?? [])
        .map(async (profile) => {
          const profileName = profile.InstanceProfileName ?? '';
          // Listing leaves tags out; the full read has them.
          const full = (await iam.send(new GetInstanceProfileCommand({ InstanceProfileName: profileName }))).InstanceProfile ?? profile;
          const tags = toRecord(full.Tags);
          const state: InstanceProfileState = { profileName, arn: full.Arn ?? '', roles: (full.Roles ?? []).map((r) => r.RoleName ?? ''), tags };
          return { id: componentOf(tags) ?? profileName, ref: profileName, state };
        }),
    );
  },

  diff(state, spec) {
    if (state.profileName !== spec.profileName) return { changes: [{ field: 'profileName', from: state.profileName, to: spec.profileName }], replace: 'a profile cannot be renamed' };
    return { changes: [...diffFields(state, { roles: [spec.roleName] }), ...tagChange(state.tags, spec.tags)] };
  },

  describe(spec) {
    return { profileName: spec.profileName, role: spec.roleName };
  },

  async create(spec, ctx) {
    const created = await ctx.provider.clients.iam.send(
      new CreateInstanceProfileCommand({ InstanceProfileName: spec.profileName, Path: iamPath(ctx.provider.cluster), Tags: toList(spec.tags) }),
    );
    const state: InstanceProfileState = { profileName: spec.profileName, arn: created.InstanceProfile?.Arn ?? '', roles: [], tags: spec.tags };
    return this.update({ id: ctx.id, ref: spec.profileName, state }, spec, [], ctx);
  },

  async update(found, spec, _changes, ctx) {
    const iam = ctx.provider.clients.iam;
    const InstanceProfileName = found.state.profileName;
    const roleName = known(spec.roleName);
    // A profile holds at most one role.
    for (const RoleName of found.state.roles.filter((r) => r !== roleName))
      await deleting(() => iam.send(new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName, RoleName })));
    if (!found.state.roles.includes(roleName)) await iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName, RoleName: roleName }));
    const missing = missingTags(found.state.tags, spec.tags);
    if (Object.keys(missing).length > 0) await iam.send(new TagInstanceProfileCommand({ InstanceProfileName, Tags: toList(missing) }));
    return { ...found, state: { ...found.state, roles: [roleName], tags: { ...found.state.tags, ...spec.tags } } };
  },

  async destroy(found, ctx) {
    const iam = ctx.provider.clients.iam;
    const InstanceProfileName = found.state.profileName;
    for (const RoleName of found.state.roles) await deleting(() => iam.send(new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName, RoleName })));
    await deleting(() => iam.send(new DeleteInstanceProfileCommand({ InstanceProfileName })));
  },

  outputs(found) {
    return { profileName: found.state.profileName, arn: found.state.arn };
  },
};
