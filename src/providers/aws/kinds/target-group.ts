import {
  AddTagsCommand,
  CreateTargetGroupCommand,
  DeleteTargetGroupCommand,
  paginateDescribeTargetGroups,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { diffFields } from '../../../core/engine/diff.ts';
import { type Val, known } from '../../../core/engine/model.ts';
import { collect, deleting, retryWhileDependent } from '../calls.ts';
import { clusterTagged } from '../elb-util.ts';
import type { Tags } from '../naming.ts';
import type { AwsKind } from '../provider.ts';
import { componentOf, missingTags, tagChange, toList } from '../tags.ts';

export interface TargetGroupSpec {
  name: string;
  port: number;
  vpcId: Val;
  tags: Tags;
}

export interface TargetGroupState {
  arn: string;
  name: string;
  port: number;
  vpcId: string;
  protocol: string;
  tags: Tags;
}

/** A TCP target group of control-plane instances, health-checked on its port. */
export const targetGroupKind: AwsKind<TargetGroupSpec, TargetGroupState> = {
  kind: 'target-group',

  async observe({ provider }) {
    const pages = await collect(paginateDescribeTargetGroups({ client: provider.clients.elb }, {}));
    const all = pages.flatMap((p) => p.TargetGroups ?? []);
    const tagged = await clusterTagged(provider, all.map((g) => g.TargetGroupArn ?? ''));
    return all
      .filter((g) => tagged.has(g.TargetGroupArn ?? ''))
      .map((g) => {
        const tags = tagged.get(g.TargetGroupArn ?? '') ?? {};
        const state: TargetGroupState = { arn: g.TargetGroupArn ?? '', name: g.TargetGroupName ?? '', port: g.Port ?? 0, vpcId: g.VpcId ?? '', protocol: g.Protocol ?? '', tags };
        return { id: componentOf(tags) ?? state.name, ref: state.name, state };
      });
  },

  diff(state, spec) {
    const fixed = diffFields(state, { name: spec.name, port: spec.port, vpcId: spec.vpcId, protocol: 'TCP' });
    if (fixed.length > 0) return { changes: fixed, replace: 'a target group\'s name, port, protocol and VPC cannot change' };
    return { changes: tagChange(state.tags, spec.tags) };
  },

  describe(spec) {
    return { name: spec.name, protocol: 'TCP', port: spec.port, healthCheck: 'TCP on the traffic port' };
  },

  async create(spec, ctx) {
    const created = await ctx.provider.clients.elb.send(
      new CreateTargetGroupCommand({
        Name: spec.name,
        Protocol: 'TCP',
        Port: spec.port,
        VpcId: known(spec.vpcId),
        TargetType: 'instance',
        HealthCheckProtocol: 'TCP',
        HealthCheckPort: 'traffic-port',
        HealthCheckIntervalSeconds: 10,
        HealthyThresholdCount: 2,
        UnhealthyThresholdCount: 2,
        Tags: toList(spec.tags),
      }),
    );
    const arn = created.TargetGroups?.[0]?.TargetGroupArn ?? '';
    return { id: ctx.id, ref: spec.name, state: { arn, name: spec.name, port: spec.port, vpcId: known(spec.vpcId), protocol: 'TCP', tags: spec.tags } };
  },

  async update(found, spec, _changes, ctx) {
    const missing = missingTags(found.state.tags, spec.tags);
    if (Object.keys(missing).length > 0) await ctx.provider.clients.elb.send(new AddTagsCommand({ ResourceArns: [found.state.arn], Tags: toList(missing) }));
    return { ...found, state: { ...found.state, tags: { ...found.state.tags, ...spec.tags } } };
  },

  async destroy(found, ctx) {
    const elb = ctx.provider.clients.elb;
    // In use until its listener is gone: that can take a moment to settle.
    await retryWhileDependent(ctx, found.ref, () => deleting(() => elb.send(new DeleteTargetGroupCommand({ TargetGroupArn: found.state.arn }))));
  },

  outputs(found) {
    return { arn: found.state.arn };
  },
};
