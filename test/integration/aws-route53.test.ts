import { CreateSubnetCommand, CreateVpcCommand } from '@aws-sdk/client-ec2';
import { CreateLoadBalancerCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  CreateHostedZoneCommand,
  ListHealthChecksCommand,
  ListResourceRecordSetsCommand,
  ListTagsForResourcesCommand,
  type ResourceRecordSet,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execute } from '../../src/core/engine/execute.ts';
import type { Node } from '../../src/core/engine/model.ts';
import { Observation, type Plan, planDown, planUp } from '../../src/core/engine/plan.ts';
import { AwsClients } from '../../src/providers/aws/clients.ts';
import { loadBalancerKind } from '../../src/providers/aws/kinds/load-balancer.ts';
import { DNS_FAILOVER_ID, type Side, route53FailoverKind } from '../../src/providers/aws/kinds/route53-failover.ts';
import { route53HealthCheckKind } from '../../src/providers/aws/kinds/route53-health-check.ts';
import { tagsFor } from '../../src/providers/aws/naming.ts';
import type { AwsProvider } from '../../src/providers/aws/provider.ts';
import { type Clients, clients, recordedRequests } from '../support/inventory.ts';
import { HARNESS_KEY, type Moto, route53Operation, startMoto } from '../support/moto.ts';

/**
 * The failover record pair and its health checks, driven through the engine (plan + apply) in
 * this process against moto, and read back from moto with the harness's own clients.
 */

// The provider's clients use the standard credential chain: give it moto's fake keys.
process.env.AWS_ACCESS_KEY_ID = 'testing';
process.env.AWS_SECRET_ACCESS_KEY = 'testing';

const CLUSTER = 'demo';
const NAME = 'app.example.com';
const ONPREM_IP = '203.0.113.10';

let moto: Moto;
let aws: Clients;
let route53: Route53Client;
let provider: AwsProvider;
let zoneId: string;
let lb: { dnsName: string; canonicalHostedZoneId: string };

beforeAll(async () => {
  moto = await startMoto();
  aws = clients(moto.endpoint, 'eu-central-1', HARNESS_KEY);
  route53 = new Route53Client({ endpoint: moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: HARNESS_KEY, secretAccessKey: 'testing' } });
  provider = { cluster: CLUSTER, region: 'eu-central-1', account: '123456789012', userTags: {}, clients: new AwsClients({ region: 'eu-central-1', endpoint: moto.endpoint }) };

  const zone = await route53.send(new CreateHostedZoneCommand({ Name: 'example.com', CallerReference: 'route53-test' }));
  zoneId = (zone.HostedZone?.Id ?? '').replace('/hostedzone/', '');
  const vpc = await aws.ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }));
  const subnet = await aws.ec2.send(new CreateSubnetCommand({ VpcId: vpc.Vpc?.VpcId, CidrBlock: '10.0.0.0/24', AvailabilityZone: 'eu-central-1a' }));
  await aws.elb.send(
    new CreateLoadBalancerCommand({ Name: `${CLUSTER}-api`, Type: 'network', Subnets: [subnet.Subnet?.SubnetId ?? ''], Tags: Object.entries(tagsFor(provider, 'nlb')).map(([Key, Value]) => ({ Key, Value })) }),
  );
  // The load balancer as hybridctl observes it: the alias target comes from its outputs.
  const [found] = await loadBalancerKind.observe(new Observation(provider));
  const outputs = loadBalancerKind.outputs(found!);
  lb = { dnsName: outputs.dnsName ?? '', canonicalHostedZoneId: outputs.canonicalHostedZoneId ?? '' };
});
afterAll(async () => moto?.stop());

function stack(options: { primary: Side; path?: string }): Node<AwsProvider>[] {
  const check = (id: string, target: { fqdn: string } | { ipAddress: string }): Node<AwsProvider> => ({
    id,
    kind: route53HealthCheckKind,
    dependsOn: [],
    spec: () => ({ target, port: 80, path: options.path ?? '/readyz', intervalSeconds: 10, failureThreshold: 3, hostedZoneId: zoneId, recordName: NAME, tags: tagsFor(provider, id) }),
  });
  return [
    check('health-aws', { fqdn: lb.dnsName }),
    check('health-onprem', { ipAddress: ONPREM_IP }),
    {
      id: DNS_FAILOVER_ID,
      kind: route53FailoverKind,
      dependsOn: ['health-aws', 'health-onprem'],
      spec: (refs) => ({
        hostedZoneId: zoneId,
        name: NAME,
        ttl: 60,
        primary: options.primary,
        aws: { dnsName: lb.dnsName, hostedZoneId: lb.canonicalHostedZoneId, healthCheckId: refs.get('health-aws', 'id') },
        onprem: { address: ONPREM_IP, healthCheckId: refs.get('health-onprem', 'id') },
      }),
    },
  ];
}

