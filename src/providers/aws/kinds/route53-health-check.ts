import { randomBytes } from 'node:crypto';
import {
  ChangeTagsForResourceCommand,
  CreateHealthCheckCommand,
  DeleteHealthCheckCommand,
  type HealthCheck,
  ListTagsForResourcesCommand,
  UpdateHealthCheckCommand,
  paginateListHealthChecks,
} from '@aws-sdk/client-route-53';
import { diffFields } from '../../../core/engine/diff.ts';
import { type Val, isUnknown, known } from '../../../core/engine/model.ts';
import { collect, deleting } from '../calls.ts';
import { TAG_CLUSTER, type Tags, nameOf } from '../naming.ts';
import type { AwsKind, AwsProvider } from '../provider.ts';
import { componentOf, missingTags, tagChange, toList, toRecord } from '../tags.ts';

/** Where the record a check guards lives: the failover records kind finds its zones by these. */
export const TAG_HOSTED_ZONE = 'hybridctl.dev/hosted-zone';
export const TAG_RECORD = 'hybridctl.dev/record';

export type HealthCheckTarget = { fqdn: Val } | { ipAddress: string };

export interface Route53HealthCheckSpec {
  target: HealthCheckTarget;
  port: number;
  path: string;
  intervalSeconds: 10 | 30;
  failureThreshold: number;
  hostedZoneId: string;
  recordName: string;
  tags: Tags;
}

export interface Route53HealthCheckState {
  healthCheckId: string;
  /** Route 53 refuses an update made against an older version: no silent overwrite of someone else's change. */
  version: number;
  type: string;
  fqdn?: string;
  ipAddress?: string;
  port: number;
  path: string;
  intervalSeconds: number;
  failureThreshold: number;
  tags: Tags;
}

/** An HTTP health check of one side of a failover record pair. */
export const route53HealthCheckKind: AwsKind<Route53HealthCheckSpec, Route53HealthCheckState> = {
  kind: 'route53-health-check',

  async observe({ provider }) {
    const route53 = provider.clients.route53;
    const pages = await collect(paginateListHealthChecks({ client: route53 }, {}));
    const all = pages.flatMap((p) => p.HealthChecks ?? []);
    const tagged = new Map<string, Tags>();
    for (let i = 0; i < all.length; i += 10) {
      const ids = all.slice(i, i + 10).map((c) => c.Id ?? '');
      const result = await route53.send(new ListTagsForResourcesCommand({ ResourceType: 'healthcheck', ResourceIds: ids }));
      for (const set of result.ResourceTagSets ?? []) {
        const tags = toRecord(set.Tags);
        if (set.ResourceId && tags[TAG_CLUSTER] === provider.cluster) tagged.set(set.ResourceId, tags);
      }
    }
    return all
      .filter((c) => tagged.has(c.Id ?? ''))
      .map((c) => {
        const state = stateOf(c, tagged.get(c.Id ?? '') ?? {});
        return { id: componentOf(state.tags) ?? state.healthCheckId, ref: state.healthCheckId, state };
      });
  },

  diff(state, spec) {
    const [targetField, targetValue] = targetOf(spec.target);
    const fixed = diffFields(state, { type: 'HTTP', intervalSeconds: spec.intervalSeconds });
    if (state[targetField] === undefined) fixed.push({ field: targetField, from: undefined, to: targetValue });
    if (fixed.length > 0) return { changes: fixed, replace: 'a health check\'s type, interval and kind of target (name or address) cannot change' };
    const changes = diffFields(state, { [targetField]: targetValue, port: spec.port, path: spec.path, failureThreshold: spec.failureThreshold });
    return { changes: [...changes, ...tagChange(state.tags, tagsOf(spec))] };
  },

  describe(spec) {
    const [, host] = targetOf(spec.target);
    return { checks: `HTTP http://${String(host)}:${spec.port}${spec.path} every ${spec.intervalSeconds} s, ${spec.failureThreshold} failures`, record: spec.recordName };
  },

  async create(spec, ctx) {
    const route53 = ctx.provider.clients.route53;
    const [targetField, targetValue] = targetOf(spec.target);
    const created = await route53.send(
      new CreateHealthCheckCommand({
        CallerReference: callerReference(ctx.provider, ctx.id),
        HealthCheckConfig: {
          Type: 'HTTP',
          ...(targetField === 'fqdn' ? { FullyQualifiedDomainName: known(targetValue) } : { IPAddress: known(targetValue) }),
          Port: spec.port,
          ResourcePath: spec.path,
          RequestInterval: spec.intervalSeconds,
          FailureThreshold: spec.failureThreshold,
        },
      }),
    );
    const healthCheckId = created.HealthCheck?.Id ?? '';
    const tags = tagsOf(spec);
    try {
      await route53.send(new ChangeTagsForResourceCommand({ ResourceType: 'healthcheck', ResourceId: healthCheckId, AddTags: toList(tags) }));
    } catch (error) {
      // Untagged, no later run would find it: it would stay behind for good.
      await deleting(() => route53.send(new DeleteHealthCheckCommand({ HealthCheckId: healthCheckId })));
      throw error;
    }
    return { id: ctx.id, ref: healthCheckId, state: stateOf(created.HealthCheck ?? {}, tags) };
  },

  async update(found, spec, changes, ctx) {
    const route53 = ctx.provider.clients.route53;
    let state = found.state;
    if (changes.some((c) => c.field !== 'tags')) {
      const [targetField, targetValue] = targetOf(spec.target);
      const updated = await route53.send(
        new UpdateHealthCheckCommand({
          HealthCheckId: state.healthCheckId,
          HealthCheckVersion: state.version,
          ...(targetField === 'fqdn' ? { FullyQualifiedDomainName: known(targetValue) } : { IPAddress: known(targetValue) }),
          Port: spec.port,
          ResourcePath: spec.path,
          FailureThreshold: spec.failureThreshold,
        }),
      );
      state = updated.HealthCheck ? stateOf(updated.HealthCheck, state.tags) : state;
    }
    const missing = missingTags(state.tags, tagsOf(spec));
    if (Object.keys(missing).length > 0)
      await route53.send(new ChangeTagsForResourceCommand({ ResourceType: 'healthcheck', ResourceId: state.healthCheckId, AddTags: toList(missing) }));
    return { ...found, state: { ...state, tags: { ...state.tags, ...missing } } };
  },

  async destroy(found, ctx) {
    await deleting(() => ctx.provider.clients.route53.send(new DeleteHealthCheckCommand({ HealthCheckId: found.state.healthCheckId })));
  },

  outputs(found) {
    return { id: found.state.healthCheckId };
  },
};

