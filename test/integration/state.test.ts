import { CreateSubnetCommand, CreateVpcCommand, DeleteSubnetCommand } from '@aws-sdk/client-ec2';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { AwsClients } from '../../src/providers/aws/clients.ts';
import { StateBucket } from '../../src/state/bucket.ts';
import { StateDir } from '../../src/core/state.ts';
import { RENEW_MS, lockBucket, lockLocally } from '../../src/state/lock.ts';
import { awsEnv, killedAt, runCli, startCli, writeConfig } from '../support/cli.ts';
import { EXAMPLE, exampleWith } from '../support/config.ts';
import { type Clients, type Inventory, clients, componentOf, inventory } from '../support/inventory.ts';
import { HARNESS_KEY, type Moto, changingCalls, startMoto } from '../support/moto.ts';

const BUCKET = 'hctl-demo-state-123456789012-eu-central-1';
const SECRETS = 'talos/onprem-secrets.yaml';
const THREE_ZONES = exampleWith(['availabilityZones: 2', 'availabilityZones: 3']);
const KUBECONFIG = `apiVersion: v1
kind: Config
clusters: [{ name: demo-aws, cluster: { server: 'https://demo-aws.example:6443' } }]
users: [{ name: admin@demo-aws, user: { token: not-a-real-one } }]
contexts: [{ name: admin@demo-aws, context: { cluster: demo-aws, user: admin@demo-aws } }]
current-context: admin@demo-aws
`;

let moto: Moto;
let aws: Clients;
let harness: Clients;
let env: Record<string, string | undefined>;

// The lock is also driven in this process (its renewal), with the standard credential chain.
process.env.AWS_ACCESS_KEY_ID = 'testing';
process.env.AWS_SECRET_ACCESS_KEY = 'testing';

beforeAll(async () => {
  // Enough latency that two runs started together overlap, as two operators' runs would.
  moto = await startMoto({ env: { HYBRIDCTL_TEST_LATENCY_MS: '15' } });
  aws = clients(moto.endpoint);
  harness = clients(moto.endpoint, 'eu-central-1', HARNESS_KEY);
  env = awsEnv(moto.endpoint);
});
afterAll(async () => moto?.stop());
beforeEach(async () => moto.reset());

/** An operator: a config file in a folder of their own, so a state directory of their own. */
function operator(text = EXAMPLE) {
  const config = writeConfig(text);
  const state = join(dirname(config), '.hybridctl', 'demo');
  return {
    config,
    state,
    cli: (...args: string[]) => runCli([...args, '-c', config], env),
    file: (path: string) => (existsSync(join(state, path)) ? readFileSync(join(state, path), 'utf8') : undefined),
    write: (path: string, text: string) => writeFileSync(join(state, path), text),
  };
}

const base = ['up', '--site', 'aws', '--layer', 'base'];

