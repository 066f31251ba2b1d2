import {
  CreateVpcCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcAttributeCommand,
  DescribeVpcsCommand,
  GetEbsDefaultKmsKeyIdCommand,
  GetEbsEncryptionByDefaultCommand,
  type IpPermission,
} from '@aws-sdk/client-ec2';
import { GetLifecyclePolicyCommand } from '@aws-sdk/client-ecr';
import {
  CreateRoleCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  GetUserPolicyCommand,
  ListAccessKeysCommand,
  ListAttachedRolePoliciesCommand,
  ListAttachedUserPoliciesCommand,
  ListRolePoliciesCommand,
  ListUsersCommand,
} from '@aws-sdk/client-iam';
import { CreateKeyCommand, DescribeKeyCommand, GetKeyPolicyCommand, GetKeyRotationStatusCommand } from '@aws-sdk/client-kms';
import {
  CreateBucketCommand,
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketLoggingCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  GetPublicAccessBlockCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AwsClients } from '../../src/providers/aws/clients.ts';
import { ecrLogin } from '../../src/providers/aws/ecr-auth.ts';
import { awsEnv, runCli, writeConfig } from '../support/cli.ts';
import { EXAMPLE } from '../support/config.ts';
import { type Clients, NOTHING, byComponent, clients, componentOf, counts, flowLogs, inventory, recordedRequests } from '../support/inventory.ts';
import { type Moto, type RecordedCall, startMoto } from '../support/moto.ts';

const ACCOUNT = '123456789012';
const EXPECTED_COUNTS = { vpcs: 1, subnets: 4, igws: 1, nats: 1, eips: 1, rts: 3, sgs: 3, roles: 1, profiles: 1, users: 1, aliases: 1, buckets: 2, kmsKeys: 1, repositories: 1, instances: 0, loadBalancers: 0, targetGroups: 0 };

// ecrLogin runs in this process with the standard credential chain: give it moto's fake keys.
process.env.AWS_ACCESS_KEY_ID = 'testing';
process.env.AWS_SECRET_ACCESS_KEY = 'testing';

let moto: Moto;
let aws: Clients;
let env: Record<string, string | undefined>;
let config: string;

beforeAll(async () => {
  moto = await startMoto();
  aws = clients(moto.endpoint);
  env = awsEnv(moto.endpoint);
  config = writeConfig(EXAMPLE);
});
afterAll(async () => moto?.stop());
beforeEach(async () => moto.reset());

const up = () => runCli(['up', '--site', 'aws', '--layer', 'base', '-c', config], env);

/** The calls that change something; the run lock's own object in the state bucket does not count. */
function changing(calls: readonly RecordedCall[]): RecordedCall[] {
  return calls.filter((c) => c.mutating && (c as { key?: string }).key !== 'locks/run.json');
}

function ingressOf(permissions: IpPermission[]) {
  return permissions.flatMap((p) => [
    ...(p.IpRanges ?? []).map((r) => `${p.IpProtocol}:${p.FromPort ?? ''}-${p.ToPort ?? ''}:${r.CidrIp}`),
    ...(p.UserIdGroupPairs ?? []).map((g) => `${p.IpProtocol}:${p.FromPort ?? ''}-${p.ToPort ?? ''}:${g.GroupId}`),
  ]);
}

