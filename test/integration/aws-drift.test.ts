import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  DeleteFlowLogsCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  DisableEbsEncryptionByDefaultCommand,
  GetEbsDefaultKmsKeyIdCommand,
  GetEbsEncryptionByDefaultCommand,
  type IpPermission,
  ModifyEbsDefaultKmsKeyIdCommand,
  ModifyInstanceMetadataOptionsCommand,
  RevokeSecurityGroupIngressCommand,
} from '@aws-sdk/client-ec2';
import { DeleteLifecyclePolicyCommand, GetLifecyclePolicyCommand } from '@aws-sdk/client-ecr';
import { GetRoleCommand, UpdateAssumeRolePolicyCommand } from '@aws-sdk/client-iam';
import { CreateKeyCommand, GetKeyPolicyCommand, PutKeyPolicyCommand } from '@aws-sdk/client-kms';
import {
  DeleteBucketEncryptionCommand,
  DeleteBucketPolicyCommand,
  DeletePublicAccessBlockCommand,
  GetBucketEncryptionCommand,
  GetBucketLoggingCommand,
  GetBucketPolicyCommand,
  GetBucketVersioningCommand,
  GetPublicAccessBlockCommand,
  PutBucketEncryptionCommand,
  PutBucketLoggingCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutPublicAccessBlockCommand,
} from '@aws-sdk/client-s3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIDERO, ami, writeAmis } from '../support/amis.ts';
import { awsEnv, runCli, writeConfig } from '../support/cli.ts';
import { EXAMPLE, NO_MONITORING, exampleWith } from '../support/config.ts';
import { type Clients, byComponent, clients, flowLogs, inventory } from '../support/inventory.ts';
import { HARNESS_KEY, type Moto, type RecordedCall, startMoto } from '../support/moto.ts';
import { type NodeProxy, startNodeProxy } from '../support/node-proxy.ts';
import { type TalosFleet, startTalosServer } from '../support/talos.ts';

/**
 * Every setting that guards data, changed behind hybridctl's back with the SDK: `plan` must name
 * the field that drifted, and `up` must put it back (read back from moto). The base layer runs
 * with `--layer base`; the instances' metadata settings on the node test bed of aws-site.test.ts.
 */

const ACCOUNT = '123456789012';
const STATE_BUCKET = `hctl-demo-state-${ACCOUNT}-eu-central-1`;
const TELEMETRY_BUCKET = `hctl-demo-telemetry-${ACCOUNT}-eu-central-1`;

let moto: Moto;
let aws: Clients;

beforeAll(async () => {
  moto = await startMoto({ env: { MOTO_AMIS_PATH: writeAmis([ami('ami-000000000000000a', 'talos-v1.13.9-eu-central-1-amd64', SIDERO, 'amd64')]) } });
  aws = clients(moto.endpoint);
});
afterAll(async () => moto?.stop());

interface PlannedChange {
  action: string;
  kind: string;
  id: string;
  fields: { field: string; from?: unknown; to: unknown }[];
}

/** The calls that change something; the run lock's own object in the state bucket does not count. */
function changing(calls: readonly RecordedCall[]): RecordedCall[] {
  return calls.filter((c) => c.mutating && (c as { key?: string }).key !== 'locks/run.json');
}

/**
 * One setting changed behind hybridctl's back: how (`drift`), what `plan` must show for it (an
 * update of `id` naming `fields`, or a `create` when the thing itself was removed), and how to
 * tell from moto that `up` put it back (`restored`).
 */
interface Drift {
  what: string;
  drift(): Promise<unknown>;
  plan: { update: string; fields: string[]; from?: Record<string, unknown> } | { create: string };
  restored(): Promise<void>;
}

