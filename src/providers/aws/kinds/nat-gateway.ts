import {
  CreateNatGatewayCommand,
  DeleteNatGatewayCommand,
  paginateDescribeNatGateways,
  waitUntilNatGatewayAvailable,
  waitUntilNatGatewayDeleted,
} from '@aws-sdk/client-ec2';
import { randomUUID } from 'node:crypto';
import { diffFields } from '../../../core/engine/diff.ts';
import { type Val, known } from '../../../core/engine/model.ts';
import { collect, deleting } from '../calls.ts';
import { clusterFilter, tagSpecs, tagsOnlyUpdate } from '../ec2-util.ts';
import type { Tags } from '../naming.ts';
import type { AwsKind } from '../provider.ts';
import { componentOf, tagChange, toRecord } from '../tags.ts';

export interface NatGatewaySpec {
  subnetId: Val;
  allocationId: Val;
  tags: Tags;
}

export interface NatGatewayState {
  natGatewayId: string;
  subnetId: string;
  allocationId: string;
  status: string;
  tags: Tags;
}

/** Gateways in these states are gone or going; they are not ours to find any more. */
const GONE = new Set(['deleted']);
const BROKEN = new Set(['failed', 'deleting']);

export const natGatewayKind: AwsKind<NatGatewaySpec, NatGatewayState> = {
  kind: 'nat-gateway',

  async observe({ provider }) {
    const pages = await collect(paginateDescribeNatGateways({ client: provider.clients.ec2 }, { Filter: clusterFilter(provider) }));
    return pages
      .flatMap((p) => p.NatGateways ?? [])
      .filter((n) => !GONE.has(n.State ?? ''))
      .map((n) => {
        const tags = toRecord(n.Tags);
        const state: NatGatewayState = {
          natGatewayId: n.NatGatewayId ?? '',
          subnetId: n.SubnetId ?? '',
          allocationId: n.NatGatewayAddresses?.[0]?.AllocationId ?? '',
          status: n.State ?? '',
          tags,
        };
        return { id: componentOf(tags) ?? '', ref: state.natGatewayId, state };
      });
  },

  diff(state, spec) {
    if (BROKEN.has(state.status)) return { changes: [{ field: 'status', from: state.status, to: 'available' }], replace: `it is ${state.status}` };
    const placement = diffFields(state, { subnetId: spec.subnetId, allocationId: spec.allocationId });
    if (placement.length > 0) return { changes: placement, replace: 'its subnet or address changed' };
    return { changes: tagChange(state.tags, spec.tags) };
  },

  describe(spec) {
    return { subnetId: spec.subnetId, allocationId: spec.allocationId };
  },

  async create(spec, ctx) {
    const ec2 = ctx.provider.clients.ec2;
    const created = await ec2.send(
      new CreateNatGatewayCommand({
        SubnetId: known(spec.subnetId),
        AllocationId: known(spec.allocationId),
        TagSpecifications: tagSpecs('natgateway', spec.tags),
        ClientToken: randomUUID(),
      }),
    );
    const natGatewayId = created.NatGateway?.NatGatewayId ?? '';
    ctx.report(`waiting for ${natGatewayId} to become available (usually 1-3 minutes)`);
    await waitUntilNatGatewayAvailable({ client: ec2, maxWaitTime: 900, minDelay: 5, abortSignal: ctx.signal }, { NatGatewayIds: [natGatewayId] });
    const state: NatGatewayState = { natGatewayId, subnetId: known(spec.subnetId), allocationId: known(spec.allocationId), status: 'available', tags: spec.tags };
    return { id: ctx.id, ref: natGatewayId, state };
  },

  update: tagsOnlyUpdate((state) => state.natGatewayId),

  async destroy(found, ctx) {
    const ec2 = ctx.provider.clients.ec2;
    const natGatewayId = found.state.natGatewayId;
    await deleting(() => ec2.send(new DeleteNatGatewayCommand({ NatGatewayId: natGatewayId })));
    ctx.report(`waiting for ${natGatewayId} to be deleted (usually about a minute)`);
    await waitUntilNatGatewayDeleted({ client: ec2, maxWaitTime: 900, minDelay: 5, abortSignal: ctx.signal }, { NatGatewayIds: [natGatewayId] });
  },

  outputs(found) {
    return { natGatewayId: found.state.natGatewayId };
  },
};
