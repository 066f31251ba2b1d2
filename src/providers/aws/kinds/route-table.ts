import {
  AssociateRouteTableCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  DeleteRouteCommand,
  DeleteRouteTableCommand,
  DisassociateRouteTableCommand,
  ReplaceRouteCommand,
  type Route as EC2Route,
  paginateDescribeRouteTables,
} from '@aws-sdk/client-ec2';
import { isDeepStrictEqual } from 'node:util';
import { sorted } from '../../../core/engine/diff.ts';
import { type FieldChange, type Val, isUnknown, known } from '../../../core/engine/model.ts';
import { collect, deleting } from '../calls.ts';
import { clusterFilter, retag, tagSpecs } from '../ec2-util.ts';
import type { Tags } from '../naming.ts';
import type { AwsAct, AwsKind } from '../provider.ts';
import { componentOf, tagChange, toRecord } from '../tags.ts';

export interface Route {
  destination: string;
  /** An internet gateway (igw-…) or NAT gateway (nat-…) id. */
  target: Val;
}

export interface RouteTableSpec {
  vpcId: Val;
  routes: Route[];
  subnetIds: Val[];
  tags: Tags;
}

export interface RouteTableState {
  routeTableId: string;
  vpcId: string;
  /** Routes to gateways this kind manages; routes to network interfaces are the vpc-route kind's. */
  routes: { destination: string; target: string }[];
  interfaceRoutes: { destination: string; networkInterfaceId: string }[];
  associations: { associationId: string; subnetId: string }[];
  tags: Tags;
}

export const routeTableKind: AwsKind<RouteTableSpec, RouteTableState> = {
  kind: 'route-table',

  async observe({ provider }) {
    const pages = await collect(paginateDescribeRouteTables({ client: provider.clients.ec2 }, { Filters: clusterFilter(provider) }));
    return pages
      .flatMap((p) => p.RouteTables ?? [])
      .map((t) => {
        const tags = toRecord(t.Tags);
        const state: RouteTableState = {
          routeTableId: t.RouteTableId ?? '',
          vpcId: t.VpcId ?? '',
          // Only routes someone created: not the VPC's local route, not propagated ones.
          routes: created(t.Routes)
            .filter((r) => !r.NetworkInterfaceId && !r.InstanceId)
            .map((r) => ({ destination: r.DestinationCidrBlock ?? '', target: r.GatewayId ?? r.NatGatewayId ?? '' })),
          interfaceRoutes: created(t.Routes)
            .filter((r) => r.NetworkInterfaceId)
            .map((r) => ({ destination: r.DestinationCidrBlock ?? '', networkInterfaceId: r.NetworkInterfaceId ?? '' })),
          associations: (t.Associations ?? [])
            .filter((a) => !a.Main && a.SubnetId)
            .map((a) => ({ associationId: a.RouteTableAssociationId ?? '', subnetId: a.SubnetId ?? '' })),
          tags,
        };
        return { id: componentOf(tags) ?? '', ref: state.routeTableId, state };
      });
  },

  diff(state, spec) {
    if (isUnknown(spec.vpcId) || state.vpcId !== spec.vpcId) return { changes: [{ field: 'vpcId', from: state.vpcId, to: spec.vpcId }], replace: 'its VPC changed' };
    const changes: FieldChange[] = [];
    const actualRoutes = sorted(state.routes, (r) => r.destination);
    const wantedRoutes = sorted(spec.routes, (r) => r.destination);
    if (!isDeepStrictEqual(actualRoutes, wantedRoutes)) changes.push({ field: 'routes', from: actualRoutes, to: wantedRoutes });
    const actualSubnets = sorted(state.associations.map((a) => a.subnetId));
    const wantedSubnets = spec.subnetIds.some(isUnknown) ? spec.subnetIds : sorted(spec.subnetIds as string[]);
    if (!isDeepStrictEqual(actualSubnets, wantedSubnets)) changes.push({ field: 'subnets', from: actualSubnets, to: wantedSubnets });
    return { changes: [...changes, ...tagChange(state.tags, spec.tags)] };
  },

  describe(spec) {
    return { routes: spec.routes, subnets: spec.subnetIds };
  },

  async create(spec, ctx) {
    const created = await ctx.provider.clients.ec2.send(
      new CreateRouteTableCommand({ VpcId: known(spec.vpcId), TagSpecifications: tagSpecs('route-table', spec.tags) }),
    );
    const routeTableId = created.RouteTable?.RouteTableId ?? '';
    const found = { id: ctx.id, ref: routeTableId, state: { routeTableId, vpcId: known(spec.vpcId), routes: [], interfaceRoutes: [], associations: [], tags: spec.tags } };
    return this.update(found, spec, this.diff(found.state, spec).changes, ctx);
  },

  async update(found, spec, _changes, ctx) {
    const { routeTableId } = found.state;
    const routes = await syncRoutes(ctx, routeTableId, found.state.routes, spec.routes);
    const associations = await syncAssociations(ctx, routeTableId, found.state.associations, spec.subnetIds.map(known));
    await retag(ctx, routeTableId, found.state.tags, spec.tags);
    return { ...found, state: { ...found.state, routes, associations, tags: { ...found.state.tags, ...spec.tags } } };
  },

  async destroy(found, ctx) {
    const ec2 = ctx.provider.clients.ec2;
    for (const a of found.state.associations) await deleting(() => ec2.send(new DisassociateRouteTableCommand({ AssociationId: a.associationId })));
    await deleting(() => ec2.send(new DeleteRouteTableCommand({ RouteTableId: found.state.routeTableId })));
  },

  outputs(found) {
    return { routeTableId: found.state.routeTableId };
  },
};