describe('drift in the base layer', () => {
  let env: Record<string, string | undefined>;
  let config: string;
  const up = () => runCli(['up', '--site', 'aws', '--layer', 'base', '-c', config], env);
  const plan = async (): Promise<PlannedChange[]> => {
    const result = await runCli(['plan', '--site', 'aws', '--layer', 'base', '-o', 'json', '-c', config], env);
    expect(result.code, result.stderr).toBe(0);
    return JSON.parse(result.stdout).sites[0].changes;
  };

  /**
   * Applies every drift, then: the plan has exactly the expected changes, each naming exactly its
   * fields (several drifts of one resource add up to one change); `up` puts every one back; a
   * second plan is empty.
   */
  async function driftAndRestore(drifts: Drift[]): Promise<void> {
    for (const d of drifts) await d.drift();
    const changes = await plan();
    const expected = new Map<string, { action: string; fields: Set<string>; from: Record<string, unknown> }>();
    for (const d of drifts) {
      const [action, id] = 'create' in d.plan ? ['create', d.plan.create] : ['update', d.plan.update];
      const entry = expected.get(id) ?? { action, fields: new Set<string>(), from: {} };
      if ('update' in d.plan) for (const f of d.plan.fields) entry.fields.add(f);
      if ('update' in d.plan) Object.assign(entry.from, d.plan.from ?? {});
      expected.set(id, entry);
    }
    expect(changes.map((c) => `${c.action} ${c.id}`).sort()).toEqual([...expected].map(([id, e]) => `${e.action} ${id}`).sort());
    for (const change of changes) {
      const entry = expected.get(change.id);
      if (entry?.action !== 'update') continue;
      expect(change.fields.map((f) => f.field).sort(), `the fields of ${change.id}`).toEqual([...entry.fields].sort());
      for (const [field, from] of Object.entries(entry.from)) expect(change.fields.find((f) => f.field === field)?.from, `${change.id}.${field} was`).toEqual(from);
    }
    const result = await up();
    expect(result.code, result.stdout + result.stderr).toBe(0);
    for (const d of drifts) {
      await d.restored().catch((error: Error) => {
        throw new Error(`${d.what}: not restored by up: ${error.message}`);
      });
    }
    expect(await plan()).toEqual([]);
  }

  beforeAll(async () => {
    await moto.reset();
    env = awsEnv(moto.endpoint);
    config = writeConfig(EXAMPLE);
    const result = await up();
    expect(result.code, result.stdout + result.stderr).toBe(0);
  });

  const BLOCK_ALL = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };
  const denyWithoutTls = expect.objectContaining({ Effect: 'Deny', Principal: '*', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
  const policyOf = async (Bucket: string) => JSON.parse((await aws.s3.send(new GetBucketPolicyCommand({ Bucket }))).Policy ?? '{}');
  const clusterKey = async () => (await inventory(aws, 'demo')).kmsKeys[0]?.meta;
  const groupOf = async (id: string) => byComponent((await inventory(aws, 'demo')).sgs)[id];
  const sources = (permissions: IpPermission[] = []) =>
    permissions
      .flatMap((p) => [
        ...(p.IpRanges ?? []).map((r) => `${p.IpProtocol}:${p.FromPort ?? ''}:${r.CidrIp}`),
        ...(p.Ipv6Ranges ?? []).map((r) => `${p.IpProtocol}:${p.FromPort ?? ''}:${r.CidrIpv6}`),
        ...(p.UserIdGroupPairs ?? []).map((g) => `${p.IpProtocol}:${p.FromPort ?? ''}:${g.GroupId}`),
      ])
      .sort();
  const defaultGroup = async () => {
    const vpcId = (await inventory(aws, 'demo')).vpcs[0]?.VpcId ?? '';
    const result = await aws.ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }, { Name: 'group-name', Values: ['default'] }] }));
    return result.SecurityGroups?.[0];
  };
  const restoredPublicAccessBlock = async () => {
    expect((await aws.s3.send(new GetPublicAccessBlockCommand({ Bucket: STATE_BUCKET }))).PublicAccessBlockConfiguration).toEqual(BLOCK_ALL);
  };
  const restoredPolicy = async () => {
    expect((await policyOf(STATE_BUCKET)).Statement).toEqual([denyWithoutTls]);
  };
  const restoredEncryption = async () => {
    const rule = (await aws.s3.send(new GetBucketEncryptionCommand({ Bucket: STATE_BUCKET }))).ServerSideEncryptionConfiguration?.Rules?.[0];
    expect(rule).toMatchObject({ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: (await clusterKey())?.Arn }, BucketKeyEnabled: true });
  };

  it('sees settings removed, rules added and things deleted out of band, and restores them all', async () => {
    const cp = await groupOf('sg-controlplane');
    const cpBefore = sources(cp?.IpPermissions);
    const nlb = await groupOf('sg-nlb');
    const nlbBefore = sources(nlb?.IpPermissions);
    const key = await clusterKey();
    const keyPolicy = JSON.parse((await aws.kms.send(new GetKeyPolicyCommand({ KeyId: key?.KeyId, PolicyName: 'default' }))).Policy ?? '{}');
    const flowLogId = (await flowLogs(aws, 'demo'))[0]?.FlowLogId ?? '';
    const defaultGroupId = (await defaultGroup())?.GroupId;
    expect([(await defaultGroup())?.IpPermissions, (await defaultGroup())?.IpPermissionsEgress]).toEqual([[], []]);

    await driftAndRestore([
      {
        what: "the state bucket's public-access block, removed",
        drift: () => aws.s3.send(new DeletePublicAccessBlockCommand({ Bucket: STATE_BUCKET })),
        plan: { update: 'bucket-state', fields: ['publicAccessBlock'] },
        restored: restoredPublicAccessBlock,
      },
      {
        what: "the state bucket's policy (deny without TLS), removed",
        drift: () => aws.s3.send(new DeleteBucketPolicyCommand({ Bucket: STATE_BUCKET })),
        plan: { update: 'bucket-state', fields: ['policy'] },
        restored: restoredPolicy,
      },
      {
        what: "the state bucket's default encryption, removed",
        drift: () => aws.s3.send(new DeleteBucketEncryptionCommand({ Bucket: STATE_BUCKET })),
        plan: { update: 'bucket-state', fields: ['encryption'] },
        restored: restoredEncryption,
      },
      {
        what: "the state bucket's versioning, suspended",
        drift: () => aws.s3.send(new PutBucketVersioningCommand({ Bucket: STATE_BUCKET, VersioningConfiguration: { Status: 'Suspended' } })),
        plan: { update: 'bucket-state', fields: ['versioning'], from: { versioning: 'Suspended' } },
        restored: async () => expect((await aws.s3.send(new GetBucketVersioningCommand({ Bucket: STATE_BUCKET }))).Status).toBe('Enabled'),
      },
      {
        what: "the telemetry bucket's policy (the log delivery grants and the deny), removed",
        drift: () => aws.s3.send(new DeleteBucketPolicyCommand({ Bucket: TELEMETRY_BUCKET })),
        plan: { update: 'bucket-telemetry', fields: ['policy'] },
        restored: async () => {
          const statements = (await policyOf(TELEMETRY_BUCKET)).Statement;
          expect(statements).toContainEqual(denyWithoutTls);
          expect(statements.map((s: { Principal: unknown }) => s.Principal)).toEqual(
            expect.arrayContaining([{ Service: 'logging.s3.amazonaws.com' }, { Service: 'delivery.logs.amazonaws.com' }]),
          );
        },
      },
      {
        what: 'EBS encryption by default, turned off',
        drift: () => aws.ec2.send(new DisableEbsEncryptionByDefaultCommand({})),
        plan: { update: 'ebs-encryption', fields: ['enabled'], from: { enabled: false } },
        restored: async () => expect((await aws.ec2.send(new GetEbsEncryptionByDefaultCommand({}))).EbsEncryptionByDefault).toBe(true),
      },
      {
        what: 'an extra IPv4 rule and an extra IPv6 rule on the control planes',
        drift: async () => {
          await aws.ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: cp?.GroupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));
          await aws.ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: cp?.GroupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 6443, ToPort: 6443, Ipv6Ranges: [{ CidrIpv6: '::/0' }] }] }));
        },
        plan: { update: 'sg-controlplane-ingress', fields: ['rules'], from: { rules: expect.arrayContaining([expect.stringContaining('tcp 22 from 0.0.0.0/0'), expect.stringContaining('tcp 6443 from ::/0')]) } },
        restored: async () => expect(sources((await groupOf('sg-controlplane'))?.IpPermissions)).toEqual(cpBefore),
      },
      {
        what: "one of the load balancer's rules, revoked",
        drift: () =>
          aws.ec2.send(
            new RevokeSecurityGroupIngressCommand({ GroupId: nlb?.GroupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 6443, ToPort: 6443, IpRanges: [{ CidrIp: '203.0.113.10/32' }] }] }),
          ),
        plan: { update: 'sg-nlb-ingress', fields: ['rules'], from: { rules: [] } },
        restored: async () => expect(sources((await groupOf('sg-nlb'))?.IpPermissions)).toEqual(nlbBefore),
      },
      {
        what: "rules in and out of the VPC's default group",
        drift: async () => {
          await aws.ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: defaultGroupId, IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));
          await aws.ec2.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: defaultGroupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));
        },
        plan: { update: 'vpc-default-sg', fields: ['ingress', 'egress'] },
        restored: async () => {
          const group = await defaultGroup();
          expect([group?.IpPermissions, group?.IpPermissionsEgress]).toEqual([[], []]);
        },
      },
      {
        what: "the node role's trust policy, without its account condition",
        drift: () =>
          aws.iam.send(
            new UpdateAssumeRolePolicyCommand({
              RoleName: 'hybridctl-demo-node',
              PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] }),
            }),
          ),
        plan: { update: 'node-role', fields: ['trustPolicy'] },
        restored: async () => {
          const role = await aws.iam.send(new GetRoleCommand({ RoleName: 'hybridctl-demo-node' }));
          expect(JSON.parse(decodeURIComponent(role.Role?.AssumeRolePolicyDocument ?? '')).Statement[0].Condition).toEqual({ StringEquals: { 'aws:SourceAccount': ACCOUNT } });
        },
      },
      {
        what: "the key policy's grants to the log delivery services, removed",
        drift: () => aws.kms.send(new PutKeyPolicyCommand({ KeyId: key?.KeyId, PolicyName: 'default', Policy: JSON.stringify({ ...keyPolicy, Statement: keyPolicy.Statement.slice(0, 1) }) })),
        plan: { update: 'kms-key', fields: ['policy'] },
        restored: async () => expect(JSON.parse((await aws.kms.send(new GetKeyPolicyCommand({ KeyId: key?.KeyId, PolicyName: 'default' }))).Policy ?? '{}')).toEqual(keyPolicy),
      },
      {
        what: "the image repository's lifecycle policy, deleted",
        drift: () => aws.ecr.send(new DeleteLifecyclePolicyCommand({ repositoryName: 'hybridctl/demo/readings' })),
        plan: { update: 'image-repository', fields: ['lifecyclePolicy'] },
        restored: async () => {
          const text = (await aws.ecr.send(new GetLifecyclePolicyCommand({ repositoryName: 'hybridctl/demo/readings' }))).lifecyclePolicyText;
          expect(JSON.parse(text ?? '{}').rules[0].selection).toMatchObject({ tagStatus: 'untagged', countType: 'sinceImagePushed' });
        },
      },
      {
        what: "the VPC's flow log, deleted",
        drift: () => aws.ec2.send(new DeleteFlowLogsCommand({ FlowLogIds: [flowLogId] })),
        plan: { create: 'vpc-flow-log' },
        restored: async () => expect((await flowLogs(aws, 'demo')).map((f) => f.LogDestination)).toEqual([`arn:aws:s3:::${TELEMETRY_BUCKET}/vpc-flow-logs/`]),
      },
      {
        what: "the state bucket's access logging, turned off",
        drift: () => aws.s3.send(new PutBucketLoggingCommand({ Bucket: STATE_BUCKET, BucketLoggingStatus: {} })),
        plan: { create: 'bucket-state-access-logs' },
        restored: async () =>
          expect((await aws.s3.send(new GetBucketLoggingCommand({ Bucket: STATE_BUCKET }))).LoggingEnabled).toMatchObject({ TargetBucket: TELEMETRY_BUCKET, TargetPrefix: 's3-access-logs/state/' }),
      },
    ]);
  });

  it('sees settings loosened or replaced out of band, and restores them all', async () => {
    const other = (await aws.kms.send(new CreateKeyCommand({ Description: 'someone else' }))).KeyMetadata?.Arn;
    await driftAndRestore([
      {
        what: "the state bucket's public-access block, loosened",
        drift: () =>
          aws.s3.send(new PutPublicAccessBlockCommand({ Bucket: STATE_BUCKET, PublicAccessBlockConfiguration: { ...BLOCK_ALL, RestrictPublicBuckets: false, BlockPublicPolicy: false } })),
        plan: { update: 'bucket-state', fields: ['publicAccessBlock'] },
        restored: restoredPublicAccessBlock,
      },
      {
        what: "the state bucket's policy, replaced by one without the deny",
        drift: () =>
          aws.s3.send(
            new PutBucketPolicyCommand({
              Bucket: STATE_BUCKET,
              Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'Other', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${STATE_BUCKET}/*` }] }),
            }),
          ),
        plan: { update: 'bucket-state', fields: ['policy'] },
        restored: restoredPolicy,
      },
      {
        what: "the state bucket's default encryption, switched to S3-managed keys",
        drift: () =>
          aws.s3.send(new PutBucketEncryptionCommand({ Bucket: STATE_BUCKET, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] } })),
        plan: { update: 'bucket-state', fields: ['encryption'] },
        restored: restoredEncryption,
      },
      {
        what: 'the EBS default key, pointed at another key',
        drift: () => aws.ec2.send(new ModifyEbsDefaultKmsKeyIdCommand({ KmsKeyId: other })),
        plan: { update: 'ebs-encryption', fields: ['kmsKeyArn'], from: { kmsKeyArn: other } },
        restored: async () => expect((await aws.ec2.send(new GetEbsDefaultKmsKeyIdCommand({}))).KmsKeyId).toBe((await clusterKey())?.Arn),
      },
    ]);
  });

  it('after all that, a second up makes no change', async () => {
    await moto.record();
    const again = await up();
    expect(again.stdout).toContain('nothing to do');
    expect(changing(await moto.calls())).toEqual([]);
  });
});

describe("drift of an instance's metadata settings (IMDSv2 only, hop limit 1)", () => {
  let fleet: TalosFleet;
  let proxy: NodeProxy;
  let stateDir: string;
  let config: string;
  const env = () => awsEnv(moto.endpoint, { grpc_proxy: proxy.url });
  const up = () => runCli(['up', '--site', 'aws', '--state-dir', stateDir, '-c', config], env());
  const instances = async () => {
    const result = await aws.ec2.send(
      new DescribeInstancesCommand({ Filters: [{ Name: 'tag:hybridctl.dev/cluster', Values: ['demo'] }, { Name: 'instance-state-name', Values: ['running'] }] }),
    );
    return byComponent((result.Reservations ?? []).flatMap((r) => r.Instances ?? []));
  };

  beforeAll(async () => {
    await moto.reset();
    fleet = await startTalosServer([]);
    proxy = await startNodeProxy({ aws: clients(moto.endpoint, 'eu-central-1', HARNESS_KEY), fleetStatusUrl: fleet.statusUrl, subnet: '127.0.71' });
    stateDir = mkdtempSync(join(tmpdir(), 'hybridctl-state-'));
    config = writeConfig(
      exampleWith(
        ['controlPlane: { count: 3,', 'controlPlane: { count: 1,'],
        ['workers: { count: 2,', 'workers: { count: 1,'],
        ['version: v1.13.9', 'version: v1.13.9\n  timeouts: { installSeconds: 60, healthSeconds: 60 }'],
        ['enabled: true ', 'enabled: false '],
        ['port: 51820', 'port: 51820\nservice:\n  enabled: false'],
        NO_MONITORING,
      ),
    );
    const result = await up();
    expect(result.code, result.stdout + result.stderr).toBe(0);
  });
  afterAll(async () => {
    await proxy?.stop();
    await fleet?.stop();
  });

  it('launches every instance with IMDSv2 only and a hop limit of 1', async () => {
    const all = Object.values(await instances());
    expect(all).toHaveLength(2);
    for (const instance of all) expect(instance.MetadataOptions).toMatchObject({ HttpTokens: 'required', HttpPutResponseHopLimit: 1, HttpEndpoint: 'enabled' });
  });

  it('sees tokens made optional and a higher hop limit, and fixes them in place', async () => {
    const before = await instances();
    const target = before['controlplane-1']?.InstanceId ?? '';
    await aws.ec2.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: target, HttpTokens: 'optional', HttpPutResponseHopLimit: 3, HttpEndpoint: 'enabled' }));

    const planned = JSON.parse((await runCli(['plan', '--site', 'aws', '--state-dir', stateDir, '-o', 'json', '-c', config], env())).stdout).sites[0].changes as PlannedChange[];
    expect(planned.map((c) => `${c.action} ${c.kind} ${c.id}`)).toEqual(['update ec2-instance controlplane-1']);
    expect(planned[0]?.fields).toEqual([
      { field: 'httpTokens', from: 'optional', to: 'required' },
      { field: 'httpPutResponseHopLimit', from: 3, to: 1 },
    ]);

    await moto.record();
    const result = await up();
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const calls = changing(await moto.calls()).map((c) => c.operation);
    expect(calls).toContain('ModifyInstanceMetadataOptions');
    expect(calls).not.toContain('RunInstances');
    expect(calls).not.toContain('TerminateInstances');

    const after = await instances();
    expect(Object.fromEntries(Object.entries(after).map(([id, i]) => [id, i.InstanceId]))).toEqual(Object.fromEntries(Object.entries(before).map(([id, i]) => [id, i.InstanceId])));
    expect(after['controlplane-1']?.MetadataOptions).toMatchObject({ HttpTokens: 'required', HttpPutResponseHopLimit: 1, HttpEndpoint: 'enabled' });
    expect((await up()).stdout).toContain('nothing to do');
  });
});