async function bucketObject(key: string): Promise<string | undefined> {
  try {
    return await (await harness.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body?.transformToString();
  } catch {
    return undefined;
  }
}

/** Every resource the cluster owns, by kind and component: a duplicate shows as a count above one. */
function duplicates(inv: Inventory): string[] {
  const seen = new Map<string, number>();
  for (const [kind, list] of Object.entries(inv)) {
    for (const resource of list as (Parameters<typeof componentOf>[0] & Record<string, unknown>)[]) {
      // EC2 resources by their component tag; the rest by their unique name; the cluster's one KMS key as itself.
      const name = componentOf(resource) ?? ['Name', 'RoleName', 'InstanceProfileName', 'AliasName', 'repositoryName', 'LoadBalancerName', 'TargetGroupName'].map((f) => resource[f]).find(Boolean);
      const key = `${kind}/${String(name ?? 'key')}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
  }
  return [...seen].filter(([, n]) => n > 1).map(([key, n]) => `${key} ×${n}`);
}

describe('the state bucket is the source of truth', () => {
  it("stores secrets the moment they exist, and a second operator's empty state directory takes them", async () => {
    const ana = operator();
    expect((await ana.cli(...base)).code).toBe(0);
    const gen = await ana.cli('talos', 'gen', '--out', mkdtempSync(join(tmpdir(), 'hybridctl-gen-')));
    expect(gen.code, gen.stderr).toBe(0);
    const secrets = ana.file(SECRETS);
    expect(secrets).toContain('cluster:');

    // In the bucket, under the cluster's KMS key, and listed in the manifest with its hash.
    expect(await bucketObject(`state/${SECRETS}`)).toBe(secrets);
    const head = await harness.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `state/${SECRETS}` }));
    expect(head.ServerSideEncryption).toBe('aws:kms');
    expect(head.SSEKMSKeyId).toMatch(/^arn:aws:kms:eu-central-1:123456789012:key\//);
    expect(Object.keys(JSON.parse((await bucketObject('state/manifest.json')) ?? '{}').files)).toContain(SECRETS);

    const ben = operator();
    const plan = await ben.cli('plan', '--site', 'aws', '--layer', 'base');
    expect(plan.code, plan.stderr).toBe(0);
    expect(ben.file(SECRETS)).toBe(secrets);
    expect(plan.stdout).toContain(`state: took ${SECRETS}`);
    // Which files moved, never what they hold.
    const { secretboxencryptionsecret, bootstraptoken } = parse(secrets ?? '').secrets;
    for (const output of [gen.stdout + gen.stderr, plan.stdout + plan.stderr]) {
      expect(output).not.toContain(secretboxencryptionsecret);
      expect(output).not.toContain(bootstraptoken);
    }
    expect(statSync(join(ben.state, SECRETS)).mode & 0o777).toBe(0o600);
    // The same cluster, not a second one: ben's machine configs carry ana's cluster identity.
    const out = mkdtempSync(join(tmpdir(), 'hybridctl-gen-'));
    expect((await ben.cli('talos', 'gen', '--out', out)).code).toBe(0);
    expect(ben.file(SECRETS)).toBe(secrets);

    // An access file ana's run stored reaches a third operator's first `kubeconfig`.
    ana.write('kubeconfig-aws', KUBECONFIG);
    expect((await ana.cli(...base)).code).toBe(0);
    const cy = operator();
    const target = join(mkdtempSync(join(tmpdir(), 'hybridctl-kube-')), 'kubeconfig');
    const kube = await cy.cli('kubeconfig', '--out', target);
    expect(kube.code, kube.stderr).toBe(0);
    expect(readFileSync(target, 'utf8')).toContain('https://demo-aws.example:6443');
  });

  it('stops on a conflict, naming the file and overwriting neither side; state pull and push settle it', async () => {
    const ana = operator();
    const ben = operator();
    expect((await ana.cli(...base)).code).toBe(0);
    expect((await ana.cli('talos', 'gen', '--out', mkdtempSync(join(tmpdir(), 'hybridctl-gen-')))).code).toBe(0);
    expect((await ben.cli(...base)).code).toBe(0);
    const agreed = ben.file(SECRETS);
    expect(agreed).toBe(ana.file(SECRETS));

    ana.write(SECRETS, `${agreed}# ana's edit\n`);
    expect((await ana.cli(...base)).code).toBe(0);
    ben.write(SECRETS, `${agreed}# ben's edit\n`);
    // Ben's run would change the cluster (a third zone): the conflict must stop it before it does.
    writeFileSync(ben.config, THREE_ZONES);
    await moto.record();
    const clash = await ben.cli(...base);
    expect(clash.code).toBe(1);
    expect(clash.stderr).toContain(SECRETS);
    expect(clash.stderr).toContain('state pull');
    expect(changingCalls(await moto.calls())).toEqual([]);
    expect(ben.file(SECRETS)).toBe(`${agreed}# ben's edit\n`);
    expect(await bucketObject(`state/${SECRETS}`)).toBe(`${agreed}# ana's edit\n`);

    const pull = await ben.cli('state', 'pull');
    expect(pull.code, pull.stderr).toBe(0);
    expect(ben.file(SECRETS)).toBe(`${agreed}# ana's edit\n`);
    const kept = readdirSync(join(ben.state, 'talos')).filter((f) => f.startsWith('onprem-secrets.yaml.local-'));
    expect(kept).toHaveLength(1);
    expect(readFileSync(join(ben.state, 'talos', kept[0] ?? ''), 'utf8')).toBe(`${agreed}# ben's edit\n`);

    ben.write(SECRETS, `${agreed}# ben wins\n`);
    const push = await ben.cli('state', 'push');
    expect(push.code, push.stderr).toBe(0);
    expect(await bucketObject(`state/${SECRETS}`)).toBe(`${agreed}# ben wins\n`);
    // Ana had not changed it since: her next run simply takes the new version.
    expect((await ana.cli(...base)).code).toBe(0);
    expect(ana.file(SECRETS)).toBe(`${agreed}# ben wins\n`);
  });

  it('state pull and push say plainly when there is no bucket yet', async () => {
    const ana = operator();
    const pull = await ana.cli('state', 'pull');
    expect(pull.code).toBe(1);
    expect(pull.stderr).toContain(`the state bucket ${BUCKET} does not exist yet`);
  });
});

