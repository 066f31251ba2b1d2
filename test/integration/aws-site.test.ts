import { DescribeInstanceAttributeCommand, DescribeVolumesCommand } from '@aws-sdk/client-ec2';
import { DescribeListenersCommand, DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SIDERO, ami, writeAmis } from '../support/amis.ts';
import { startFaultProxy } from '../support/aws-fault-proxy.ts';
import { awsEnv, killedAt, runCli, writeConfig } from '../support/cli.ts';
import { NO_MONITORING, exampleWith } from '../support/config.ts';
import { type Clients, NOTHING, byComponent, clients, componentOf, counts, flowLogs, inventory, recordedRequests } from '../support/inventory.ts';
import { HARNESS_KEY, type Moto, type RecordedCall, startMoto } from '../support/moto.ts';
import { type NodeProxy, startNodeProxy } from '../support/node-proxy.ts';
import { type TalosFleet, startTalosServer, talosCheck } from '../support/talos.ts';

/**
 * `up --site aws` against moto (with Talos images under Sidero Labs' account) and the fake
 * Talos fleet: every instance is stood in for by a fake node that boots from its user-data,
 * reached through an HTTP CONNECT proxy, as from behind a bastion.
 */
const AMIS = [
  ...['eu-central-1', 'us-east-1'].flatMap((region) =>
    (['amd64', 'arm64'] as const).map((arch, i) => ami(`ami-${region === 'us-east-1' ? '1' : '0'}${i}0000000000000a`, `talos-v1.13.9-${region}-${arch}`, SIDERO, arch)),
  ),
  ami('ami-0decoy0000000001b', 'talos-v1.13.9-eu-central-1-amd64', '111111111111', 'amd64'), // someone else's
  ami('ami-0decoy0000000002c', 'talos-v1.12.0-eu-central-1-amd64', SIDERO, 'amd64'), // another version
];

let moto: Moto;
let aws: Clients;
let fleet: TalosFleet;
let proxy: NodeProxy;
let fleetUrl: string;
/** One state directory per test: the configs of a test are one cluster. */
let stateDir: string;

beforeAll(async () => {
  moto = await startMoto({ env: { MOTO_AMIS_PATH: writeAmis(AMIS) } });
  aws = clients(moto.endpoint);
});
afterAll(async () => {
  await moto?.stop();
});
beforeEach(async () => {
  await proxy?.stop();
  await fleet?.stop();
  await moto.reset();
  fleet = await startTalosServer([]);
  fleetUrl = fleet.statusUrl;
  proxy = await startNodeProxy({ aws: clients(moto.endpoint, 'eu-central-1', HARNESS_KEY), fleetStatusUrl: fleetUrl, subnet: '127.0.70' });
  stateDir = mkdtempSync(join(tmpdir(), 'hybridctl-state-'));
});

function siteConfig(cp = 3, workers = 2, extra: [string | RegExp, string][] = []): string {
  return writeConfig(
    exampleWith(
      ['controlPlane: { count: 3,', `controlPlane: { count: ${cp},`],
      ['workers: { count: 2,', `workers: { count: ${workers},`],
      ['version: v1.13.9', 'version: v1.13.9\n  timeouts: { installSeconds: 60, healthSeconds: 60 }'],
      ['enabled: true ', 'enabled: false '],
      ['port: 51820', 'port: 51820\nservice:\n  enabled: false'],
      NO_MONITORING,
      ...extra,
    ),
  );
}

const env = () => awsEnv(moto.endpoint, { grpc_proxy: proxy.url });
const up = (config: string, e = env()) => runCli(['up', '--site', 'aws', '--state-dir', stateDir, '-c', config], e);
/** The calls that change something; the run lock's own object in the state bucket does not count. */
const changing = <C extends RecordedCall>(calls: readonly C[]): C[] => calls.filter((c) => c.mutating && (c as { key?: string }).key !== 'locks/run.json');
const bootstraps = async () => (await fleet.status()).reduce((n, s) => n + s.bootstrapCount, 0);