async function apply(plan: Plan<AwsProvider>): Promise<Plan<AwsProvider>> {
  const outcome = await execute(plan, provider);
  expect(outcome.failed.map((f) => String(f.error))).toEqual([]);
  return plan;
}

const converge = async (nodes: Node<AwsProvider>[]) => apply(await planUp(nodes, new Observation(provider)));
const actions = (plan: Plan<AwsProvider>) => Object.fromEntries(plan.changes.map((c) => [c.key, c.action]));

/** Route 53 calls by name (its REST paths say which), from moto's own recording. */
async function route53Calls(): Promise<{ operation: string; body: string }[]> {
  return (await recordedRequests(moto.endpoint))
    .filter((r) => r.service === 'route53')
    .map((r) => ({ operation: route53Operation(r.method, r.path), body: r.body }));
}

const READS = new Set(['ListHealthChecks', 'ListTagsForResources', 'ListResourceRecordSets', 'GetChange']);

async function records(): Promise<Record<string, ResourceRecordSet>> {
  const listed = await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }));
  return Object.fromEntries((listed.ResourceRecordSets ?? []).filter((r) => r.SetIdentifier).map((r) => [r.SetIdentifier, r]));
}

async function healthChecks() {
  const checks = (await route53.send(new ListHealthChecksCommand({}))).HealthChecks ?? [];
  if (checks.length === 0) return [];
  const tagSets = (await route53.send(new ListTagsForResourcesCommand({ ResourceType: 'healthcheck', ResourceIds: checks.map((c) => c.Id ?? '') }))).ResourceTagSets ?? [];
  return checks.map((c) => {
    const tags = Object.fromEntries((tagSets.find((t) => t.ResourceId === c.Id)?.Tags ?? []).map((t) => [t.Key, t.Value]));
    return { id: c.Id ?? '', config: c.HealthCheckConfig, tags, component: tags['hybridctl.dev/component'] };
  });
}

const byComponent = async () => Object.fromEntries((await healthChecks()).map((c) => [c.component, c]));

