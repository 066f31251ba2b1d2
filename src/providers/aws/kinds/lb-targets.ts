import { DeregisterTargetsCommand, DescribeTargetHealthCommand, RegisterTargetsCommand, type TargetDescription } from '@aws-sdk/client-elastic-load-balancing-v2';
import { isDeepStrictEqual } from 'node:util';
import { type Val, isUnknown, known } from '../../../core/engine/model.ts';
import { deleting } from '../calls.ts';
import type { AwsKind } from '../provider.ts';
import { targetGroupKind } from './target-group.ts';

export interface LbTarget {
  /** An instance id, or an IP address for a group of IP targets. */
  id: Val;
  /** Defaults to the group's port. */
  port?: number;
  /** An IP outside the VPC (on-prem, over the VPN) is registered in zone `all`. */
  outsideVpc?: boolean;
}

export interface LbTargetsSpec {
  targetGroupArn: Val;
  targets: LbTarget[];
}

export interface LbTargetsState {
  targetGroupArn: string;
  /** `id` or `id:port`, sorted. */
  targets: string[];
}

/** The id of the registrations of a target group's logical id. */
export function targetsIdFor(targetGroupId: string): string {
  return `${targetGroupId}-targets`;
}

const keyOf = (t: { id: string; port?: number | undefined }) => (t.port === undefined ? t.id : `${t.id}:${t.port}`);

/** What a target group sends to: control planes, or a site's workers. Reads each of the cluster's groups. */
export const lbTargetsKind: AwsKind<LbTargetsSpec, LbTargetsState> = {
  kind: 'lb-targets',

  async observe(ctx) {
    const groups = await ctx.observe(targetGroupKind);
    return Promise.all(
      groups.map(async (g) => {
        const health = await ctx.provider.clients.elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: g.state.arn }));
        const targets = (health.TargetHealthDescriptions ?? [])
          .filter((d) => d.TargetHealth?.State !== 'draining')
          .map((d) => keyOf({ id: d.Target?.Id ?? '', port: d.Target?.Port === g.state.port ? undefined : d.Target?.Port }));
        return { id: targetsIdFor(g.id), ref: `${g.state.name}/targets`, state: { targetGroupArn: g.state.arn, targets: targets.sort() } };
      }),
    );
  },

  diff(state, spec) {
    const wanted = spec.targets.some((t) => isUnknown(t.id)) ? spec.targets.map((t) => (isUnknown(t.id) ? t.id : keyOf({ id: t.id as string, port: t.port }))) : wantedKeys(spec);
    return isDeepStrictEqual(state.targets, wanted) ? { changes: [] } : { changes: [{ field: 'targets', from: state.targets, to: wanted }] };
  },

  describe(spec) {
    return { targets: spec.targets.map((t) => (isUnknown(t.id) ? t.id : `${keyOf({ id: t.id as string, port: t.port })}${t.outsideVpc ? ' (zone all, over the VPN)' : ''}`)) };
  },

  async create(spec, ctx) {
    const targetGroupArn = known(spec.targetGroupArn);
    return this.update({ id: ctx.id, ref: targetGroupArn, state: { targetGroupArn, targets: [] } }, spec, [], ctx);
  },

  async update(found, spec, _changes, ctx) {
    const elb = ctx.provider.clients.elb;
    const TargetGroupArn = found.state.targetGroupArn;
    const wanted = spec.targets.map((t) => ({ ...t, id: known(t.id) }));
    const add = wanted.filter((t) => !found.state.targets.includes(keyOf(t)));
    const remove = found.state.targets.filter((key) => !wanted.some((t) => keyOf(t) === key));
    if (add.length > 0) await elb.send(new RegisterTargetsCommand({ TargetGroupArn, Targets: add.map(description) }));
    if (remove.length > 0) await elb.send(new DeregisterTargetsCommand({ TargetGroupArn, Targets: remove.map(fromKey) }));
    return { ...found, state: { targetGroupArn: TargetGroupArn, targets: wantedKeys(spec) } };
  },

  async destroy(found, ctx) {
    if (found.state.targets.length === 0) return;
    await deleting(() => ctx.provider.clients.elb.send(new DeregisterTargetsCommand({ TargetGroupArn: found.state.targetGroupArn, Targets: found.state.targets.map(fromKey) })));
  },

  outputs(found) {
    return { targetGroupArn: found.state.targetGroupArn };
  },
};

function wantedKeys(spec: LbTargetsSpec): string[] {
  return spec.targets.map((t) => keyOf({ id: known(t.id), port: t.port })).sort();
}

function description(t: LbTarget & { id: string }): TargetDescription {
  return { Id: t.id, ...(t.port === undefined ? {} : { Port: t.port }), ...(t.outsideVpc ? { AvailabilityZone: 'all' } : {}) };
}

function fromKey(key: string): TargetDescription {
  const [id, port] = key.split(':');
  return { Id: id ?? key, ...(port ? { Port: Number(port) } : {}) };
}
