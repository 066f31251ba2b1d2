import { CreateRoleCommand, DeleteRoleCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { awsEnv, runCli, writeConfig } from '../support/cli.ts';
import { EXAMPLE, exampleWith } from '../support/config.ts';
import { type Clients, clients, componentOf as component, counts, inventory } from '../support/inventory.ts';
import { type Moto, changingCalls, startMoto } from '../support/moto.ts';

let moto: Moto;
let aws: Clients;
let env: Record<string, string | undefined>;

beforeAll(async () => {
  moto = await startMoto();
  aws = clients(moto.endpoint);
  env = awsEnv(moto.endpoint);
});
afterAll(async () => moto?.stop());
beforeEach(async () => moto.reset());

const up = (text: string) => runCli(['up', '--site', 'aws', '--layer', 'base', '-c', writeConfig(text)], env);
const planOf = async (text: string) => JSON.parse((await runCli(['plan', '--site', 'aws', '--layer', 'base', '-o', 'json', '-c', writeConfig(text)], env)).stdout).sites[0].changes;
const mutations = async () => changingCalls(await moto.calls()).map((c) => c.operation);

describe('changing the config converges in place', () => {
  it('adds a zone without renumbering the others, and removes it again', async () => {
    expect((await up(EXAMPLE)).code).toBe(0);
    const before = await inventory(aws, 'demo');
    const three = exampleWith(['availabilityZones: 2', 'availabilityZones: 3']);
    expect((await planOf(three)).map((c: { action: string; id: string }) => `${c.action} ${c.id}`).sort()).toEqual(
      ['create subnet-private-c', 'create subnet-public-c', 'create routes-private-c', 'update routes-public'].sort(),
    );
    expect((await up(three)).code).toBe(0);
    const after = await inventory(aws, 'demo');
    const cidrs = (inv: typeof after) => Object.fromEntries(inv.subnets.map((s) => [component(s), `${s.SubnetId} ${s.CidrBlock}`]));
    for (const [id, value] of Object.entries(cidrs(before))) expect(cidrs(after)[id]).toBe(value);
    expect(after.subnets.find((s) => component(s) === 'subnet-private-c')?.CidrBlock).toBe('10.40.32.0/20');
    expect(after.subnets.find((s) => component(s) === 'subnet-public-c')?.CidrBlock).toBe('10.40.130.0/24');

    expect((await up(EXAMPLE)).code).toBe(0);
    expect(counts(await inventory(aws, 'demo'))).toMatchObject({ subnets: 4, rts: 3 });
  });

  it('moves from one NAT gateway to one per zone and back, never leaving a route without a gateway', async () => {
    expect((await up(EXAMPLE)).code).toBe(0);
    const perAz = exampleWith(['natGateways: single', 'natGateways: perAz']);
    expect((await up(perAz)).code).toBe(0);
    let inv = await inventory(aws, 'demo');
    expect(inv.nats).toHaveLength(2);
    const natOf = (letter: string) => inv.nats.find((n) => component(n) === `nat-${letter}`)?.NatGatewayId;
    const routeOf = (letter: string) => inv.rts.find((t) => component(t) === `routes-private-${letter}`)?.Routes?.find((r) => r.DestinationCidrBlock === '0.0.0.0/0');
    expect(routeOf('b')?.NatGatewayId).toBe(natOf('b'));

    await moto.record();
    expect((await up(EXAMPLE)).code).toBe(0);
    inv = await inventory(aws, 'demo');
    expect(inv.nats.map(component)).toEqual(['nat-a']);
    expect(inv.eips).toHaveLength(1);
    expect(routeOf('b')?.NatGatewayId).toBe(natOf('a'));
    // The route moves before the gateway goes.
    const ops = await mutations();
    expect(ops.indexOf('ReplaceRoute')).toBeGreaterThanOrEqual(0);
    expect(ops.indexOf('ReplaceRoute')).toBeLessThan(ops.indexOf('DeleteNatGateway'));
  });

  it('changes only the rules when adminCidrs change', async () => {
    expect((await up(EXAMPLE)).code).toBe(0);
    await moto.record();
    expect((await up(exampleWith(['[203.0.113.10/32]', '[203.0.113.10/32, 198.51.100.0/24]']))).code).toBe(0);
    expect((await mutations()).sort()).toEqual(['AuthorizeSecurityGroupIngress']);
    await moto.record();
    expect((await up(exampleWith(['[203.0.113.10/32]', '[198.51.100.0/24]']))).code).toBe(0);
    expect((await mutations()).sort()).toEqual(['RevokeSecurityGroupIngress']);
  });

  it('retags everything when aws.tags change, and changes nothing else', async () => {
    expect((await up(EXAMPLE)).code).toBe(0);
    await moto.record();
    expect((await up(exampleWith(['team: platform', 'team: data']))).code).toBe(0);
    expect([...new Set(await mutations())].sort()).toEqual(['CreateTags', 'PutBucketTagging', 'TagInstanceProfile', 'TagResource', 'TagRole', 'TagUser'].sort());
  });
});

describe('an AWS failure', () => {
  it('names the resource, the call and a hint, finishes independent work, and converges once fixed', async () => {
    await aws.iam.send(new CreateRoleCommand({ RoleName: 'hybridctl-demo-node', AssumeRolePolicyDocument: '{}' }));
    const failed = await up(EXAMPLE);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('✖ iam-role node-role: iam:CreateRole failed');
    expect(failed.stdout).toContain('hint: something with this name exists but does not carry this cluster');
    expect(failed.stdout).toMatch(/skipped instance-profile node-profile/);
    expect(counts(await inventory(aws, 'demo'))).toMatchObject({ vpcs: 1, subnets: 4, buckets: 2, roles: 0, profiles: 0 });

    await aws.iam.send(new DeleteRoleCommand({ RoleName: 'hybridctl-demo-node' }));
    expect((await up(EXAMPLE)).code).toBe(0);
    expect(counts(await inventory(aws, 'demo'))).toMatchObject({ roles: 1, profiles: 1 });
  });
});

describe('the base layer', () => {
  it('is AWS only: without --site it builds the AWS base and never reaches for an on-prem host', async () => {
    const result = await runCli(['up', '--layer', 'base', '-c', writeConfig(EXAMPLE)], env);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('AWS site');
    expect(result.stdout).not.toMatch(/on-prem site|192\.168\.10\./);
    const onprem = await runCli(['plan', '--layer', 'base', '--site', 'onprem', '-c', writeConfig(EXAMPLE)], env);
    expect(onprem.code).toBe(2);
    expect(onprem.stderr).toContain('--layer base: the base layer is AWS only');
  });
});
