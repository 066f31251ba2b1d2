import {
  CreateVpcCommand,
  DeleteVpcCommand,
  DescribeVpcAttributeCommand,
  ModifyVpcAttributeCommand,
  paginateDescribeVpcs,
  waitUntilVpcAvailable,
} from '@aws-sdk/client-ec2';
import { diffFields } from '../../../core/engine/diff.ts';
import { UsageError } from '../../../core/errors.ts';
import { collect, deleting, retryWhileDependent } from '../calls.ts';
import { clusterFilter, retag, tagSpecs } from '../ec2-util.ts';
import type { Tags } from '../naming.ts';
import type { AwsKind } from '../provider.ts';
import { componentOf, tagChange, toRecord } from '../tags.ts';

export interface VpcSpec {
  cidr: string;
  tags: Tags;
}

export interface VpcState {
  vpcId: string;
  cidr: string;
  dnsSupport: boolean;
  dnsHostnames: boolean;
  tags: Tags;
}

export const vpcKind: AwsKind<VpcSpec, VpcState> = {
  kind: 'vpc',

  async observe({ provider }) {
    const ec2 = provider.clients.ec2;
    const pages = await collect(paginateDescribeVpcs({ client: ec2 }, { Filters: clusterFilter(provider) }));
    const vpcs = pages.flatMap((p) => p.Vpcs ?? []);
    return Promise.all(
      vpcs.map(async (vpc) => {
        const vpcId = vpc.VpcId ?? '';
        const [support, hostnames] = await Promise.all([
          ec2.send(new DescribeVpcAttributeCommand({ VpcId: vpcId, Attribute: 'enableDnsSupport' })),
          ec2.send(new DescribeVpcAttributeCommand({ VpcId: vpcId, Attribute: 'enableDnsHostnames' })),
        ]);
        const tags = toRecord(vpc.Tags);
        return {
          id: componentOf(tags) ?? '',
          ref: vpcId,
          state: {
            vpcId,
            cidr: vpc.CidrBlock ?? '',
            dnsSupport: support.EnableDnsSupport?.Value ?? false,
            dnsHostnames: hostnames.EnableDnsHostnames?.Value ?? false,
            tags,
          },
        };
      }),
    );
  },

  diff(state, spec) {
    if (state.cidr !== spec.cidr) {
      throw new UsageError(
        `aws.vpc.cidr is ${spec.cidr} but the cluster's VPC ${state.vpcId} has ${state.cidr}; a VPC's range cannot change. ` +
          'Restore the old value, or run `hybridctl down` first to start over.',
      );
    }
    return { changes: [...diffFields(state, { dnsSupport: true, dnsHostnames: true }), ...tagChange(state.tags, spec.tags)] };
  },

  describe(spec) {
    return { cidr: spec.cidr, dnsSupport: true, dnsHostnames: true };
  },

  async create(spec, ctx) {
    const ec2 = ctx.provider.clients.ec2;
    const created = await ec2.send(new CreateVpcCommand({ CidrBlock: spec.cidr, TagSpecifications: tagSpecs('vpc', spec.tags) }));
    const vpcId = created.Vpc?.VpcId ?? '';
    ctx.report(`waiting for ${vpcId} to become available`);
    await waitUntilVpcAvailable({ client: ec2, maxWaitTime: 300, abortSignal: ctx.signal }, { VpcIds: [vpcId] });
    const state: VpcState = { vpcId, cidr: spec.cidr, dnsSupport: false, dnsHostnames: false, tags: spec.tags };
    return this.update({ id: ctx.id, ref: vpcId, state }, spec, diffFields(state, { dnsSupport: true, dnsHostnames: true }), ctx);
  },

  async update(found, spec, changes, ctx) {
    const ec2 = ctx.provider.clients.ec2;
    const vpcId = found.state.vpcId;
    // One attribute per call, and hostnames need support switched on first.
    if (changes.some((c) => c.field === 'dnsSupport'))
      await ec2.send(new ModifyVpcAttributeCommand({ VpcId: vpcId, EnableDnsSupport: { Value: true } }));
    if (changes.some((c) => c.field === 'dnsHostnames'))
      await ec2.send(new ModifyVpcAttributeCommand({ VpcId: vpcId, EnableDnsHostnames: { Value: true } }));
    await retag(ctx, vpcId, found.state.tags, spec.tags);
    return { ...found, state: { ...found.state, dnsSupport: true, dnsHostnames: true, tags: { ...found.state.tags, ...spec.tags } } };
  },

  async destroy(found, ctx) {
    const ec2 = ctx.provider.clients.ec2;
    await retryWhileDependent(ctx, found.ref, () => deleting(() => ec2.send(new DeleteVpcCommand({ VpcId: found.state.vpcId }))));
  },

  outputs(found) {
    return { vpcId: found.state.vpcId, cidr: found.state.cidr };
  },
};