describe('up from an empty account', () => {
  it('creates exactly the base layer, with the settings that matter', async () => {
    await moto.record();
    const result = await up();
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const inv = await inventory(aws, 'demo');
    expect(counts(inv)).toEqual(EXPECTED_COUNTS);

    // Network
    const vpc = inv.vpcs[0];
    expect(vpc?.CidrBlock).toBe('10.40.0.0/16');
    for (const Attribute of ['enableDnsSupport', 'enableDnsHostnames'] as const) {
      const attr = await aws.ec2.send(new DescribeVpcAttributeCommand({ VpcId: vpc?.VpcId, Attribute }));
      expect(attr.EnableDnsSupport?.Value ?? attr.EnableDnsHostnames?.Value).toBe(true);
    }
    const subnets = byComponent(inv.subnets);
    expect(Object.fromEntries(Object.entries(subnets).map(([id, s]) => [id, `${s.AvailabilityZone} ${s.CidrBlock}`]))).toEqual({
      'subnet-private-a': 'eu-central-1a 10.40.0.0/20',
      'subnet-private-b': 'eu-central-1b 10.40.16.0/20',
      'subnet-public-a': 'eu-central-1a 10.40.128.0/24',
      'subnet-public-b': 'eu-central-1b 10.40.129.0/24',
    });
    expect(inv.subnets.every((s) => !s.MapPublicIpOnLaunch)).toBe(true);
    const igw = inv.igws[0];
    expect(igw?.Attachments?.[0]?.VpcId).toBe(vpc?.VpcId);
    const nat = inv.nats[0];
    expect(nat?.SubnetId).toBe(subnets['subnet-public-a']?.SubnetId);
    expect(nat?.NatGatewayAddresses?.[0]?.AllocationId).toBe(inv.eips[0]?.AllocationId);
    const tables = byComponent(inv.rts);
    const defaultRoute = (id: string) => tables[id]?.Routes?.find((r) => r.DestinationCidrBlock === '0.0.0.0/0');
    const associated = (id: string) => (tables[id]?.Associations ?? []).map((a) => a.SubnetId).sort();
    expect(defaultRoute('routes-public')?.GatewayId).toBe(igw?.InternetGatewayId);
    expect(associated('routes-public')).toEqual([subnets['subnet-public-a']?.SubnetId, subnets['subnet-public-b']?.SubnetId].sort());
    for (const letter of ['a', 'b']) {
      expect(defaultRoute(`routes-private-${letter}`)?.NatGatewayId).toBe(nat?.NatGatewayId);
      expect(associated(`routes-private-${letter}`)).toEqual([subnets[`subnet-private-${letter}`]?.SubnetId]);
    }

    // Every EC2 resource is tagged: cluster, component, Name and the user's tags.
    for (const resource of [...inv.vpcs, ...inv.subnets, ...inv.igws, ...inv.nats, ...inv.eips, ...inv.rts, ...inv.sgs]) {
      const tags = Object.fromEntries((resource.Tags ?? []).map((t) => [t.Key, t.Value]));
      expect(tags).toMatchObject({ 'hybridctl.dev/cluster': 'demo', team: 'platform' });
      expect(tags.Name).toBe(`demo-${tags['hybridctl.dev/component']}`);
    }

    // Security groups: members trust each other; the APIs on the control planes only from the load
    // balancer's group (not from the public subnets, where the VPN gateway lives), the load balancer
    // from admins on the API ports and from everyone on the service's public port only; the
    // NodePort from on-prem (over the VPN) and from the load balancer, nothing else.
    const groups = byComponent(inv.sgs);
    const cp = groups['sg-controlplane'];
    const workers = groups['sg-workers'];
    const nlb = groups['sg-nlb'];
    const members = [`-1:-:${cp?.GroupId}`, `-1:-:${workers?.GroupId}`];
    const nodePort = 'tcp:30080-30080:192.168.10.0/24';
    expect(ingressOf(cp?.IpPermissions ?? []).sort()).toEqual([...members, `tcp:50000-50000:${nlb?.GroupId}`, `tcp:6443-6443:${nlb?.GroupId}`].sort());
    expect((cp?.IpPermissions ?? []).flatMap((p) => p.IpRanges ?? [])).toEqual([]);
    expect(ingressOf(nlb?.IpPermissions ?? []).sort()).toEqual(['tcp:50000-50000:203.0.113.10/32', 'tcp:6443-6443:203.0.113.10/32', 'tcp:80-80:0.0.0.0/0']);
    expect(ingressOf(workers?.IpPermissions ?? []).sort()).toEqual([...members, nodePort, `tcp:30080-30080:${nlb?.GroupId}`].sort());
    const open = inv.sgs.flatMap((g) => (g.IpPermissions ?? []).filter((p) => p.IpRanges?.some((r) => r.CidrIp === '0.0.0.0/0')).map((p) => `${componentOf(g)}:${p.FromPort}`));
    expect(open).toEqual(['sg-nlb:80']);
    for (const publicCidr of ['10.40.128.0/24', '10.40.129.0/24']) expect(JSON.stringify(inv.sgs.map((g) => g.IpPermissions))).not.toContain(publicCidr);
    // The VPC's default group admits and sends nothing (Security Hub EC2.2).
    const defaultGroup = (
      await aws.ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpc?.VpcId ?? ''] }, { Name: 'group-name', Values: ['default'] }] }))
    ).SecurityGroups?.[0];
    expect([defaultGroup?.IpPermissions, defaultGroup?.IpPermissionsEgress]).toEqual([[], []]);

    // IAM: EC2 may assume the node role for instances of this account only; it grants only what the
    // AWS shipper needs: its own site's partitions of the telemetry bucket, through the cluster key.
    const role = await aws.iam.send(new GetRoleCommand({ RoleName: 'hybridctl-demo-node' }));
    const trust = JSON.parse(decodeURIComponent(role.Role?.AssumeRolePolicyDocument ?? ''));
    expect(trust.Statement).toEqual([
      { Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } } },
    ]);
    const lake = `hctl-demo-telemetry-${ACCOUNT}-eu-central-1`;
    const shipperGrants = (site: string) => [
      { Sid: 'ShipTelemetry', Effect: 'Allow', Action: 's3:PutObject', Resource: ['metrics', 'logs', 'states'].map((s) => `arn:aws:s3:::${lake}/signal=${s}/site=${site}/*`) },
      { Sid: 'KeepWatermark', Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: `arn:aws:s3:::${lake}/_shipper/site=${site}/*` },
      { Sid: 'EncryptThroughS3', Effect: 'Allow', Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: inv.kmsKeys[0]?.meta?.Arn, Condition: { StringEquals: { 'kms:ViaService': 's3.eu-central-1.amazonaws.com' } } },
    ];
    expect((await aws.iam.send(new ListRolePoliciesCommand({ RoleName: 'hybridctl-demo-node' }))).PolicyNames).toEqual(['telemetry-shipper']);
    const rolePolicy = await aws.iam.send(new GetRolePolicyCommand({ RoleName: 'hybridctl-demo-node', PolicyName: 'telemetry-shipper' }));
    expect(JSON.parse(decodeURIComponent(rolePolicy.PolicyDocument ?? '')).Statement).toEqual(shipperGrants('aws'));
    expect((await aws.iam.send(new ListAttachedRolePoliciesCommand({ RoleName: 'hybridctl-demo-node' }))).AttachedPolicies).toEqual([]);
    // The on-prem shipper's user: the same grants on the on-prem partitions, nothing else, no key yet (the on-prem site makes it).
    const users = (await aws.iam.send(new ListUsersCommand({ PathPrefix: '/hybridctl/demo/' }))).Users ?? [];
    expect(users.map((u) => u.UserName)).toEqual(['hybridctl-demo-shipper-onprem']);
    const userPolicy = await aws.iam.send(new GetUserPolicyCommand({ UserName: 'hybridctl-demo-shipper-onprem', PolicyName: 'telemetry-shipper' }));
    expect(JSON.parse(decodeURIComponent(userPolicy.PolicyDocument ?? '')).Statement).toEqual(shipperGrants('onprem'));
    expect((await aws.iam.send(new ListAttachedUserPoliciesCommand({ UserName: 'hybridctl-demo-shipper-onprem' }))).AttachedPolicies).toEqual([]);
    expect((await aws.iam.send(new ListAccessKeysCommand({ UserName: 'hybridctl-demo-shipper-onprem' }))).AccessKeyMetadata).toEqual([]);
    expect(inv.profiles[0]?.Roles?.map((r) => r.RoleName)).toEqual(['hybridctl-demo-node']);

    // KMS: rotation on, alias on the key.
    const key = inv.kmsKeys[0]?.meta;
    expect((await aws.kms.send(new GetKeyRotationStatusCommand({ KeyId: key?.KeyId }))).KeyRotationEnabled).toBe(true);
    expect(inv.aliases[0]?.TargetKeyId).toBe(key?.KeyId);
    // The account administers the key; the log delivery services may encrypt with it, for this account only.
    const keyPolicy = JSON.parse((await aws.kms.send(new GetKeyPolicyCommand({ KeyId: key?.KeyId, PolicyName: 'default' }))).Policy ?? '{}');
    expect(keyPolicy.Statement).toContainEqual(expect.objectContaining({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*' }));
    for (const service of ['delivery.logs.amazonaws.com', 'logging.s3.amazonaws.com']) {
      expect(keyPolicy.Statement).toContainEqual(
        expect.objectContaining({ Effect: 'Allow', Principal: { Service: service }, Condition: expect.objectContaining({ StringEquals: { 'aws:SourceAccount': ACCOUNT } }) }),
      );
    }

    // S3: encrypted with the key, versioned, private, TLS only; telemetry ages out.
    for (const purpose of ['state', 'telemetry']) {
      const Bucket = `hctl-demo-${purpose}-${ACCOUNT}-eu-central-1`;
      const encryption = await aws.s3.send(new GetBucketEncryptionCommand({ Bucket }));
      const rule = encryption.ServerSideEncryptionConfiguration?.Rules?.[0];
      expect(rule?.ApplyServerSideEncryptionByDefault).toEqual({ SSEAlgorithm: 'aws:kms', KMSMasterKeyID: key?.Arn });
      expect((await aws.s3.send(new GetBucketVersioningCommand({ Bucket }))).Status).toBe('Enabled');
      expect((await aws.s3.send(new GetPublicAccessBlockCommand({ Bucket }))).PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        IgnorePublicAcls: true,
        BlockPublicPolicy: true,
        RestrictPublicBuckets: true,
      });
      const policy = JSON.parse((await aws.s3.send(new GetBucketPolicyCommand({ Bucket }))).Policy ?? '{}');
      expect(policy.Statement).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
      const tags = (await aws.s3.send(new GetBucketTaggingCommand({ Bucket }))).TagSet ?? [];
      expect(tags).toContainEqual({ Key: 'hybridctl.dev/component', Value: `bucket-${purpose}` });
    }
    const telemetry = `hctl-demo-telemetry-${ACCOUNT}-eu-central-1`;
    const state = `hctl-demo-state-${ACCOUNT}-eu-central-1`;
    // Requests to the state bucket are logged into the telemetry bucket (Security Hub S3.9), whose
    // policy lets S3's logging service write there for the state bucket of this account only.
    expect((await aws.s3.send(new GetBucketLoggingCommand({ Bucket: state }))).LoggingEnabled).toMatchObject({ TargetBucket: telemetry, TargetPrefix: 's3-access-logs/state/' });
    expect((await aws.s3.send(new GetBucketLoggingCommand({ Bucket: telemetry }))).LoggingEnabled).toBeUndefined();
    const telemetryPolicy = JSON.parse((await aws.s3.send(new GetBucketPolicyCommand({ Bucket: telemetry }))).Policy ?? '{}');
    expect(telemetryPolicy.Statement).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'logging.s3.amazonaws.com' },
        Action: 's3:PutObject',
        Resource: `arn:aws:s3:::${telemetry}/s3-access-logs/state/*`,
        Condition: { ArnLike: { 'aws:SourceArn': `arn:aws:s3:::${state}` }, StringEquals: { 'aws:SourceAccount': ACCOUNT } },
      }),
    );
    expect(telemetryPolicy.Statement).toContainEqual(
      expect.objectContaining({ Effect: 'Allow', Principal: { Service: 'delivery.logs.amazonaws.com' }, Action: 's3:PutObject', Resource: `arn:aws:s3:::${telemetry}/vpc-flow-logs/AWSLogs/aws-account-id=${ACCOUNT}/*` }),
    );
    expect(JSON.parse((await aws.s3.send(new GetBucketPolicyCommand({ Bucket: state }))).Policy ?? '{}').Statement).toHaveLength(1);

    // VPC flow logs (Security Hub EC2.6): all traffic into the telemetry bucket, in Parquet with Hive-style partitions.
    const logs = await flowLogs(aws, 'demo');
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({ ResourceId: vpc?.VpcId, TrafficType: 'ALL', LogDestinationType: 's3', LogDestination: `arn:aws:s3:::${telemetry}/vpc-flow-logs/`, MaxAggregationInterval: 600 });
    expect(Object.fromEntries((logs[0]?.Tags ?? []).map((t) => [t.Key, t.Value]))).toMatchObject({ 'hybridctl.dev/cluster': 'demo', 'hybridctl.dev/component': 'vpc-flow-log', Name: 'demo-vpc-flow-log' });
    const created = (await recordedRequests(moto.endpoint)).filter((r) => r.operation === 'CreateFlowLogs');
    expect(created).toHaveLength(1);
    expect(Object.fromEntries(new URLSearchParams(created[0]?.body))).toMatchObject({
      'DestinationOptions.FileFormat': 'parquet',
      'DestinationOptions.HiveCompatiblePartitions': 'true',
      'DestinationOptions.PerHourPartition': 'true',
    });

    const lifecycle = await aws.s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: telemetry }));
    expect(lifecycle.Rules?.[0]).toMatchObject({
      Status: 'Enabled',
      Transitions: [{ Days: 30, StorageClass: 'STANDARD_IA' }],
      Expiration: { Days: 365 },
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
    });

    // ECR: the service's repository, scanned on push, immutable tags, encrypted with the cluster key.
    expect(inv.repositories.map((r) => r.repositoryName)).toEqual(['hybridctl/demo/readings']);
    expect(inv.repositories[0]).toMatchObject({
      imageTagMutability: 'IMMUTABLE',
      imageScanningConfiguration: { scanOnPush: true },
      encryptionConfiguration: { encryptionType: 'KMS', kmsKey: key?.Arn },
    });
    const login = await ecrLogin({ cluster: 'demo', region: 'eu-central-1', account: ACCOUNT, userTags: {}, clients: new AwsClients({ region: 'eu-central-1', endpoint: moto.endpoint }) });
    expect(login.username).toBe('AWS');
    expect(login.url).toMatch(/^https:\/\/123456789012\.dkr\.ecr\.eu-central-1\.amazonaws\.com/);
    // Untagged images expire after a few days; tagged ones stay (Security Hub ECR.3).
    const ecrLifecycle = JSON.parse((await aws.ecr.send(new GetLifecyclePolicyCommand({ repositoryName: 'hybridctl/demo/readings' }))).lifecyclePolicyText ?? '{}');
    expect(ecrLifecycle.rules).toEqual([
      expect.objectContaining({ selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 7 }, action: { type: 'expire' } }),
    ]);

    // EBS: new volumes in the region are encrypted with the cluster key.
    expect((await aws.ec2.send(new GetEbsEncryptionByDefaultCommand({}))).EbsEncryptionByDefault).toBe(true);
    expect((await aws.ec2.send(new GetEbsDefaultKmsKeyIdCommand({}))).KmsKeyId).toBe(key?.Arn);
  });

  it('makes no mutating call on a second run, and then plans nothing', async () => {
    expect((await up()).code).toBe(0);
    await moto.record();
    const second = await up();
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('nothing to do');
    const calls = await moto.calls();
    expect(changing(calls)).toEqual([]);
    expect(calls.length).toBeGreaterThan(0);

    const plan = await runCli(['plan', '--site', 'aws', '--layer', 'base', '-c', config, '-o', 'json'], env);
    expect(plan.code).toBe(0);
    const parsed = JSON.parse(plan.stdout);
    expect(parsed.sites.flatMap((s: { changes: unknown[] }) => s.changes)).toEqual([]);
    // The 23 of the base layer before, and the load balancer's group and rules, the VPC's default
    // group, the flow log and the state bucket's access logging.
    expect(parsed.sites[0].summary.noop).toBe(29);
  });

  it('down deletes everything tagged for the cluster and nothing else', async () => {
    // Decoys: another cluster whose names share our prefix, and untagged things.
    const decoyVpc = await aws.ec2.send(
      new CreateVpcCommand({ CidrBlock: '10.99.0.0/16', TagSpecifications: [{ ResourceType: 'vpc', Tags: [{ Key: 'hybridctl.dev/cluster', Value: 'demo-2' }] }] }),
    );
    const untaggedVpc = await aws.ec2.send(new CreateVpcCommand({ CidrBlock: '10.98.0.0/16' }));
    await aws.s3.send(new CreateBucketCommand({ Bucket: `hctl-demo-2-state-${ACCOUNT}-eu-central-1`, CreateBucketConfiguration: { LocationConstraint: 'eu-central-1' } }));
    await aws.iam.send(new CreateRoleCommand({ RoleName: 'hybridctl-demo-2-node', Path: '/hybridctl/demo-2/', AssumeRolePolicyDocument: '{}' }));
    const decoyKey = await aws.kms.send(new CreateKeyCommand({ Tags: [{ TagKey: 'hybridctl.dev/cluster', TagValue: 'demo-2' }] }));

    expect((await up()).code).toBe(0);
    // A versioned bucket with objects and old versions must still go.
    const Bucket = `hctl-demo-telemetry-${ACCOUNT}-eu-central-1`;
    for (const body of ['one', 'two']) await aws.s3.send(new PutObjectCommand({ Bucket, Key: 'logs/a.json', Body: body }));

    const down = await runCli(['down', '--yes', '--site', 'aws', '-c', config], env);
    expect(down.code, down.stdout + down.stderr).toBe(0);
    expect(down.stdout).toContain('nothing of cluster demo is left');
    expect(counts(await inventory(aws, 'demo'))).toEqual(NOTHING);
    expect(await flowLogs(aws, 'demo')).toEqual([]);
    // The EBS default key is the AWS-managed one again.
    expect((await aws.ec2.send(new GetEbsDefaultKmsKeyIdCommand({}))).KmsKeyId).toContain('alias/aws/ebs');

    const decoys = await inventory(aws, 'demo-2');
    expect(decoys.vpcs.map((v) => v.VpcId)).toEqual([decoyVpc.Vpc?.VpcId]);
    expect(decoys.buckets).toHaveLength(1);
    expect(decoys.roles).toHaveLength(1);
    expect((await aws.kms.send(new DescribeKeyCommand({ KeyId: decoyKey.KeyMetadata?.KeyId }))).KeyMetadata?.KeyState).toBe('Enabled');
    expect((await aws.ec2.send(new DescribeVpcsCommand({ VpcIds: [untaggedVpc.Vpc?.VpcId ?? ''] }))).Vpcs).toHaveLength(1);

    const again = await runCli(['down', '--yes', '--site', 'aws', '-c', config], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('nothing to delete');
  });
});

