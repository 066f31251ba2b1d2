import {
  AttachInternetGatewayCommand,
  CreateInternetGatewayCommand,
  CreateVpcCommand,
  DescribeInternetGatewaysCommand,
  DetachInternetGatewayCommand,
} from '@aws-sdk/client-ec2';
import { CreateKeyCommand, DeleteAliasCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetBucketEncryptionCommand } from '@aws-sdk/client-s3';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { awsEnv, killedAt, runCli, writeConfig } from '../support/cli.ts';
import { EXAMPLE } from '../support/config.ts';
import { type Clients, NOTHING, clients, counts, inventory } from '../support/inventory.ts';
import { type Moto, changingCalls, startMoto } from '../support/moto.ts';

const EXPECTED = { vpcs: 1, subnets: 4, igws: 1, nats: 1, eips: 1, rts: 3, sgs: 3, roles: 1, profiles: 1, users: 1, aliases: 1, buckets: 2, kmsKeys: 1, repositories: 1, instances: 0, loadBalancers: 0, targetGroups: 0 };
const TAGS = (component: string) => [
  { Key: 'hybridctl.dev/cluster', Value: 'demo' },
  { Key: 'hybridctl.dev/component', Value: component },
];

let moto: Moto;
let aws: Clients;
let env: Record<string, string | undefined>;
let config: string;

beforeAll(async () => {
  // A little latency per request, so that a kill lands in the middle of the work.
  moto = await startMoto({ env: { HYBRIDCTL_TEST_LATENCY_MS: '15' } });
  aws = clients(moto.endpoint);
  env = awsEnv(moto.endpoint);
  config = writeConfig(EXAMPLE);
});
afterAll(async () => moto?.stop());
beforeEach(async () => moto.reset());

async function expectConverged(): Promise<void> {
  const rerun = await runCli(['up', '--site', 'aws', '--layer', 'base', '-c', config], env);
  expect(rerun.code, rerun.stdout + rerun.stderr).toBe(0);
  expect(counts(await inventory(aws, 'demo'))).toEqual(EXPECTED);
  await moto.record();
  const again = await runCli(['up', '--site', 'aws', '--layer', 'base', '-c', config], env);
  expect(again.stdout).toContain('nothing to do');
  expect(changingCalls(await moto.calls())).toEqual([]);
  // The killed run's lock (a file here before the bucket existed, else the bucket's object) is gone too.
  expect(existsSync(join(dirname(config), '.hybridctl', 'demo', '.lock'))).toBe(false);
  expect((await runCli(['unlock', '-c', config], env)).stdout).toContain('is not locked');
}

describe('up killed with SIGKILL, then run again', () => {
  const killPoints: [string, RegExp][] = [
    ['while the VPC is being created', /… create vpc vpc/],
    ['right after the VPC exists', /✔ created vpc vpc/],
    ['while subnets are being created', /… create subnet subnet-private-b/],
    ['while the NAT gateway is being created', /… create nat-gateway nat-a/],
    ['after the KMS key, around its alias', /✔ created kms-key/],
    ['while a bucket is being configured', /… create s3-bucket bucket-telemetry/],
    ['while security group rules are being added', /… create security-group-rules/],
    ['while private routes are being created', /… create route-table routes-private/],
  ];
  for (const [when, line] of killPoints) {
    it(`converges with no duplicate and no orphan when killed ${when}`, async () => {
      const seen = await killedAt(line, ['up', '--site', 'aws', '--layer', 'base', '-c', config], env);
      expect(seen).toMatch(line);
      expect(seen).not.toMatch(/created, .* updated/); // it really was cut short
      await expectConverged();
    });
  }
});

describe('down killed with SIGKILL, then run again', () => {
  it('leaves nothing behind', async () => {
    expect((await runCli(['up', '--site', 'aws', '--layer', 'base', '-c', config], env)).code).toBe(0);
    const seen = await killedAt(/✔ deleted (security-group|route-table)/, ['down', '--yes', '--site', 'aws', '-c', config], env);
    expect(seen).not.toContain('nothing of cluster demo is left');
    const rerun = await runCli(['down', '--yes', '--site', 'aws', '-c', config], env);
    expect(rerun.code, rerun.stdout + rerun.stderr).toBe(0);
    expect(counts(await inventory(aws, 'demo'))).toEqual(NOTHING);
  });
});

