import {
  DescribeSecurityGroupsCommand,
  type IpPermission,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  type SecurityGroup,
} from '@aws-sdk/client-ec2';
import { type FieldChange, type Val, known } from '../../../core/engine/model.ts';
import type { AwsAct, AwsKind } from '../provider.ts';
import { flatten, toPermission } from './security-group-rules.ts';
import { vpcKind } from './vpc.ts';

/** The logical id of the cluster VPC's default security group. */
export const DEFAULT_SG_ID = 'vpc-default-sg';

export interface DefaultSecurityGroupSpec {
  vpcId: Val;
}

export interface DefaultSecurityGroupState {
  groupId: string;
  vpcId: string;
  ingress: IpPermission[];
  egress: IpPermission[];
}

/**
 * The default security group of the cluster's VPC, emptied (Security Hub EC2.2): AWS gives it
 * rules that let its members talk to each other and reach anywhere, and anything launched
 * without a group lands in it. Nothing of ours uses it. It cannot be deleted or tagged; it is
 * found as the group named `default` of the VPC the cluster owns, and goes with that VPC.
 */
export const defaultSecurityGroupKind: AwsKind<DefaultSecurityGroupSpec, DefaultSecurityGroupState> = {
  kind: 'default-security-group',
  // Not ours to delete: it comes and goes with its VPC, so `down` and orphan clean-up pass it by.
  condition: true,

  async observe(ctx) {
    const vpcs = await ctx.observe(vpcKind);
    if (vpcs.length === 0) return [];
    const groups = await describeDefault(ctx.provider.clients.ec2, vpcs.map((v) => v.state.vpcId));
    // In the VPCs' order (the one to keep first), named after the VPC's logical id.
    return vpcs.flatMap((vpc) =>
      groups
        .filter((g) => g.VpcId === vpc.state.vpcId)
        .map((g) => ({ id: `${vpc.id}-default-sg`, ref: g.GroupId ?? '', state: stateOf(g) })),
    );
  },

  diff(state) {
    const changes: FieldChange[] = [];
    if (state.ingress.length > 0) changes.push({ field: 'ingress', from: flatten(state.ingress).map(show), to: [] });
    if (state.egress.length > 0) changes.push({ field: 'egress', from: flatten(state.egress).map(show), to: [] });
    return { changes };
  },

  describe(spec) {
    return { vpcId: spec.vpcId, ingress: 'none', egress: 'none' };
  },

  /** The group comes with its VPC: "creating" it is emptying it. */
  async create(spec, ctx) {
    const vpcId = known(spec.vpcId);
    const [group] = await describeDefault(ctx.provider.clients.ec2, [vpcId]);
    if (!group?.GroupId) throw new Error(`the VPC ${vpcId} has no default security group`);
    const found = { id: ctx.id, ref: group.GroupId, state: stateOf(group) };
    return this.update(found, spec, this.diff(found.state, spec).changes, ctx);
  },

  async update(found, _spec, _changes, ctx) {
    await revokeAll(ctx, found.state);
    return { ...found, state: { ...found.state, ingress: [], egress: [] } };
  },

  /** Never called (a condition); it goes when its VPC does. */
  async destroy() {},

  outputs(found) {
    return { groupId: found.state.groupId };
  },
};

async function describeDefault(ec2: AwsAct['provider']['clients']['ec2'], vpcIds: string[]): Promise<SecurityGroup[]> {
  const result = await ec2.send(
    new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: vpcIds }, { Name: 'group-name', Values: ['default'] }] }),
  );
  return result.SecurityGroups ?? [];
}

function stateOf(group: SecurityGroup): DefaultSecurityGroupState {
  return { groupId: group.GroupId ?? '', vpcId: group.VpcId ?? '', ingress: group.IpPermissions ?? [], egress: group.IpPermissionsEgress ?? [] };
}

/** Revokes exactly what was observed, one source at a time. */
async function revokeAll(ctx: AwsAct, state: DefaultSecurityGroupState): Promise<void> {
  const ec2 = ctx.provider.clients.ec2;
  const GroupId = state.groupId;
  const ingress = flatten(state.ingress).map(toPermission);
  const egress = flatten(state.egress).map(toPermission);
  if (ingress.length > 0) await ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId, IpPermissions: ingress }));
  if (egress.length > 0) await ec2.send(new RevokeSecurityGroupEgressCommand({ GroupId, IpPermissions: egress }));
}

function show(rule: ReturnType<typeof flatten>[number]): string {
  const ports = rule.protocol === '-1' ? 'all traffic' : `${rule.protocol} ${rule.fromPort}-${rule.toPort}`;
  return `${ports} ${rule.cidr ?? rule.cidrIpv6 ?? rule.prefixListId ?? String(rule.groupId)}`;
}
