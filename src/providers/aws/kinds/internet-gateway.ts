import {
  AttachInternetGatewayCommand,
  CreateInternetGatewayCommand,
  DeleteInternetGatewayCommand,
  DetachInternetGatewayCommand,
  paginateDescribeInternetGateways,
} from '@aws-sdk/client-ec2';
import { diffFields } from '../../../core/engine/diff.ts';
import { type Val, known } from '../../../core/engine/model.ts';
import { collect, deleting, retryWhileDependent } from '../calls.ts';
import { clusterFilter, retag, tagSpecs } from '../ec2-util.ts';
import type { Tags } from '../naming.ts';
import type { AwsAct, AwsKind } from '../provider.ts';
import { componentOf, tagChange, toRecord } from '../tags.ts';

export interface InternetGatewaySpec {
  vpcId: Val;
  tags: Tags;
}

export interface InternetGatewayState {
  gatewayId: string;
  /** The VPC it is attached to, if any. */
  vpcId: string | undefined;
  tags: Tags;
}

export const internetGatewayKind: AwsKind<InternetGatewaySpec, InternetGatewayState> = {
  kind: 'internet-gateway',

  async observe({ provider }) {
    const pages = await collect(paginateDescribeInternetGateways({ client: provider.clients.ec2 }, { Filters: clusterFilter(provider) }));
    return pages
      .flatMap((p) => p.InternetGateways ?? [])
      .map((g) => {
        const tags = toRecord(g.Tags);
        // An attached internet gateway reports its attachment as "available".
        const attached = g.Attachments?.find((a) => ['available', 'attached'].includes(String(a.State)));
        const state: InternetGatewayState = { gatewayId: g.InternetGatewayId ?? '', vpcId: attached?.VpcId, tags };
        return { id: componentOf(tags) ?? '', ref: state.gatewayId, state };
      });
  },

  diff(state, spec) {
    return { changes: [...diffFields(state, { vpcId: spec.vpcId }), ...tagChange(state.tags, spec.tags)] };
  },

  describe(spec) {
    return { vpcId: spec.vpcId };
  },

  async create(spec, ctx) {
    const created = await ctx.provider.clients.ec2.send(new CreateInternetGatewayCommand({ TagSpecifications: tagSpecs('internet-gateway', spec.tags) }));
    const gatewayId = created.InternetGateway?.InternetGatewayId ?? '';
    const found = { id: ctx.id, ref: gatewayId, state: { gatewayId, vpcId: undefined, tags: spec.tags } };
    return this.update(found, spec, diffFields(found.state, { vpcId: spec.vpcId }), ctx);
  },

  async update(found, spec, changes, ctx) {
    const { gatewayId } = found.state;
    const vpcId = known(spec.vpcId);
    if (changes.some((c) => c.field === 'vpcId')) {
      if (found.state.vpcId) await detach(ctx, gatewayId, found.state.vpcId);
      await ctx.provider.clients.ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: gatewayId, VpcId: vpcId }));
    }
    await retag(ctx, gatewayId, found.state.tags, spec.tags);
    return { ...found, state: { gatewayId, vpcId, tags: { ...found.state.tags, ...spec.tags } } };
  },

  async destroy(found, ctx) {
    const { gatewayId, vpcId } = found.state;
    if (vpcId) await detach(ctx, gatewayId, vpcId);
    await deleting(() => ctx.provider.clients.ec2.send(new DeleteInternetGatewayCommand({ InternetGatewayId: gatewayId })));
  },

  outputs(found) {
    return { gatewayId: found.state.gatewayId };
  },
};

/** Detaching fails while public addresses are mapped in the VPC (a NAT gateway going away); wait that out. */
async function detach(ctx: AwsAct, gatewayId: string, vpcId: string): Promise<void> {
  await retryWhileDependent(ctx, gatewayId, () =>
    deleting(() => ctx.provider.clients.ec2.send(new DetachInternetGatewayCommand({ InternetGatewayId: gatewayId, VpcId: vpcId }))),
  );
}
