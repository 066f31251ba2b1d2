import {
  type Change,
  ChangeResourceRecordSetsCommand,
  ListResourceRecordSetsCommand,
  type ListResourceRecordSetsCommandInput,
  type ResourceRecordSet,
  type Route53Client,
  waitUntilResourceRecordSetsChanged,
} from '@aws-sdk/client-route-53';
import { diffFields } from '../../../core/engine/diff.ts';
import { type Val, isUnknown, known } from '../../../core/engine/model.ts';
import { ifExists } from '../calls.ts';
import { errorCode } from '../errors.ts';
import type { AwsAct, AwsKind } from '../provider.ts';
import { TAG_HOSTED_ZONE, TAG_RECORD, bareZoneId, dnsName, route53HealthCheckKind } from './route53-health-check.ts';

/** The logical id of the one record pair a cluster has. */
export const DNS_FAILOVER_ID = 'dns-failover';

export type Side = 'aws' | 'onprem';

export interface FailoverRecordsSpec {
  hostedZoneId: string;
  name: string;
  ttl: number;
  primary: Side;
  aws: { dnsName: Val; hostedZoneId: Val; healthCheckId: Val };
  onprem: { address: string; healthCheckId: Val };
}

export interface FailoverRecordsState {
  hostedZoneId: string;
  name: string;
  aws?: { failover: string; dnsName: string; hostedZoneId: string; evaluateTargetHealth: boolean; healthCheckId: string };
  onprem?: { failover: string; addresses: string[]; ttl: number; healthCheckId: string };
  /** The records exactly as Route 53 holds them: a DELETE must repeat every value. */
  records: ResourceRecordSet[];
}

/**
 * The two failover A records of one name: an alias to the load balancer and the on-prem address,
 * each with its health check. Records carry no tags; the SetIdentifier `<cluster>-aws|onprem`
 * says whose they are. Both always change in one batch, so there are never two PRIMARY records.
 */
export const route53FailoverKind: AwsKind<FailoverRecordsSpec, FailoverRecordsState> = {
  kind: 'route53-failover-records',

  /** The names and zones the cluster's health checks guard, read one name at a time. */
  async observe(ctx) {
    const checks = await ctx.observe(route53HealthCheckKind);
    const places = new Map<string, { zone: string; name: string }>();
    for (const { state } of checks) {
      const zone = state.tags[TAG_HOSTED_ZONE];
      const name = state.tags[TAG_RECORD];
      if (zone && name) places.set(`${zone}/${name}`, { zone, name });
    }
    const found = await Promise.all(
      [...places.values()].map(async ({ zone, name }) => {
        const records = (await ifExists(() => listPair(ctx.provider.clients.route53, ctx.provider.cluster, zone, name))) ?? [];
        return records.length > 0 ? [{ id: DNS_FAILOVER_ID, ref: `${zone}/${name}`, state: stateOf(ctx.provider.cluster, zone, name, records) }] : [];
      }),
    );
    return found.flat();
  },

  diff(state, spec) {
    const fixed = diffFields(state, { hostedZoneId: bareZoneId(spec.hostedZoneId), name: dnsName(spec.name) });
    if (fixed.length > 0) return { changes: fixed, replace: 'the records cannot move to another zone or name' };
    return { changes: diffFields(view(state), wanted(spec)) };
  },

  describe(spec) {
    return { name: dnsName(spec.name), hostedZoneId: bareZoneId(spec.hostedZoneId), primary: spec.primary, aws: `alias to ${String(spec.aws.dnsName)}`, onprem: spec.onprem.address, ttl: spec.ttl };
  },

  async create(spec, ctx) {
    return { id: ctx.id, ref: `${bareZoneId(spec.hostedZoneId)}/${dnsName(spec.name)}`, state: await upsert(spec, ctx) };
  },

  async update(found, spec, _changes, ctx) {
    return { ...found, state: await upsert(spec, ctx) };
  },

  async destroy(found, ctx) {
    const { hostedZoneId, records } = found.state;
    try {
      await change(ctx, hostedZoneId, records.map((r) => ({ Action: 'DELETE', ResourceRecordSet: r })));
    } catch (error) {
      if (!isGone(error)) throw error;
      // One of them went since it was read: the batch fails as a whole, so take the rest one by one.
      for (const r of records) {
        await change(ctx, hostedZoneId, [{ Action: 'DELETE', ResourceRecordSet: r }]).catch((e: unknown) => {
          if (!isGone(e)) throw e;
        });
      }
    }
  },

  outputs(found) {
    return { primary: primaryOf(found.state) ?? '' };
  },
};

export function setIdentifier(cluster: string, side: Side): string {
  return `${cluster}-${side}`;
}

async function listPair(route53: Route53Client, cluster: string, zone: string, name: string): Promise<ResourceRecordSet[]> {
  const owned = new Set([setIdentifier(cluster, 'aws'), setIdentifier(cluster, 'onprem')]);
  const out: ResourceRecordSet[] = [];
  let from: Partial<ListResourceRecordSetsCommandInput> = { StartRecordName: name, StartRecordType: 'A' };
  for (;;) {
    const page = await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zone, ...from }));
    const sets = page.ResourceRecordSets ?? [];
    const ours = (r: ResourceRecordSet) => dnsName(r.Name ?? '') === name && r.Type === 'A';
    out.push(...sets.filter((r) => ours(r) && owned.has(r.SetIdentifier ?? '')));
    // Listed in order from the start name: once past it, the rest is other names.
    if (!page.IsTruncated || sets.some((r) => !ours(r))) return out;
    from = { StartRecordName: page.NextRecordName, StartRecordType: page.NextRecordType, StartRecordIdentifier: page.NextRecordIdentifier };
  }
}