function created(routes: readonly EC2Route[] | undefined): EC2Route[] {
  return (routes ?? []).filter((r) => r.Origin === 'CreateRoute' && r.DestinationCidrBlock);
}

function targetFields(target: string): { GatewayId?: string; NatGatewayId?: string } {
  return target.startsWith('nat-') ? { NatGatewayId: target } : { GatewayId: target };
}

async function syncRoutes(ctx: AwsAct, routeTableId: string, actual: RouteTableState['routes'], wanted: Route[]): Promise<RouteTableState['routes']> {
  const ec2 = ctx.provider.clients.ec2;
  const current = new Map(actual.map((r) => [r.destination, r.target]));
  const result = wanted.map((r) => ({ destination: r.destination, target: known(r.target) }));
  for (const { destination, target } of result) {
    const existing = current.get(destination);
    if (existing === target) continue;
    const input = { RouteTableId: routeTableId, DestinationCidrBlock: destination, ...targetFields(target) };
    await ec2.send(existing === undefined ? new CreateRouteCommand(input) : new ReplaceRouteCommand(input));
  }
  const keep = new Set(result.map((r) => r.destination));
  for (const { destination } of actual) {
    if (!keep.has(destination)) await deleting(() => ec2.send(new DeleteRouteCommand({ RouteTableId: routeTableId, DestinationCidrBlock: destination })));
  }
  return result;
}

async function syncAssociations(ctx: AwsAct, routeTableId: string, actual: RouteTableState['associations'], subnetIds: string[]) {
  const ec2 = ctx.provider.clients.ec2;
  const kept = actual.filter((a) => subnetIds.includes(a.subnetId));
  for (const a of actual) {
    if (!subnetIds.includes(a.subnetId)) await deleting(() => ec2.send(new DisassociateRouteTableCommand({ AssociationId: a.associationId })));
  }
  const added: RouteTableState['associations'] = [];
  for (const subnetId of subnetIds) {
    if (kept.some((a) => a.subnetId === subnetId)) continue;
    const result = await ec2.send(new AssociateRouteTableCommand({ RouteTableId: routeTableId, SubnetId: subnetId }));
    added.push({ associationId: result.AssociationId ?? '', subnetId });
  }
  return [...kept, ...added];
}