describe('bucket policy', () => {
  it('refuses requests without TLS and serves them with TLS', async () => {
    await moto.reset();
    expect((await up()).code).toBe(0);
    const Bucket = `hctl-demo-state-${ACCOUNT}-eu-central-1`;
    await aws.s3.send(new PutObjectCommand({ Bucket, Key: 'over-tls', Body: 'ok' }));

    const plain = await startMoto({ tls: false });
    try {
      const plainConfig = writeConfig(EXAMPLE);
      const result = await runCli(['up', '--site', 'aws', '--layer', 'base', '-c', plainConfig], awsEnv(plain.endpoint));
      // It builds; then storing the state is refused by the state bucket itself, and says why.
      expect(result.stdout).toContain('created s3-bucket bucket-state');
      expect(result.code, result.stdout + result.stderr).toBe(1);
      expect(result.stderr).toContain('s3:GetObject failed: access denied (HTTP 403)');
      expect(result.stderr).toContain("hint: the cluster's buckets refuse requests without TLS");
      const error = await clients(plain.endpoint)
        .s3.send(new PutObjectCommand({ Bucket, Key: 'over-http', Body: 'no' }))
        .then(() => undefined, (e: { $metadata?: { httpStatusCode?: number } }) => e);
      expect(error?.$metadata?.httpStatusCode).toBe(403);
    } finally {
      await plain.stop();
    }
  });
});