describe('up finishes what an interrupted run left half-done', () => {
  it('adopts a tagged KMS key whose alias was never created', async () => {
    const orphan = await aws.kms.send(new CreateKeyCommand({ Tags: TAGS('kms-key').map((t) => ({ TagKey: t.Key, TagValue: t.Value })) }));
    await expectConverged();
    const inv = await inventory(aws, 'demo');
    expect(inv.kmsKeys.map((k) => k.meta?.KeyId)).toEqual([orphan.KeyMetadata?.KeyId]);
  });

  it('retires a second tagged KMS key beside the aliased one', async () => {
    expect((await runCli(['up', '--site', 'aws', '--layer', 'base', '-c', config], env)).code).toBe(0);
    await aws.kms.send(new CreateKeyCommand({ Tags: TAGS('kms-key').map((t) => ({ TagKey: t.Key, TagValue: t.Value })) }));
    expect((await inventory(aws, 'demo')).kmsKeys).toHaveLength(2);
    const plan = await runCli(['plan', '--site', 'aws', '--layer', 'base', '-c', config, '-o', 'json'], env);
    expect(JSON.parse(plan.stdout).sites[0].changes).toEqual([expect.objectContaining({ action: 'delete', kind: 'kms-key', reason: expect.stringContaining('duplicate') })]);
    await expectConverged();
  });

  it('configures a bucket that was created but never tagged or encrypted', async () => {
    const Bucket = 'hctl-demo-telemetry-123456789012-eu-central-1';
    await aws.s3.send(new CreateBucketCommand({ Bucket, CreateBucketConfiguration: { LocationConstraint: 'eu-central-1' } }));
    await expectConverged();
    const encryption = await aws.s3.send(new GetBucketEncryptionCommand({ Bucket }));
    expect(encryption.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm).toBe('aws:kms');
  });

  it('attaches an internet gateway that was created but not attached, and re-creates a deleted alias', async () => {
    expect((await runCli(['up', '--site', 'aws', '--layer', 'base', '-c', config], env)).code).toBe(0);
    const inv = await inventory(aws, 'demo');
    const igw = inv.igws[0];
    await aws.ec2.send(new DetachInternetGatewayCommand({ InternetGatewayId: igw?.InternetGatewayId, VpcId: inv.vpcs[0]?.VpcId }));
    await aws.kms.send(new DeleteAliasCommand({ AliasName: 'alias/hybridctl-demo' }));
    await expectConverged();
    const after = await inventory(aws, 'demo');
    expect(after.igws[0]?.Attachments?.[0]?.VpcId).toBe(inv.vpcs[0]?.VpcId);
    expect(after.aliases[0]?.TargetKeyId).toBe(inv.kmsKeys[0]?.meta?.KeyId);
  });

  it('leaves an internet gateway of another VPC alone', async () => {
    const foreignVpc = await aws.ec2.send(new CreateVpcCommand({ CidrBlock: '10.77.0.0/16' }));
    const foreignIgw = await aws.ec2.send(new CreateInternetGatewayCommand({}));
    await aws.ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: foreignIgw.InternetGateway?.InternetGatewayId, VpcId: foreignVpc.Vpc?.VpcId }));
    await expectConverged();
    expect((await runCli(['down', '--yes', '--site', 'aws', '-c', config], env)).code).toBe(0);
    const still = await aws.ec2.send(new DescribeInternetGatewaysCommand({ InternetGatewayIds: [foreignIgw.InternetGateway?.InternetGatewayId ?? ''] }));
    expect(still.InternetGateways?.[0]?.Attachments?.[0]?.VpcId).toBe(foreignVpc.Vpc?.VpcId);
  });
});
