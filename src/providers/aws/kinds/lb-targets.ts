import { DeregisterTargetsCommand, DescribeTargetHealthCommand, RegisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { isDeepStrictEqual } from 'node:util';
import { sorted } from '../../../core/engine/diff.ts';
import { type Val, isUnknown, known } from '../../../core/engine/model.ts';
import { deleting } from '../calls.ts';
import type { AwsKind } from '../provider.ts';
import { targetGroupKind } from './target-group.ts';

export interface LbTargetsSpec {
  targetGroupArn: Val;
  instanceIds: Val[];
}

export interface LbTargetsState {
  targetGroupArn: string;
  instanceIds: string[];
}

/** The id of the registrations of a target group's logical id. */
export function targetsIdFor(targetGroupId: string): string {
  return `${targetGroupId}-targets`;
}

/** Which instances a target group sends to: the control planes. Reads each of the cluster's groups. */
export const lbTargetsKind: AwsKind<LbTargetsSpec, LbTargetsState> = {
  kind: 'lb-targets',

  async observe(ctx) {
    const groups = await ctx.observe(targetGroupKind);
    return Promise.all(
      groups.map(async (g) => {
        const health = await ctx.provider.clients.elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: g.state.arn }));
        const instanceIds = sorted((health.TargetHealthDescriptions ?? []).filter((d) => d.TargetHealth?.State !== 'draining').map((d) => d.Target?.Id ?? ''));
        return { id: targetsIdFor(g.id), ref: `${g.state.name}/targets`, state: { targetGroupArn: g.state.arn, instanceIds } };
      }),
    );
  },

  diff(state, spec) {
    const wanted = spec.instanceIds.some(isUnknown) ? spec.instanceIds : sorted(spec.instanceIds as string[]);
    return isDeepStrictEqual(state.instanceIds, wanted) ? { changes: [] } : { changes: [{ field: 'instanceIds', from: state.instanceIds, to: wanted }] };
  },

  describe(spec) {
    return { instances: spec.instanceIds };
  },

  async create(spec, ctx) {
    const targetGroupArn = known(spec.targetGroupArn);
    return this.update({ id: ctx.id, ref: targetGroupArn, state: { targetGroupArn, instanceIds: [] } }, spec, [], ctx);
  },

  async update(found, spec, _changes, ctx) {
    const elb = ctx.provider.clients.elb;
    const wanted = spec.instanceIds.map(known);
    const add = wanted.filter((id) => !found.state.instanceIds.includes(id));
    const remove = found.state.instanceIds.filter((id) => !wanted.includes(id));
    const TargetGroupArn = found.state.targetGroupArn;
    if (add.length > 0) await elb.send(new RegisterTargetsCommand({ TargetGroupArn, Targets: add.map((Id) => ({ Id })) }));
    if (remove.length > 0) await elb.send(new DeregisterTargetsCommand({ TargetGroupArn, Targets: remove.map((Id) => ({ Id })) }));
    return { ...found, state: { targetGroupArn: TargetGroupArn, instanceIds: sorted(wanted) } };
  },

  async destroy(found, ctx) {
    if (found.state.instanceIds.length === 0) return;
    await deleting(() =>
      ctx.provider.clients.elb.send(new DeregisterTargetsCommand({ TargetGroupArn: found.state.targetGroupArn, Targets: found.state.instanceIds.map((Id) => ({ Id })) })),
    );
  },

  outputs(found) {
    return { targetGroupArn: found.state.targetGroupArn };
  },
};
