import { AssociateAddressCommand, DisassociateAddressCommand } from '@aws-sdk/client-ec2';
import { type Val, isUnknown, known } from '../../../core/engine/model.ts';
import { deleting } from '../calls.ts';
import type { AwsAct, AwsKind } from '../provider.ts';
import { elasticIpKind } from './elastic-ip.ts';

export interface EipAssociationSpec {
  allocationId: Val;
  instanceId: Val;
  /** The address and the instance's private address, handed on as outputs. */
  publicIp: Val;
  privateIp: Val;
}

export interface EipAssociationState {
  associationId: string;
  allocationId: string;
  instanceId: string;
  publicIp: string;
  privateIp: string;
}

/** The id of the association of an Elastic IP's logical id. */
export function associationIdFor(eipId: string): string {
  return `${eipId}-association`;
}

/**
 * An Elastic IP associated with an instance (its primary private address). Read from the
 * addresses' observation: no calls of its own. A new instance gets the address moved to it.
 */
export const eipAssociationKind: AwsKind<EipAssociationSpec, EipAssociationState> = {
  kind: 'eip-association',

  async observe(ctx) {
    const addresses = await ctx.observe(elasticIpKind);
    return addresses.flatMap((a) =>
      a.state.instance
        ? [
            {
              id: associationIdFor(a.id),
              ref: a.state.instance.associationId,
              state: { ...a.state.instance, allocationId: a.state.allocationId, publicIp: a.state.publicIp },
            },
          ]
        : [],
    );
  },

  diff(state, spec) {
    if (isUnknown(spec.allocationId) || state.allocationId !== spec.allocationId)
      return { changes: [{ field: 'allocationId', from: state.allocationId, to: spec.allocationId }], replace: 'another Elastic IP' };
    if (isUnknown(spec.instanceId) || state.instanceId !== spec.instanceId) return { changes: [{ field: 'instanceId', from: state.instanceId, to: spec.instanceId }] };
    return { changes: [] };
  },

  describe(spec) {
    return { allocationId: spec.allocationId, instanceId: spec.instanceId };
  },

  async create(spec, ctx) {
    return associate(spec, ctx);
  },

  async update(_found, spec, _changes, ctx) {
    return associate(spec, ctx);
  },

  async destroy(found, ctx) {
    await deleting(() => ctx.provider.clients.ec2.send(new DisassociateAddressCommand({ AssociationId: found.state.associationId })));
  },

  outputs(found) {
    return { publicIp: found.state.publicIp, privateIp: found.state.privateIp };
  },
};

/** Associates (or moves) the address; AllowReassociation makes a re-run after an interruption safe. */
async function associate(spec: EipAssociationSpec, ctx: AwsAct) {
  const allocationId = known(spec.allocationId);
  const instanceId = known(spec.instanceId);
  const result = await ctx.provider.clients.ec2.send(new AssociateAddressCommand({ AllocationId: allocationId, InstanceId: instanceId, AllowReassociation: true }));
  const state: EipAssociationState = { associationId: result.AssociationId ?? '', allocationId, instanceId, publicIp: known(spec.publicIp), privateIp: known(spec.privateIp) };
  return { id: ctx.id, ref: state.associationId, state };
}
