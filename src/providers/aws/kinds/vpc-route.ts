import { CreateRouteCommand, DeleteRouteCommand, ReplaceRouteCommand } from '@aws-sdk/client-ec2';
import { type Val, isUnknown, known } from '../../../core/engine/model.ts';
import { deleting } from '../calls.ts';
import { errorCode } from '../errors.ts';
import type { AwsAct, AwsKind } from '../provider.ts';
import { routeTableKind } from './route-table.ts';

export interface VpcRouteSpec {
  routeTableId: Val;
  destination: string;
  /** The network interface of the instance that routes it (an appliance, such as the VPN gateway). */
  networkInterfaceId: Val;
}

export interface VpcRouteState {
  routeTableId: string;
  destination: string;
  networkInterfaceId: string;
}

/** A route's logical id: its table's and its destination, `routes-private-a:192.168.10.0/24`. */
export function vpcRouteId(tableId: string, destination: string): string {
  return `${tableId}:${destination}`;
}

/**
 * A route in one of the cluster's route tables to a network interface. Routes carry no tags; they
 * are found in the tables' observation (no calls of their own) and named after table and destination.
 */
export const vpcRouteKind: AwsKind<VpcRouteSpec, VpcRouteState> = {
  kind: 'vpc-route',

  async observe(ctx) {
    const tables = await ctx.observe(routeTableKind);
    return tables.flatMap((t) =>
      t.state.interfaceRoutes.map((r) => ({
        id: vpcRouteId(t.id, r.destination),
        ref: `${t.state.routeTableId}/${r.destination}`,
        state: { routeTableId: t.state.routeTableId, destination: r.destination, networkInterfaceId: r.networkInterfaceId },
      })),
    );
  },

  diff(state, spec) {
    if (isUnknown(spec.routeTableId) || state.routeTableId !== spec.routeTableId)
      return { changes: [{ field: 'routeTableId', from: state.routeTableId, to: spec.routeTableId }], replace: 'its route table changed' };
    if (isUnknown(spec.networkInterfaceId) || state.networkInterfaceId !== spec.networkInterfaceId)
      return { changes: [{ field: 'target', from: state.networkInterfaceId, to: spec.networkInterfaceId }] };
    return { changes: [] };
  },

  describe(spec) {
    return { destination: spec.destination, target: spec.networkInterfaceId };
  },

  async create(spec, ctx) {
    const input = routeInput(spec);
    try {
      await ctx.provider.clients.ec2.send(new CreateRouteCommand(input));
    } catch (error) {
      // A run stopped after creating it, or the target changed in between: point it at ours.
      if (errorCode(error) !== 'RouteAlreadyExists') throw error;
      await ctx.provider.clients.ec2.send(new ReplaceRouteCommand(input));
    }
    return found(spec, ctx);
  },

  async update(_found, spec, _changes, ctx) {
    await ctx.provider.clients.ec2.send(new ReplaceRouteCommand(routeInput(spec)));
    return found(spec, ctx);
  },

  async destroy(existing, ctx) {
    await deleting(() => ctx.provider.clients.ec2.send(new DeleteRouteCommand({ RouteTableId: existing.state.routeTableId, DestinationCidrBlock: existing.state.destination })));
  },

  outputs() {
    return {};
  },
};

function routeInput(spec: VpcRouteSpec) {
  return { RouteTableId: known(spec.routeTableId), DestinationCidrBlock: spec.destination, NetworkInterfaceId: known(spec.networkInterfaceId) };
}

function found(spec: VpcRouteSpec, ctx: AwsAct) {
  const state: VpcRouteState = { routeTableId: known(spec.routeTableId), destination: spec.destination, networkInterfaceId: known(spec.networkInterfaceId) };
  return { id: ctx.id, ref: `${state.routeTableId}/${state.destination}`, state };
}