function stateOf(cluster: string, hostedZoneId: string, name: string, records: ResourceRecordSet[]): FailoverRecordsState {
  const aws = records.find((r) => r.SetIdentifier === setIdentifier(cluster, 'aws'));
  const onprem = records.find((r) => r.SetIdentifier === setIdentifier(cluster, 'onprem'));
  return {
    hostedZoneId,
    name,
    ...(aws
      ? {
          aws: {
            failover: aws.Failover ?? '',
            dnsName: dnsName(aws.AliasTarget?.DNSName ?? ''),
            hostedZoneId: bareZoneId(aws.AliasTarget?.HostedZoneId ?? ''),
            evaluateTargetHealth: aws.AliasTarget?.EvaluateTargetHealth ?? false,
            healthCheckId: aws.HealthCheckId ?? '',
          },
        }
      : {}),
    ...(onprem
      ? {
          onprem: {
            failover: onprem.Failover ?? '',
            addresses: (onprem.ResourceRecords ?? []).map((r) => r.Value ?? ''),
            ttl: onprem.TTL ?? 0,
            healthCheckId: onprem.HealthCheckId ?? '',
          },
        }
      : {}),
    records,
  };
}

/** 'aws' or 'onprem' when exactly one is PRIMARY and the other SECONDARY; undefined otherwise. */
function primaryOf(state: FailoverRecordsState): Side | undefined {
  const [a, o] = [state.aws?.failover, state.onprem?.failover];
  return a === 'PRIMARY' && o === 'SECONDARY' ? 'aws' : a === 'SECONDARY' && o === 'PRIMARY' ? 'onprem' : undefined;
}

/** The compared fields of both records, flat so that a plan names exactly what differs. */
function view(state: FailoverRecordsState): Record<string, unknown> {
  return {
    primary: primaryOf(state) ?? `aws ${state.aws?.failover ?? 'missing'}, onprem ${state.onprem?.failover ?? 'missing'}`,
    'aws.dnsName': state.aws?.dnsName,
    'aws.hostedZoneId': state.aws?.hostedZoneId,
    'aws.evaluateTargetHealth': state.aws?.evaluateTargetHealth,
    'aws.healthCheckId': state.aws?.healthCheckId,
    'onprem.address': state.onprem?.addresses,
    ttl: state.onprem?.ttl,
    'onprem.healthCheckId': state.onprem?.healthCheckId,
  };
}

function wanted(spec: FailoverRecordsSpec): Record<string, unknown> {
  const { aws, onprem } = spec;
  return {
    primary: spec.primary,
    'aws.dnsName': isUnknown(aws.dnsName) ? aws.dnsName : dnsName(aws.dnsName),
    'aws.hostedZoneId': isUnknown(aws.hostedZoneId) ? aws.hostedZoneId : bareZoneId(aws.hostedZoneId),
    'aws.evaluateTargetHealth': true,
    'aws.healthCheckId': aws.healthCheckId,
    'onprem.address': [onprem.address],
    ttl: spec.ttl,
    'onprem.healthCheckId': onprem.healthCheckId,
  };
}

function recordsOf(spec: FailoverRecordsSpec, cluster: string): ResourceRecordSet[] {
  const name = dnsName(spec.name);
  const failover = (side: Side) => (spec.primary === side ? 'PRIMARY' : 'SECONDARY');
  return [
    {
      Name: name,
      Type: 'A',
      SetIdentifier: setIdentifier(cluster, 'aws'),
      Failover: failover('aws'),
      AliasTarget: { DNSName: known(spec.aws.dnsName), HostedZoneId: bareZoneId(known(spec.aws.hostedZoneId)), EvaluateTargetHealth: true },
      HealthCheckId: known(spec.aws.healthCheckId),
    },
    {
      Name: name,
      Type: 'A',
      SetIdentifier: setIdentifier(cluster, 'onprem'),
      Failover: failover('onprem'),
      TTL: spec.ttl,
      ResourceRecords: [{ Value: spec.onprem.address }],
      HealthCheckId: known(spec.onprem.healthCheckId),
    },
  ];
}

async function upsert(spec: FailoverRecordsSpec, ctx: AwsAct): Promise<FailoverRecordsState> {
  const zone = bareZoneId(spec.hostedZoneId);
  const records = recordsOf(spec, ctx.provider.cluster);
  await change(ctx, zone, records.map((r) => ({ Action: 'UPSERT', ResourceRecordSet: r })));
  return stateOf(ctx.provider.cluster, zone, dnsName(spec.name), records);
}

/** One atomic batch, waited for until Route 53's servers all answer with it. */
async function change(ctx: AwsAct, zone: string, changes: Change[]): Promise<void> {
  const route53 = ctx.provider.clients.route53;
  const result = await route53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: zone, ChangeBatch: { Changes: changes } }));
  const id = result.ChangeInfo?.Id;
  if (!id || result.ChangeInfo?.Status === 'INSYNC') return;
  ctx.report('waiting for Route 53 to apply the change');
  await waitUntilResourceRecordSetsChanged({ client: route53, maxWaitTime: 600, minDelay: 5, abortSignal: ctx.signal }, { Id: id });
}

/** Route 53 names a DELETE of a record that is not there an invalid batch. */
function isGone(error: unknown): boolean {
  return errorCode(error) === 'InvalidChangeBatch' && /not found/i.test((error as Error).message);
}