/** Zone ids as Route 53 tags and compares them: without the `/hostedzone/` prefix some calls return. */
export function bareZoneId(id: string): string {
  return id.replace(/^\/?hostedzone\//, '');
}

/** A DNS name as written in a config: lower case, no trailing dot, Route 53's `\052`-style escapes decoded. */
export function dnsName(name: string): string {
  return name
    .replace(/\\(\d{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)))
    .replace(/\.$/, '')
    .toLowerCase();
}

function tagsOf(spec: Route53HealthCheckSpec): Tags {
  return { ...spec.tags, [TAG_HOSTED_ZONE]: bareZoneId(spec.hostedZoneId), [TAG_RECORD]: dnsName(spec.recordName) };
}

function targetOf(target: HealthCheckTarget): ['fqdn', Val] | ['ipAddress', string] {
  if (!('fqdn' in target)) return ['ipAddress', target.ipAddress];
  return ['fqdn', isUnknown(target.fqdn) ? target.fqdn : dnsName(target.fqdn)];
}

/** Unique per request (Route 53 keeps them for good) and at most 64 characters. */
function callerReference(provider: Pick<AwsProvider, 'cluster'>, id: string): string {
  return `${nameOf(provider.cluster, id).slice(0, 48)}-${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

function stateOf(check: Partial<HealthCheck>, tags: Tags): Route53HealthCheckState {
  const config = check.HealthCheckConfig;
  return {
    healthCheckId: check.Id ?? '',
    version: check.HealthCheckVersion ?? 1,
    type: config?.Type ?? '',
    ...(config?.FullyQualifiedDomainName ? { fqdn: dnsName(config.FullyQualifiedDomainName) } : {}),
    ...(config?.IPAddress ? { ipAddress: config.IPAddress } : {}),
    port: config?.Port ?? 0,
    path: config?.ResourcePath ?? '',
    intervalSeconds: config?.RequestInterval ?? 0,
    failureThreshold: config?.FailureThreshold ?? 0,
    tags,
  };
}
