import { AllocateAddressCommand, DescribeAddressesCommand, ReleaseAddressCommand } from '@aws-sdk/client-ec2';
import { deleting, retryWhileDependent } from '../calls.ts';
import { clusterFilter, tagSpecs, tagsOnlyUpdate } from '../ec2-util.ts';
import type { Tags } from '../naming.ts';
import type { AwsKind } from '../provider.ts';
import { componentOf, tagChange, toRecord } from '../tags.ts';

export interface ElasticIpSpec {
  tags: Tags;
}

export interface ElasticIpState {
  allocationId: string;
  publicIp: string;
  /** Set while the address is associated with an instance (not with a NAT gateway). */
  instance?: { associationId: string; instanceId: string; privateIp: string };
  tags: Tags;
}

export const elasticIpKind: AwsKind<ElasticIpSpec, ElasticIpState> = {
  kind: 'elastic-ip',

  async observe({ provider }) {
    const result = await provider.clients.ec2.send(new DescribeAddressesCommand({ Filters: clusterFilter(provider) }));
    return (result.Addresses ?? []).map((a) => {
      const tags = toRecord(a.Tags);
      const instance = a.InstanceId && a.AssociationId ? { associationId: a.AssociationId, instanceId: a.InstanceId, privateIp: a.PrivateIpAddress ?? '' } : undefined;
      const state: ElasticIpState = { allocationId: a.AllocationId ?? '', publicIp: a.PublicIp ?? '', ...(instance ? { instance } : {}), tags };
      return { id: componentOf(tags) ?? '', ref: state.allocationId, state };
    });
  },

  diff(state, spec) {
    return { changes: tagChange(state.tags, spec.tags) };
  },

  describe() {
    return { domain: 'vpc' };
  },

  async create(spec, ctx) {
    const created = await ctx.provider.clients.ec2.send(new AllocateAddressCommand({ Domain: 'vpc', TagSpecifications: tagSpecs('elastic-ip', spec.tags) }));
    const state: ElasticIpState = { allocationId: created.AllocationId ?? '', publicIp: created.PublicIp ?? '', tags: spec.tags };
    return { id: ctx.id, ref: state.allocationId, state };
  },

  update: tagsOnlyUpdate((state) => state.allocationId),

  async destroy(found, ctx) {
    // Still associated for a moment after its NAT gateway is deleted.
    await retryWhileDependent(ctx, found.ref, () =>
      deleting(() => ctx.provider.clients.ec2.send(new ReleaseAddressCommand({ AllocationId: found.state.allocationId }))),
    );
  },

  outputs(found) {
    return { allocationId: found.state.allocationId, publicIp: found.state.publicIp };
  },
};
