import { CreateSubnetCommand, DeleteSubnetCommand, paginateDescribeSubnets } from '@aws-sdk/client-ec2';
import { diffFields } from '../../../core/engine/diff.ts';
import { type Val, known } from '../../../core/engine/model.ts';
import { collect, deleting, retryWhileDependent } from '../calls.ts';
import { clusterFilter, tagSpecs, tagsOnlyUpdate } from '../ec2-util.ts';
import type { Tags } from '../naming.ts';
import type { AwsKind } from '../provider.ts';
import { componentOf, tagChange, toRecord } from '../tags.ts';

export interface SubnetSpec {
  vpcId: Val;
  cidr: string;
  zone: string;
  tags: Tags;
}

export interface SubnetState {
  subnetId: string;
  vpcId: string;
  cidr: string;
  zone: string;
  tags: Tags;
}

export const subnetKind: AwsKind<SubnetSpec, SubnetState> = {
  kind: 'subnet',

  async observe({ provider }) {
    const pages = await collect(paginateDescribeSubnets({ client: provider.clients.ec2 }, { Filters: clusterFilter(provider) }));
    return pages
      .flatMap((p) => p.Subnets ?? [])
      .map((s) => {
        const tags = toRecord(s.Tags);
        const state: SubnetState = { subnetId: s.SubnetId ?? '', vpcId: s.VpcId ?? '', cidr: s.CidrBlock ?? '', zone: s.AvailabilityZone ?? '', tags };
        return { id: componentOf(tags) ?? '', ref: state.subnetId, state };
      });
  },

  diff(state, spec) {
    const placement = diffFields(state, { vpcId: spec.vpcId, cidr: spec.cidr, zone: spec.zone });
    if (placement.length > 0) return { changes: placement, replace: `${placement.map((c) => c.field).join(', ')} cannot change in place` };
    return { changes: tagChange(state.tags, spec.tags) };
  },

  describe(spec) {
    return { cidr: spec.cidr, zone: spec.zone, vpcId: spec.vpcId };
  },

  async create(spec, ctx) {
    const created = await ctx.provider.clients.ec2.send(
      new CreateSubnetCommand({
        VpcId: known(spec.vpcId),
        CidrBlock: spec.cidr,
        AvailabilityZone: spec.zone,
        TagSpecifications: tagSpecs('subnet', spec.tags),
      }),
    );
    const subnetId = created.Subnet?.SubnetId ?? '';
    return { id: ctx.id, ref: subnetId, state: { subnetId, vpcId: known(spec.vpcId), cidr: spec.cidr, zone: spec.zone, tags: spec.tags } };
  },

  update: tagsOnlyUpdate((state) => state.subnetId),

  async destroy(found, ctx) {
    const ec2 = ctx.provider.clients.ec2;
    await retryWhileDependent(ctx, found.ref, () => deleting(() => ec2.send(new DeleteSubnetCommand({ SubnetId: found.state.subnetId }))));
  },

  outputs(found) {
    return { subnetId: found.state.subnetId, cidr: found.state.cidr, zone: found.state.zone };
  },
};