describe('up --site aws', () => {
  it('goes from an empty account to a bootstrapped cluster with a kubeconfig', async () => {
    const config = siteConfig();
    const result = await up(config);
    expect(result.code, result.stdout + result.stderr).toBe(0);

    const inv = await inventory(aws, 'demo');
    expect(inv.instances).toHaveLength(5);
    const instances = byComponent(inv.instances);
    const subnets = Object.fromEntries(inv.subnets.map((s) => [s.SubnetId, componentOf(s)]));
    expect(Object.keys(instances).sort()).toEqual(['controlplane-1', 'controlplane-2', 'controlplane-3', 'worker-1', 'worker-2']);
    expect(['controlplane-1', 'controlplane-2', 'controlplane-3'].map((id) => subnets[instances[id]?.SubnetId ?? ''])).toEqual(['subnet-private-a', 'subnet-private-b', 'subnet-private-a']);
    const key = inv.kmsKeys[0]?.meta?.Arn;
    for (const instance of inv.instances) {
      expect(instance.ImageId).toBe('ami-000000000000000a');
      expect(instance.PublicIpAddress).toBeUndefined();
      // IMDSv2 only, and a hop limit of 1: pods (one hop further) cannot read the user-data, the machine config.
      expect(instance.MetadataOptions).toMatchObject({ HttpTokens: 'required', HttpPutResponseHopLimit: 1, HttpEndpoint: 'enabled' });
      expect(instance.IamInstanceProfile?.Arn).toBe(inv.profiles[0]?.Arn);
      const volumeId = instance.BlockDeviceMappings?.[0]?.Ebs?.VolumeId;
      const volume = (await aws.ec2.send(new DescribeVolumesCommand({ VolumeIds: [volumeId ?? ''] }))).Volumes?.[0];
      expect(volume).toMatchObject({ Encrypted: true, KmsKeyId: key, VolumeType: 'gp3' });
      const role = instance.Tags?.find((t) => t.Key === 'hybridctl.dev/role')?.Value;
      expect(volume?.Size).toBe(role === 'controlplane' ? 20 : 50);
      // The user-data is a config Talos's own code accepts in cloud mode.
      const userData = await aws.ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: instance.InstanceId, Attribute: 'userData' }));
      const file = join(mkdtempSync(join(tmpdir(), 'hybridctl-ud-')), 'user-data.yaml');
      writeFileSync(file, Buffer.from(userData.UserData?.Value ?? '', 'base64'));
      expect(Buffer.byteLength(readFileSync(file))).toBeLessThan(16 * 1024);
      expect(await talosCheck(['config', '--mode', 'cloud', file])).toContain('ok');
    }

    // The load balancer: internet-facing, public subnets, open to admins only, both listeners to the control planes.
    const lb = inv.loadBalancers[0];
    expect(lb).toMatchObject({ Type: 'network', Scheme: 'internet-facing' });
    const lbSubnets = (lb?.AvailabilityZones ?? []).map((z) => subnets[z.SubnetId ?? '']).sort();
    expect(lbSubnets).toEqual(['subnet-public-a', 'subnet-public-b']);
    const lbGroup = inv.sgs.find((g) => g.GroupId === lb?.SecurityGroups?.[0]);
    expect(componentOf(lbGroup ?? {})).toBe('sg-nlb');
    expect((lbGroup?.IpPermissions ?? []).flatMap((p) => (p.IpRanges ?? []).map((r) => `${p.FromPort}:${r.CidrIp}`)).sort()).toEqual(['50000:203.0.113.10/32', '6443:203.0.113.10/32']);
    // The control planes take the API ports from the load balancer's group, and from no address range.
    const cpGroup = byComponent(inv.sgs)['sg-controlplane'];
    const apiSources = (cpGroup?.IpPermissions ?? []).filter((p) => p.IpProtocol === 'tcp');
    expect(apiSources.map((p) => `${p.FromPort}:${(p.UserIdGroupPairs ?? []).map((g) => g.GroupId).join()}:${(p.IpRanges ?? []).length}`).sort()).toEqual([
      `50000:${lbGroup?.GroupId}:0`,
      `6443:${lbGroup?.GroupId}:0`,
    ]);
    for (const instance of inv.instances.filter((i) => i.Tags?.some((t) => t.Key === 'hybridctl.dev/role' && t.Value === 'controlplane'))) {
      expect(instance.SecurityGroups?.map((g) => g.GroupId)).toEqual([cpGroup?.GroupId]);
    }
    const listeners = (await aws.elb.send(new DescribeListenersCommand({ LoadBalancerArn: lb?.LoadBalancerArn }))).Listeners ?? [];
    expect(listeners.map((l) => l.Port).sort()).toEqual([50000, 6443]);
    const controlPlaneIds = ['controlplane-1', 'controlplane-2', 'controlplane-3'].map((id) => instances[id]?.InstanceId).sort();
    for (const group of inv.targetGroups) {
      const health = await aws.elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: group.TargetGroupArn }));
      expect((health.TargetHealthDescriptions ?? []).map((d) => d.Target?.Id).sort()).toEqual(controlPlaneIds);
      expect(group.HealthCheckProtocol).toBe('TCP');
    }

    // Talos: every instance's node came up configured; etcd was bootstrapped once, through the load balancer.
    expect(proxy.nodes()).toHaveLength(5);
    expect(await bootstraps()).toBe(1);
    expect(proxy.connects).toContain(`${lb?.DNSName}:50000`);
    const state = stateDir;
    const kubeconfig = parse(readFileSync(join(state, 'kubeconfig-aws'), 'utf8'));
    expect(kubeconfig.clusters[0].cluster.server).toBe(`https://${lb?.DNSName}:6443`);
    expect(kubeconfig['current-context']).toBe('admin@demo-aws');
    expect(statSync(join(state, 'kubeconfig-aws')).mode & 0o777).toBe(0o600);
    const talosconfig = JSON.parse(await talosCheck(['talosconfig', join(state, 'talosconfig')]));
    expect(JSON.stringify(talosconfig)).toContain(lb?.DNSName);
  });

  it('makes no change on a second run: no mutating AWS call, no second bootstrap', async () => {
    const config = siteConfig(1, 1);
    expect((await up(config)).code).toBe(0);
    await moto.record();
    const again = await up(config);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toContain('nothing to do');
    expect(changing(await moto.calls())).toEqual([]);
    expect(await bootstraps()).toBe(1);
    expect((await fleet.status()).every((n) => n.applyCount === 0)).toBe(true);
  });

  it('adds and removes workers by their numbers (2 → 3 → 2)', async () => {
    expect((await up(siteConfig(1, 2))).code).toBe(0);
    expect((await up(siteConfig(1, 3))).code).toBe(0);
    expect(Object.keys(byComponent((await inventory(aws, 'demo')).instances)).sort()).toEqual(['controlplane-1', 'worker-1', 'worker-2', 'worker-3']);
    const result = await up(siteConfig(1, 2));
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('deleted ec2-instance worker-3');
    expect(Object.keys(byComponent((await inventory(aws, 'demo')).instances)).sort()).toEqual(['controlplane-1', 'worker-1', 'worker-2']);
  });

  it('removes the highest control plane, which leaves etcd first', async () => {
    expect((await up(siteConfig(3, 0))).code).toBe(0);
    const result = await up(siteConfig(2, 0));
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/talos-node talos-controlplane-3: leaving etcd/);
    const inv = await inventory(aws, 'demo');
    expect(Object.keys(byComponent(inv.instances)).sort()).toEqual(['controlplane-1', 'controlplane-2']);
    const health = await aws.elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: inv.targetGroups[0]?.TargetGroupArn }));
    expect(health.TargetHealthDescriptions).toHaveLength(2);
    expect(await bootstraps()).toBe(1);
    // The cluster stays healthy on the two that remain: a third run changes nothing.
    expect((await up(siteConfig(2, 0))).stdout).toContain('nothing to do');
  });

  it('applies a changed machine config through the Talos API, without replacing the instance', async () => {
    expect((await up(siteConfig(1, 1))).code).toBe(0);
    const before = (await inventory(aws, 'demo')).instances.map((i) => i.InstanceId).sort();
    const patch = join(mkdtempSync(join(tmpdir(), 'hybridctl-patch-')), 'workers.yaml');
    writeFileSync(patch, 'machine:\n  kubelet:\n    extraArgs:\n      max-pods: "150"\n');
    const patched = siteConfig(1, 1, [['  timeouts:', `  patches:\n    - { file: ${patch}, site: aws, role: worker }\n  timeouts:`]]);
    const plan = JSON.parse((await runCli(['plan', '--site', 'aws', '--state-dir', stateDir, '-o', 'json', '-c', patched], env())).stdout);
    expect(plan.sites[0].changes.map((c: { action: string; id: string }) => `${c.action} ${c.id}`)).toEqual(['update talos-worker-1']);
    const result = await up(patched);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect((await inventory(aws, 'demo')).instances.map((i) => i.InstanceId).sort()).toEqual(before);
    const applied = (await fleet.status()).filter((n) => n.applyCount > 0);
    expect(applied.map((n) => n.role)).toEqual(['worker']);
  });

  it('converges after being killed during the launch and during bootstrap, with one bootstrap', async () => {
    const config = siteConfig(3, 1);
    for (const line of [/… create ec2-instance controlplane-2/, /bootstrapping etcd/]) {
      await killedAt(line, ['up', '--site', 'aws', '--state-dir', stateDir, '-c', config], env());
    }
    const rerun = await up(config);
    expect(rerun.code, rerun.stdout + rerun.stderr).toBe(0);
    expect((await inventory(aws, 'demo')).instances).toHaveLength(4);
    expect(await bootstraps()).toBe(1);
  });

  it('down removes everything, dependants first', async () => {
    const config = siteConfig(1, 1);
    expect((await up(config)).code).toBe(0);
    await moto.record();
    const down = await runCli(['down', '--yes', '--site', 'aws', '--state-dir', stateDir, '-c', config], env());
    expect(down.code, down.stdout + down.stderr).toBe(0);
    expect(counts(await inventory(aws, 'demo'))).toEqual(NOTHING);
    expect(await flowLogs(aws, 'demo')).toEqual([]);
    expect(down.stdout).toContain('nothing of cluster demo is left');

    // The order, as moto received the calls.
    const calls = changing(await recordedRequests(moto.endpoint));
    const indices = (match: (c: (typeof calls)[number]) => boolean) => calls.flatMap((c, i) => (match(c) ? [i] : []));
    const op = (name: string) => indices((c) => c.operation === name);
    const bucketPath = (purpose: string) => `/hctl-demo-${purpose}-123456789012-eu-central-1`;
    const bucket = (purpose: string) => indices((c) => c.service === 's3' && c.method === 'DELETE' && c.path.replace(/\/$/, '') === bucketPath(purpose));
    const expectBefore = (first: number[], then: number[], what: string) => {
      expect(first.length, `${what}: the first kind of call was made`).toBeGreaterThan(0);
      expect(then.length, `${what}: the second kind of call was made`).toBeGreaterThan(0);
      expect(Math.max(...first), what).toBeLessThan(Math.min(...then));
    };
    expectBefore(op('DeregisterTargets'), op('TerminateInstances'), 'targets leave the target groups before their instances go');
    expectBefore(op('TerminateInstances'), op('DeleteSecurityGroup'), 'instances are terminated before their security groups are deleted');
    expectBefore(op('RevokeSecurityGroupIngress'), op('DeleteSecurityGroup'), 'rules that refer to other groups go before any group');
    expectBefore(op('DeleteLoadBalancer'), op('DeleteSecurityGroup'), 'the load balancer goes before its security group');
    expectBefore(op('DeleteListener'), op('DeleteTargetGroup'), "the load balancer's listeners go before its target groups");
    expectBefore(op('DeleteNatGateway'), op('ReleaseAddress'), 'the NAT gateway goes before its Elastic IP is released');
    expectBefore(op('DeleteNatGateway'), op('DetachInternetGateway'), 'the NAT gateway goes before the internet gateway is detached');
    expectBefore(op('DeleteSubnet'), op('DeleteVpc'), 'subnets go before the VPC');
    expectBefore(op('DeleteFlowLogs'), op('DeleteVpc'), 'the flow log goes before its VPC');
    expectBefore(op('DeleteFlowLogs'), bucket('telemetry'), 'the flow log stops before the bucket it writes to is deleted');
    const loggingOff = indices((c) => c.service === 's3' && c.method === 'PUT' && c.query.includes('logging') && c.path.replace(/\/$/, '') === bucketPath('state'));
    expectBefore(loggingOff, bucket('telemetry'), "the state bucket's access logging stops before the bucket it writes to is deleted");
    expectBefore(loggingOff, bucket('state'), "the state bucket's access logging stops before the state bucket is deleted");
    expectBefore([...op('TerminateInstances'), ...bucket('state'), ...bucket('telemetry'), ...op('ResetEbsDefaultKmsKeyId')], op('ScheduleKeyDeletion'), 'everything encrypted with the cluster key goes before the key');
    const otherDeletes = indices((c) => c.service !== 's3' && /^(Delete|Terminate|Release|Detach|Deregister|Disassociate)/.test(c.operation));
    expectBefore([...otherDeletes, ...bucket('telemetry')], bucket('state'), 'the state bucket (secrets, the run lock) goes last, once everything else is gone');
  });
});

