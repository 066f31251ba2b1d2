import {
  AddTagsCommand,
  CreateTargetGroupCommand,
  DeleteTargetGroupCommand,
  DescribeTargetGroupAttributesCommand,
  ModifyTargetGroupAttributesCommand,
  ModifyTargetGroupCommand,
  type TargetGroup,
  paginateDescribeTargetGroups,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { diffFields } from '../../../core/engine/diff.ts';
import { type Val, known } from '../../../core/engine/model.ts';
import { collect, deleting, retryWhileDependent } from '../calls.ts';
import { clusterTagged } from '../elb-util.ts';
import type { Tags } from '../naming.ts';
import type { AwsKind } from '../provider.ts';
import { componentOf, missingTags, tagChange, toList } from '../tags.ts';

/** How the load balancer decides a target may take connections. */
export interface TargetHealthCheck {
  /** TCP: a connection on the traffic port; HTTP: a GET of `path` answered 200-399. */
  protocol: 'TCP' | 'HTTP';
  path?: string;
  intervalSeconds: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
}

export interface TargetGroupSpec {
  name: string;
  port: number;
  vpcId: Val;
  /** `instance` (EC2 instances by id) or `ip` (addresses, also outside the VPC over a VPN). */
  targetType?: 'instance' | 'ip';
  healthCheck?: TargetHealthCheck;
  /** How long a target that leaves the group keeps its open connections. */
  deregistrationDelaySeconds?: number;
  tags: Tags;
}

export interface TargetGroupState {
  arn: string;
  name: string;
  port: number;
  vpcId: string;
  protocol: string;
  targetType: string;
  healthCheck: TargetHealthCheck;
  deregistrationDelaySeconds: number;
  tags: Tags;
}

const TCP_CHECK: TargetHealthCheck = { protocol: 'TCP', intervalSeconds: 10, healthyThreshold: 2, unhealthyThreshold: 2 };
const DEREGISTRATION_DELAY = 'deregistration_delay.timeout_seconds';
/** AWS's own default, which groups made without a delay keep. */
const DEFAULT_DELAY_SECONDS = 300;

/** A TCP target group: control planes for the APIs, or a site's workers for the service. */
export const targetGroupKind: AwsKind<TargetGroupSpec, TargetGroupState> = {
  kind: 'target-group',

  async observe({ provider }) {
    const pages = await collect(paginateDescribeTargetGroups({ client: provider.clients.elb }, {}));
    const all = pages.flatMap((p) => p.TargetGroups ?? []);
    const tagged = await clusterTagged(provider, all.map((g) => g.TargetGroupArn ?? ''));
    return Promise.all(
      all
        .filter((g) => tagged.has(g.TargetGroupArn ?? ''))
        .map(async (g) => {
          const tags = tagged.get(g.TargetGroupArn ?? '') ?? {};
          const attributes = await provider.clients.elb.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: g.TargetGroupArn }));
          const delay = attributes.Attributes?.find((a) => a.Key === DEREGISTRATION_DELAY)?.Value;
          const state: TargetGroupState = {
            arn: g.TargetGroupArn ?? '',
            name: g.TargetGroupName ?? '',
            port: g.Port ?? 0,
            vpcId: g.VpcId ?? '',
            protocol: g.Protocol ?? '',
            targetType: g.TargetType ?? 'instance',
            healthCheck: observedCheck(g),
            deregistrationDelaySeconds: delay === undefined ? DEFAULT_DELAY_SECONDS : Number(delay),
            tags,
          };
          return { id: componentOf(tags) ?? state.name, ref: state.name, state };
        }),
    );
  },

  diff(state, spec) {
    const fixed = diffFields(state, { name: spec.name, port: spec.port, vpcId: spec.vpcId, protocol: 'TCP', targetType: spec.targetType ?? 'instance' });
    if (fixed.length > 0) return { changes: fixed, replace: 'a target group\'s name, port, protocol, target type and VPC cannot change' };
    return {
      changes: [
        ...(spec.healthCheck ? diffFields(state, { healthCheck: spec.healthCheck }) : []),
        ...(spec.deregistrationDelaySeconds === undefined ? [] : diffFields(state, { deregistrationDelaySeconds: spec.deregistrationDelaySeconds })),
        ...tagChange(state.tags, spec.tags),
      ],
    };
  },

  describe(spec) {
    const check = spec.healthCheck ?? TCP_CHECK;
    return {
      name: spec.name,
      protocol: 'TCP',
      port: spec.port,
      targets: spec.targetType ?? 'instance',
      healthCheck: `${check.protocol === 'HTTP' ? `HTTP GET ${check.path}` : 'TCP on the traffic port'} every ${check.intervalSeconds} s (${check.healthyThreshold} up, ${check.unhealthyThreshold} down)`,
      ...(spec.deregistrationDelaySeconds === undefined ? {} : { drainSeconds: spec.deregistrationDelaySeconds }),
    };
  },

  async create(spec, ctx) {
    const check = spec.healthCheck ?? TCP_CHECK;
    const elb = ctx.provider.clients.elb;
    const created = await elb.send(
      new CreateTargetGroupCommand({
        Name: spec.name,
        Protocol: 'TCP',
        Port: spec.port,
        VpcId: known(spec.vpcId),
        TargetType: spec.targetType ?? 'instance',
        HealthCheckPort: 'traffic-port',
        ...checkFields(check),
        Tags: toList(spec.tags),
      }),
    );
    const arn = created.TargetGroups?.[0]?.TargetGroupArn ?? '';
    if (spec.deregistrationDelaySeconds !== undefined) await setDelay(elb, arn, spec.deregistrationDelaySeconds);
    return {
      id: ctx.id,
      ref: spec.name,
      state: {
        arn,
        name: spec.name,
        port: spec.port,
        vpcId: known(spec.vpcId),
        protocol: 'TCP',
        targetType: spec.targetType ?? 'instance',
        healthCheck: check,
        deregistrationDelaySeconds: spec.deregistrationDelaySeconds ?? DEFAULT_DELAY_SECONDS,
        tags: spec.tags,
      },
    };
  },

  async update(found, spec, changes, ctx) {
    const elb = ctx.provider.clients.elb;
    const arn = found.state.arn;
    const state = { ...found.state };
    if (spec.healthCheck && changes.some((c) => c.field === 'healthCheck')) {
      await elb.send(new ModifyTargetGroupCommand({ TargetGroupArn: arn, ...checkFields(spec.healthCheck) }));
      state.healthCheck = spec.healthCheck;
    }
    if (spec.deregistrationDelaySeconds !== undefined && changes.some((c) => c.field === 'deregistrationDelaySeconds')) {
      await setDelay(elb, arn, spec.deregistrationDelaySeconds);
      state.deregistrationDelaySeconds = spec.deregistrationDelaySeconds;
    }
    const missing = missingTags(found.state.tags, spec.tags);
    if (Object.keys(missing).length > 0) await elb.send(new AddTagsCommand({ ResourceArns: [arn], Tags: toList(missing) }));
    return { ...found, state: { ...state, tags: { ...found.state.tags, ...spec.tags } } };
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

function checkFields(check: TargetHealthCheck) {
  return {
    HealthCheckProtocol: check.protocol,
    // AWS's own HTTP timeout (6 s), but always below the interval, which AWS requires.
    ...(check.protocol === 'HTTP' ? { HealthCheckPath: check.path ?? '/', Matcher: { HttpCode: '200-399' }, HealthCheckTimeoutSeconds: Math.max(2, Math.min(6, check.intervalSeconds - 1)) } : {}),
    HealthCheckIntervalSeconds: check.intervalSeconds,
    HealthyThresholdCount: check.healthyThreshold,
    UnhealthyThresholdCount: check.unhealthyThreshold,
  };
}

function observedCheck(group: TargetGroup): TargetHealthCheck {
  const protocol = group.HealthCheckProtocol === 'HTTP' ? 'HTTP' : 'TCP';
  return {
    protocol,
    ...(protocol === 'HTTP' ? { path: group.HealthCheckPath ?? '/' } : {}),
    intervalSeconds: group.HealthCheckIntervalSeconds ?? TCP_CHECK.intervalSeconds,
    healthyThreshold: group.HealthyThresholdCount ?? TCP_CHECK.healthyThreshold,
    unhealthyThreshold: group.UnhealthyThresholdCount ?? TCP_CHECK.unhealthyThreshold,
  };
}

async function setDelay(elb: { send(command: ModifyTargetGroupAttributesCommand): Promise<unknown> }, arn: string, seconds: number): Promise<void> {
  await elb.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: arn, Attributes: [{ Key: DEREGISTRATION_DELAY, Value: String(seconds) }] }));
}