describe('the run lock', () => {
  async function race(a: ReturnType<typeof operator>, b: ReturnType<typeof operator>, args: string[]) {
    const runs = [startCli([...args, '-c', a.config], env), startCli([...args, '-c', b.config], env)];
    const results = await Promise.all(runs);
    return results.map((r) => ({ code: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) }));
  }

  it('lets exactly one of two runs in the same state directory go ahead before the bucket exists', async () => {
    const ana = operator();
    const results = await race(ana, ana, base);
    expect(results.map((r) => r.code).sort()).toEqual([0, 1]);
    const loser = results.find((r) => r.code === 1);
    expect(loser?.stderr).toMatch(/locked in .*\.lock: by .*hybridctl up/);
    expect(duplicates(await inventory(aws, 'demo'))).toEqual([]);
    expect(existsSync(join(ana.state, '.lock'))).toBe(false);
  });

  it('waits for a run on this machine that began before the bucket existed and holds only the lock file', async () => {
    const ana = operator();
    expect((await ana.cli(...base)).code).toBe(0);
    // As that run holds it: this live process, on this machine; the bucket appeared during its run.
    const earlier = await lockLocally(new StateDir(ana.state), 'up', () => undefined);
    await moto.record();
    const second = await ana.cli(...base);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/locked in .*\.lock: by .*hybridctl up/);
    expect(changingCalls(await moto.calls())).toEqual([]);
    expect(await bucketObject('locks/run.json')).toBeUndefined();
    await earlier.release();
    expect((await ana.cli(...base)).code).toBe(0);
  });

  it('lets exactly one of two operators go ahead once the bucket exists, round after round', async () => {
    const ana = operator();
    expect((await ana.cli(...base)).code).toBe(0);
    for (const text of [THREE_ZONES, EXAMPLE, THREE_ZONES]) {
      const results = await race(operator(text), operator(text), base);
      expect(results.map((r) => r.code).sort(), JSON.stringify(results)).toEqual([0, 1]);
      expect(results.find((r) => r.code === 1)?.stderr).toMatch(new RegExp(`locked in ${BUCKET}: by .*\`hybridctl up\``));
      expect(duplicates(await inventory(aws, 'demo'))).toEqual([]);
      expect(await bucketObject('locks/run.json')).toBeUndefined();
    }
    expect((await inventory(aws, 'demo')).subnets).toHaveLength(6);
  });

  it('repairs what a race left anyway: a twin network with its own subnets converges to one, keeping the subnets in the kept VPC', async () => {
    const ana = operator();
    expect((await ana.cli(...base)).code).toBe(0);
    const before = await inventory(aws, 'demo');
    const kept = before.vpcs[0]?.VpcId ?? '';
    const vpcTags = before.vpcs[0]?.Tags ?? [];
    const twin = (await harness.ec2.send(new CreateVpcCommand({ CidrBlock: '10.40.0.0/16', TagSpecifications: [{ ResourceType: 'vpc', Tags: vpcTags }] }))).Vpc?.VpcId;
    for (const s of before.subnets) {
      const spec = { CidrBlock: s.CidrBlock, AvailabilityZone: s.AvailabilityZone, TagSpecifications: [{ ResourceType: 'subnet' as const, Tags: s.Tags }] };
      await harness.ec2.send(new CreateSubnetCommand({ ...spec, VpcId: twin }));
      // The twin's copy of this one is listed first, as a race can leave it.
      if (componentOf(s) === 'subnet-private-a') {
        await harness.ec2.send(new DeleteSubnetCommand({ SubnetId: s.SubnetId }));
        await harness.ec2.send(new CreateSubnetCommand({ ...spec, VpcId: kept }));
      }
    }
    const survivors = (await inventory(aws, 'demo')).subnets.filter((s) => s.VpcId === kept).map((s) => s.SubnetId).sort();

    const result = await ana.cli(...base);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain(" 0 replaced");
    expect(result.stdout).not.toMatch(/✖/);
    const after = await inventory(aws, 'demo');
    expect(after.vpcs.map((v) => v.VpcId)).toEqual([kept]);
    expect(after.subnets.map((s) => s.SubnetId).sort()).toEqual(survivors);
    expect(duplicates(after)).toEqual([]);
  });

  it('repairs every kind a real race duplicates: two first runs on two machines, before any bucket can hold a lock', async () => {
    // Nothing can lock across machines before the bucket exists: both may build, in full. Whether
    // they overlap is up to the scheduler (a busy machine may start one long after the other), so
    // the race is run again, from an empty account, until it left duplicates to repair.
    let results = await race(operator(), operator(), base);
    let raced = duplicates(await inventory(aws, 'demo'));
    for (let attempt = 1; attempt < 4 && raced.length === 0; attempt++) {
      await moto.reset();
      results = await race(operator(), operator(), base);
      raced = duplicates(await inventory(aws, 'demo'));
    }
    const repair = await operator().cli(...base);
    expect(repair.code, `${JSON.stringify(results)}\n${repair.stdout}${repair.stderr}`).toBe(0);
    expect(duplicates(await inventory(aws, 'demo'))).toEqual([]);
    const again = await operator().cli(...base);
    expect(again.stdout).toContain('nothing to do');
    expect(raced.length, 'the race left duplicates to repair').toBeGreaterThan(0);
  });

  it('takes over the lock of a run killed on this machine', async () => {
    const ana = operator();
    expect((await ana.cli(...base)).code).toBe(0);
    const three = operator(THREE_ZONES);
    await killedAt(/… create subnet/, [...base, '-c', three.config], env);
    expect(JSON.parse((await bucketObject('locks/run.json')) ?? '{}').command).toBe('up');
    const rerun = await three.cli(...base);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).toMatch(/the run lock was left by `hybridctl up` \(pid \d+ on this machine\), which is gone: taking it over/);
    expect(duplicates(await inventory(aws, 'demo'))).toEqual([]);
    expect(await bucketObject('locks/run.json')).toBeUndefined();
  });

  it("reports another machine's lock with its holder, and unlock removes it only when told to", async () => {
    const ana = operator();
    expect((await ana.cli(...base)).code).toBe(0);
    const tenMinutesAgo = new Date(Date.now() - 600_000).toISOString();
    const holder = { who: 'ben', host: 'ben-laptop', pid: 4242, command: 'up', since: tenMinutesAgo, renewed: tenMinutesAgo, machine: 'another-boot/pid:[1]' };
    await harness.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'locks/run.json', Body: JSON.stringify(holder) }));

    await moto.record();
    const blocked = await operator(THREE_ZONES).cli(...base);
    expect(blocked.code).toBe(1);
    expect(blocked.stderr).toContain('locked in hctl-demo-state-123456789012-eu-central-1: by ben@ben-laptop (`hybridctl up`, pid 4242)');
    expect(blocked.stderr).toContain('looks stale');
    expect(blocked.stderr).toContain('hybridctl unlock');
    expect(changingCalls(await moto.calls())).toEqual([]);
    // Forcing the state one way or the other waits for the lock as well.
    const push = await ana.cli('state', 'push');
    expect(push.code).toBe(1);
    expect(push.stderr).toContain('locked in hctl-demo-state-123456789012-eu-central-1: by ben@ben-laptop');

    const asked = await ana.cli('unlock');
    expect(asked.code).toBe(2);
    expect(asked.stdout).toContain('ben@ben-laptop');
    expect(asked.stderr).toContain('pass --yes');
    expect(JSON.parse((await bucketObject('locks/run.json')) ?? '{}').who).toBe('ben');

    const unlocked = await ana.cli('unlock', '--yes');
    expect(unlocked.code, unlocked.stderr).toBe(0);
    expect(await bucketObject('locks/run.json')).toBeUndefined();
    expect((await ana.cli('unlock')).stdout).toContain('is not locked');
    expect((await operator(THREE_ZONES).cli(...base)).code).toBe(0);
  });

  it('is renewed while the run lives, and the run is told when it is taken away', async () => {
    const ana = operator();
    expect((await ana.cli(...base)).code).toBe(0);
    const bucket = new StateBucket({ cluster: 'demo', region: 'eu-central-1', account: '123456789012', userTags: {}, clients: new AwsClients({ region: 'eu-central-1', endpoint: moto.endpoint }) });
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const warnings: string[] = [];
      const lock = await lockBucket(bucket, 'up', (m) => warnings.push(m));
      const first = JSON.parse((await bucketObject('locks/run.json')) ?? '{}');
      await new Promise((resolve) => setTimeout(resolve, 10));
      vi.advanceTimersByTime(RENEW_MS);
      await vi.waitFor(async () => expect(JSON.parse((await bucketObject('locks/run.json')) ?? '{}').renewed).not.toBe(first.renewed));
      expect(warnings).toEqual([]);

      expect((await ana.cli('unlock', '--yes')).code).toBe(0);
      vi.advanceTimersByTime(RENEW_MS);
      await vi.waitFor(() => expect(warnings.join()).toContain('was taken away'));
      await lock.release();
      expect(await bucketObject('locks/run.json')).toBeUndefined();
    } finally {
      vi.useRealTimers();
    }
  });
});
