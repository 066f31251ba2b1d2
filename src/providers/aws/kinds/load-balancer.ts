import {
  AddTagsCommand,
  CreateLoadBalancerCommand,
  DeleteLoadBalancerCommand,
  ModifyLoadBalancerAttributesCommand,
  SetSubnetsCommand,
  paginateDescribeLoadBalancers,
  waitUntilLoadBalancerAvailable,
  waitUntilLoadBalancersDeleted,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { diffFields, sorted } from '../../../core/engine/diff.ts';
import { type Val, isUnknown, known } from '../../../core/engine/model.ts';
import { collect, deleting, retryWhileDependent } from '../calls.ts';
import { clusterTagged } from '../elb-util.ts';
import { type Tags, nameOf } from '../naming.ts';
import type { AwsKind } from '../provider.ts';
import { componentOf, missingTags, tagChange, toList } from '../tags.ts';

export interface LoadBalancerSpec {
  name: string;
  subnetIds: Val[];
  securityGroupIds: Val[];
  tags: Tags;
}

export interface LoadBalancerState {
  arn: string;
  name: string;
  dnsName: string;
  /** The zone an alias record to the load balancer names (Route 53 failover). */
  canonicalHostedZoneId: string;
  subnetIds: string[];
  securityGroupIds: string[];
  tags: Tags;
}

/** An internet-facing Network Load Balancer in the public subnets: the cluster's endpoint. */
export const loadBalancerKind: AwsKind<LoadBalancerSpec, LoadBalancerState> = {
  kind: 'load-balancer',

  async observe({ provider }) {
    const pages = await collect(paginateDescribeLoadBalancers({ client: provider.clients.elb }, {}));
    const all = pages.flatMap((p) => p.LoadBalancers ?? []).filter((lb) => lb.Type === 'network' && lb.State?.Code !== 'failed');
    const tagged = await clusterTagged(provider, all.map((lb) => lb.LoadBalancerArn ?? ''));
    return all
      .filter((lb) => tagged.has(lb.LoadBalancerArn ?? ''))
      .map((lb) => {
        const tags = tagged.get(lb.LoadBalancerArn ?? '') ?? {};
        const state: LoadBalancerState = {
          arn: lb.LoadBalancerArn ?? '',
          name: lb.LoadBalancerName ?? '',
          dnsName: lb.DNSName ?? '',
          canonicalHostedZoneId: lb.CanonicalHostedZoneId ?? '',
          subnetIds: sorted((lb.AvailabilityZones ?? []).map((z) => z.SubnetId ?? '')),
          securityGroupIds: sorted(lb.SecurityGroups ?? []),
          tags,
        };
        return { id: componentOf(tags) ?? state.name, ref: state.name, state };
      });
  },

  diff(state, spec) {
    if (state.name !== spec.name) return { changes: [{ field: 'name', from: state.name, to: spec.name }], replace: 'a load balancer cannot be renamed' };
    const wanted = spec.subnetIds.some(isUnknown) ? spec.subnetIds : sorted(spec.subnetIds as string[]);
    return { changes: [...diffFields(state, { subnetIds: wanted }), ...tagChange(state.tags, spec.tags)] };
  },

  describe(spec) {
    return { name: spec.name, type: 'network, internet-facing', subnets: spec.subnetIds, crossZone: true };
  },

  async create(spec, ctx) {
    const elb = ctx.provider.clients.elb;
    const created = await elb.send(
      new CreateLoadBalancerCommand({
        Name: spec.name,
        Type: 'network',
        Scheme: 'internet-facing',
        IpAddressType: 'ipv4',
        Subnets: spec.subnetIds.map(known),
        SecurityGroups: spec.securityGroupIds.map(known),
        Tags: toList(spec.tags),
      }),
    );
    const lb = created.LoadBalancers?.[0];
    const arn = lb?.LoadBalancerArn ?? '';
    // Any healthy control plane answers, whatever zone the client's address lands in.
    await elb.send(new ModifyLoadBalancerAttributesCommand({ LoadBalancerArn: arn, Attributes: [{ Key: 'load_balancing.cross_zone.enabled', Value: 'true' }] }));
    ctx.report('waiting for the load balancer to become active (a few minutes on AWS)');
    await waitUntilLoadBalancerAvailable({ client: elb, maxWaitTime: 900, minDelay: 10, abortSignal: ctx.signal }, { LoadBalancerArns: [arn] });
    const state: LoadBalancerState = {
      arn,
      name: spec.name,
      dnsName: lb?.DNSName ?? '',
      canonicalHostedZoneId: lb?.CanonicalHostedZoneId ?? '',
      subnetIds: sorted(spec.subnetIds.map(known)),
      securityGroupIds: sorted(spec.securityGroupIds.map(known)),
      tags: spec.tags,
    };
    return { id: ctx.id, ref: spec.name, state };
  },

  async update(found, spec, changes, ctx) {
    const elb = ctx.provider.clients.elb;
    const subnetIds = spec.subnetIds.map(known);
    if (changes.some((c) => c.field === 'subnetIds')) await elb.send(new SetSubnetsCommand({ LoadBalancerArn: found.state.arn, Subnets: subnetIds }));
    const missing = missingTags(found.state.tags, spec.tags);
    if (Object.keys(missing).length > 0) await elb.send(new AddTagsCommand({ ResourceArns: [found.state.arn], Tags: toList(missing) }));
    return { ...found, state: { ...found.state, subnetIds: sorted(subnetIds), tags: { ...found.state.tags, ...spec.tags } } };
  },

  async destroy(found, ctx) {
    const elb = ctx.provider.clients.elb;
    await retryWhileDependent(ctx, found.ref, () => deleting(() => elb.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: found.state.arn }))));
    ctx.report('waiting for the load balancer to be deleted');
    await waitUntilLoadBalancersDeleted({ client: elb, maxWaitTime: 900, minDelay: 10, abortSignal: ctx.signal }, { LoadBalancerArns: [found.state.arn] });
  },

  outputs(found) {
    return { arn: found.state.arn, dnsName: found.state.dnsName, canonicalHostedZoneId: found.state.canonicalHostedZoneId };
  },
};

export function loadBalancerName(cluster: string): string {
  return nameOf(cluster, 'api');
}