describe('clear errors before anything is launched', () => {
  it('names version, region and architecture when there is no Talos image', async () => {
    const config = siteConfig(1, 0, [['region: eu-central-1', 'region: eu-west-1']]);
    const result = await up(config);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('no official Talos image for Talos v1.13.9 in eu-west-1 for amd64');
    expect((await inventory(aws, 'demo')).vpcs).toHaveLength(0);
  });

  it('says which zone does not offer an instance type', async () => {
    const result = await up(siteConfig(1, 2, [['instanceType: t3.large', 'instanceType: g7.2xlarge']]));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('aws.workers.instanceType: "g7.2xlarge" is not offered in eu-central-1b');
  });

  it('explains an exhausted instance quota', async () => {
    const fault = await startFaultProxy(moto.endpoint, { action: 'RunInstances', code: 'InstanceLimitExceeded', message: 'You have requested more instances than your current instance limit allows.' });
    try {
      const result = await up(siteConfig(1, 0), awsEnv(fault.endpoint, { grpc_proxy: proxy.url, NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS }));
      expect(result.code).toBe(1);
      expect(result.stdout).toContain('✖ ec2-instance controlplane-1: ec2:RunInstances failed: You have requested more instances');
      expect(result.stdout).toContain('hint: a service quota is exhausted');
      expect(fault.hits()).toBeGreaterThan(0);
    } finally {
      await fault.stop();
    }
  });
});