describe('Route 53 failover records', () => {
  it('creates both health checks, tagged for the cluster, zone and record', async () => {
    expect(lb.canonicalHostedZoneId).toMatch(/^Z[A-Z0-9]+$/);
    const plan = await converge(stack({ primary: 'aws' }));
    expect(actions(plan)).toEqual({ 'health-aws': 'create', 'health-onprem': 'create', [DNS_FAILOVER_ID]: 'create' });

    const checks = await byComponent();
    expect(checks['health-aws']?.config).toMatchObject({ Type: 'HTTP', FullyQualifiedDomainName: lb.dnsName, Port: 80, ResourcePath: '/readyz', RequestInterval: 10, FailureThreshold: 3 });
    expect(checks['health-aws']?.config?.IPAddress).toBeUndefined();
    expect(checks['health-onprem']?.config).toMatchObject({ Type: 'HTTP', IPAddress: ONPREM_IP, Port: 80, ResourcePath: '/readyz', RequestInterval: 10, FailureThreshold: 3 });
    for (const id of ['health-aws', 'health-onprem'])
      expect(checks[id]?.tags).toEqual({
        Name: `${CLUSTER}-${id}`,
        'hybridctl.dev/cluster': CLUSTER,
        'hybridctl.dev/component': id,
        'hybridctl.dev/hosted-zone': zoneId,
        'hybridctl.dev/record': NAME,
      });
  });

  it('holds the pair: an alias to the load balancer as PRIMARY, the on-prem address as SECONDARY', async () => {
    const checks = await byComponent();
    const held = await records();
    expect(Object.keys(held).sort()).toEqual([`${CLUSTER}-aws`, `${CLUSTER}-onprem`]);
    expect(held[`${CLUSTER}-aws`]).toMatchObject({
      Name: `${NAME}.`,
      Type: 'A',
      Failover: 'PRIMARY',
      AliasTarget: { DNSName: expect.stringMatching(new RegExp(`^${lb.dnsName.replaceAll('.', '\\.')}\\.?$`, 'i')), HostedZoneId: lb.canonicalHostedZoneId, EvaluateTargetHealth: true },
      HealthCheckId: checks['health-aws']?.id,
    });
    expect(held[`${CLUSTER}-aws`]?.TTL).toBeUndefined();
    expect(held[`${CLUSTER}-onprem`]).toMatchObject({
      Name: `${NAME}.`,
      Type: 'A',
      Failover: 'SECONDARY',
      TTL: 60,
      ResourceRecords: [{ Value: ONPREM_IP }],
      HealthCheckId: checks['health-onprem']?.id,
    });
    expect(held[`${CLUSTER}-onprem`]?.AliasTarget).toBeUndefined();
  });

  it('changes nothing on a second run', async () => {
    await moto.record();
    const plan = await converge(stack({ primary: 'aws' }));
    expect(new Set(Object.values(actions(plan)))).toEqual(new Set(['noop']));
    const calls = await route53Calls();
    expect(new Set(calls.map((c) => c.operation))).toEqual(new Set(['ListHealthChecks', 'ListTagsForResources', 'ListResourceRecordSets']));
  });

  it('switches the primary with one batch holding both UPSERTs', async () => {
    const before = await byComponent();
    await moto.record();
    const plan = await converge(stack({ primary: 'onprem' }));
    expect(actions(plan)).toEqual({ 'health-aws': 'noop', 'health-onprem': 'noop', [DNS_FAILOVER_ID]: 'update' });
    expect(plan.changes.find((c) => c.key === DNS_FAILOVER_ID)?.changes).toEqual([{ field: 'primary', from: 'aws', to: 'onprem' }]);

    const changing = (await route53Calls()).filter((c) => !READS.has(c.operation));
    expect(changing.map((c) => c.operation)).toEqual(['ChangeResourceRecordSets']);
    const body = changing[0]?.body ?? '';
    expect(body.match(/<Action>UPSERT<\/Action>/g)).toHaveLength(2);
    expect(body).not.toMatch(/<Action>(DELETE|CREATE)<\/Action>/);

    const held = await records();
    expect(held[`${CLUSTER}-onprem`]).toMatchObject({ Failover: 'PRIMARY', TTL: 60, HealthCheckId: before['health-onprem']?.id });
    expect(held[`${CLUSTER}-aws`]).toMatchObject({ Failover: 'SECONDARY', HealthCheckId: before['health-aws']?.id });
  });

  it('updates a health check in place when its path changes', async () => {
    const before = await byComponent();
    await moto.record();
    const plan = await converge(stack({ primary: 'onprem', path: '/healthz' }));
    expect(actions(plan)).toEqual({ 'health-aws': 'update', 'health-onprem': 'update', [DNS_FAILOVER_ID]: 'noop' });
    expect(plan.changes.find((c) => c.key === 'health-aws')?.changes).toEqual([{ field: 'path', from: '/readyz', to: '/healthz' }]);

    const changing = (await route53Calls()).filter((c) => !READS.has(c.operation));
    expect(changing.map((c) => c.operation)).toEqual(['UpdateHealthCheck', 'UpdateHealthCheck']);
    const after = await byComponent();
    for (const id of ['health-aws', 'health-onprem']) {
      expect(after[id]?.id).toBe(before[id]?.id);
      expect(after[id]?.config?.ResourcePath).toBe('/healthz');
    }
    expect((await converge(stack({ primary: 'onprem', path: '/healthz' }))).changes.every((c) => c.action === 'noop')).toBe(true);
  });

  it('deletes the records, then the checks, and leaves nothing', async () => {
    const held = await records();
    await moto.record();
    const plan = await planDown(stack({ primary: 'onprem', path: '/healthz' }), new Observation(provider));
    expect(plan.changes.map((c) => c.kind).sort()).toEqual(['route53-failover-records', 'route53-health-check', 'route53-health-check']);
    await apply(plan);

    const changing = (await route53Calls()).filter((c) => !READS.has(c.operation));
    expect(changing.map((c) => c.operation)).toEqual(['ChangeResourceRecordSets', 'DeleteHealthCheck', 'DeleteHealthCheck']);
    expect(changing[0]?.body.match(/<Action>DELETE<\/Action>/g)).toHaveLength(2);
    // Route 53 deletes a record only when given all its current values.
    expect(changing[0]?.body).toContain(`<TTL>${held[`${CLUSTER}-onprem`]?.TTL}</TTL>`);
    expect(changing[0]?.body).toContain(`<HostedZoneId>${lb.canonicalHostedZoneId}</HostedZoneId>`);

    expect(await records()).toEqual({});
    expect(await healthChecks()).toEqual([]);
    expect((await planUp(stack({ primary: 'aws' }), new Observation(provider))).changes.map((c) => c.action)).toEqual(['create', 'create', 'create']);
  });
});
