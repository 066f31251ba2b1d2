import { AddTagsCommand, CreateListenerCommand, DeleteListenerCommand, DescribeListenersCommand, ModifyListenerCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { diffFields } from '../../../core/engine/diff.ts';
import { type Val, known } from '../../../core/engine/model.ts';
import { deleting } from '../calls.ts';
import { clusterTagged } from '../elb-util.ts';
import type { Tags } from '../naming.ts';
import type { AwsKind } from '../provider.ts';
import { componentOf, missingTags, tagChange, toList } from '../tags.ts';
import { loadBalancerKind } from './load-balancer.ts';

export interface ListenerSpec {
  loadBalancerArn: Val;
  port: number;
  targetGroupArn: Val;
  tags: Tags;
}

export interface ListenerState {
  arn: string;
  loadBalancerArn: string;
  port: number;
  targetGroupArn: string;
  tags: Tags;
}

/** A TCP listener forwarding one port of the load balancer to a target group. */
export const listenerKind: AwsKind<ListenerSpec, ListenerState> = {
  kind: 'lb-listener',

  /** Listeners of the cluster's load balancers (one read per load balancer). */
  async observe(ctx) {
    const balancers = await ctx.observe(loadBalancerKind);
    const listeners = (
      await Promise.all(balancers.map(async (lb) => (await ctx.provider.clients.elb.send(new DescribeListenersCommand({ LoadBalancerArn: lb.state.arn }))).Listeners ?? []))
    ).flat();
    const tagged = await clusterTagged(ctx.provider, listeners.map((l) => l.ListenerArn ?? ''));
    return listeners
      .filter((l) => tagged.has(l.ListenerArn ?? ''))
      .map((l) => {
        const tags = tagged.get(l.ListenerArn ?? '') ?? {};
        const state: ListenerState = {
          arn: l.ListenerArn ?? '',
          loadBalancerArn: l.LoadBalancerArn ?? '',
          port: l.Port ?? 0,
          targetGroupArn: l.DefaultActions?.[0]?.TargetGroupArn ?? '',
          tags,
        };
        return { id: componentOf(tags) ?? state.arn, ref: state.arn, state };
      });
  },

  diff(state, spec) {
    const fixed = diffFields(state, { loadBalancerArn: spec.loadBalancerArn, port: spec.port });
    if (fixed.length > 0) return { changes: fixed, replace: 'a listener cannot move to another load balancer or port' };
    return { changes: [...diffFields(state, { targetGroupArn: spec.targetGroupArn }), ...tagChange(state.tags, spec.tags)] };
  },

  describe(spec) {
    return { port: spec.port, protocol: 'TCP', forwardTo: spec.targetGroupArn };
  },

  async create(spec, ctx) {
    const created = await ctx.provider.clients.elb.send(
      new CreateListenerCommand({
        LoadBalancerArn: known(spec.loadBalancerArn),
        Protocol: 'TCP',
        Port: spec.port,
        DefaultActions: [{ Type: 'forward', TargetGroupArn: known(spec.targetGroupArn) }],
        Tags: toList(spec.tags),
      }),
    );
    const arn = created.Listeners?.[0]?.ListenerArn ?? '';
    return { id: ctx.id, ref: arn, state: { arn, loadBalancerArn: known(spec.loadBalancerArn), port: spec.port, targetGroupArn: known(spec.targetGroupArn), tags: spec.tags } };
  },

  async update(found, spec, changes, ctx) {
    const elb = ctx.provider.clients.elb;
    const targetGroupArn = known(spec.targetGroupArn);
    if (changes.some((c) => c.field === 'targetGroupArn'))
      await elb.send(new ModifyListenerCommand({ ListenerArn: found.state.arn, DefaultActions: [{ Type: 'forward', TargetGroupArn: targetGroupArn }] }));
    const missing = missingTags(found.state.tags, spec.tags);
    if (Object.keys(missing).length > 0) await elb.send(new AddTagsCommand({ ResourceArns: [found.state.arn], Tags: toList(missing) }));
    return { ...found, state: { ...found.state, targetGroupArn, tags: { ...found.state.tags, ...spec.tags } } };
  },

  async destroy(found, ctx) {
    await deleting(() => ctx.provider.clients.elb.send(new DeleteListenerCommand({ ListenerArn: found.state.arn })));
  },

  outputs(found) {
    return { arn: found.state.arn };
  },
};
