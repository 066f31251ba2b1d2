import { CreateSecurityGroupCommand, DeleteSecurityGroupCommand, type IpPermission, paginateDescribeSecurityGroups } from '@aws-sdk/client-ec2';
import { diffFields } from '../../../core/engine/diff.ts';
import { type Val, known } from '../../../core/engine/model.ts';
import { collect, deleting, retryWhileDependent } from '../calls.ts';
import { clusterFilter, tagSpecs, tagsOnlyUpdate } from '../ec2-util.ts';
import type { Tags } from '../naming.ts';
import type { AwsKind } from '../provider.ts';
import { componentOf, tagChange, toRecord } from '../tags.ts';

export interface SecurityGroupSpec {
  vpcId: Val;
  groupName: string;
  description: string;
  tags: Tags;
}

export interface SecurityGroupState {
  groupId: string;
  vpcId: string;
  groupName: string;
  description: string;
  tags: Tags;
  /** Ingress as AWS returns it; the security-group-rules kind reads and manages it. */
  ingress: IpPermission[];
}

export const securityGroupKind: AwsKind<SecurityGroupSpec, SecurityGroupState> = {
  kind: 'security-group',

  async observe({ provider }) {
    const pages = await collect(paginateDescribeSecurityGroups({ client: provider.clients.ec2 }, { Filters: clusterFilter(provider) }));
    return pages
      .flatMap((p) => p.SecurityGroups ?? [])
      .map((g) => {
        const tags = toRecord(g.Tags);
        const state: SecurityGroupState = {
          groupId: g.GroupId ?? '',
          vpcId: g.VpcId ?? '',
          groupName: g.GroupName ?? '',
          description: g.Description ?? '',
          tags,
          ingress: g.IpPermissions ?? [],
        };
        return { id: componentOf(tags) ?? '', ref: state.groupId, state };
      });
  },

  diff(state, spec) {
    const fixed = diffFields(state, { vpcId: spec.vpcId, groupName: spec.groupName, description: spec.description });
    if (fixed.length > 0) return { changes: fixed, replace: 'a security group cannot be renamed, redescribed or moved' };
    return { changes: tagChange(state.tags, spec.tags) };
  },

  describe(spec) {
    return { groupName: spec.groupName, description: spec.description, vpcId: spec.vpcId };
  },

  async create(spec, ctx) {
    const created = await ctx.provider.clients.ec2.send(
      new CreateSecurityGroupCommand({
        VpcId: known(spec.vpcId),
        GroupName: spec.groupName,
        Description: spec.description,
        TagSpecifications: tagSpecs('security-group', spec.tags),
      }),
    );
    const groupId = created.GroupId ?? '';
    const state: SecurityGroupState = { groupId, vpcId: known(spec.vpcId), groupName: spec.groupName, description: spec.description, tags: spec.tags, ingress: [] };
    return { id: ctx.id, ref: groupId, state };
  },

  update: tagsOnlyUpdate((state) => state.groupId),

  async destroy(found, ctx) {
    const ec2 = ctx.provider.clients.ec2;
    await retryWhileDependent(ctx, found.ref, () => deleting(() => ec2.send(new DeleteSecurityGroupCommand({ GroupId: found.state.groupId }))));
  },

  outputs(found) {
    return { groupId: found.state.groupId };
  },
};
