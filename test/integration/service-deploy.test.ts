import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.ts';
import { type HybridBed, startHybridBed } from '../support/hybrid-bed.ts';
import { isWrite } from '../support/kube.ts';
import { KubeClient, nodeReady } from '../../src/kube/client.ts';

/**
 * The whole flow on both sites, each with a real control plane (kube-apiserver, controller
 * manager, scheduler, etcd) and kwok kubelets: Talos bootstrap → the kubeconfig Talos hands out →
 * the service deployed, read back with kubectl. The AWS site's API is reached the way its
 * kubeconfig says: the load balancer's name, here through a CONNECT proxy (proxy-url).
 */
const NS = 'readings';

let bed: HybridBed;
let stateDir: string;

beforeAll(async () => {
  bed = await startHybridBed({ onpremNet: '127.0.22', awsApi: '127.0.23.1', awsNodesNet: '127.0.71' });
  stateDir = mkdtempSync(join(tmpdir(), 'hybridctl-state-'));
}, 600_000);

afterAll(async () => {
  await bed?.stop();
});

const config = (service?: string) => bed.config(service);
const up = (cfg: string, ...args: string[]) => runCli(['up', '--state-dir', stateDir, '-c', cfg, ...args], bed.env);

/** kubectl with the kubeconfig hybridctl wrote for the site. */
async function kubectl(site: 'aws' | 'onprem', ...args: string[]): Promise<string> {
  const result = await execa('kubectl', ['--kubeconfig', join(stateDir, `kubeconfig-${site}`), ...args], { reject: false });
  if (result.exitCode !== 0) throw new Error(`kubectl ${args.join(' ')} (${site}): ${result.stderr}`);
  return String(result.stdout);
}

async function getJson(site: 'aws' | 'onprem', ...args: string[]) {
  return JSON.parse(await kubectl(site, ...args, '-o', 'json'));
}

/** resourceVersions of everything the service consists of on a site. */
async function versions(site: 'aws' | 'onprem'): Promise<Record<string, string>> {
  const list = await getJson(site, 'get', 'namespace,serviceaccount,deployment,poddisruptionbudget,service,secret', '-A', '-l', 'hybridctl.dev/cluster=demo');
  return Object.fromEntries(list.items.map((o: any) => [`${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`, o.metadata.resourceVersion]));
}

const writes = (site: 'aws' | 'onprem') => bed.kube[site].adminRequests().filter(isWrite);

describe('the service on both sites', () => {
  it('deploys from empty, waits until ready, and writes a kubeconfig kubectl can use', { timeout: 600_000 }, async () => {
    const result = await up(config());
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('rollout');

    const image = `${bed.registry.host}/team/readings@${bed.digest}`;
    const expectations = { aws: { readings: 2, loadgen: 1, worker: 'aws-worker-1' }, onprem: { readings: 1, loadgen: 0, worker: 'onprem-worker-1' } };
    for (const [site, want] of Object.entries(expectations) as ['aws' | 'onprem', (typeof expectations)['aws']][]) {
      const deployments = Object.fromEntries((await getJson(site, 'get', 'deployments', '-n', NS, '--show-managed-fields')).items.map((d: any) => [d.metadata.name, d]));
      expect(deployments.readings.spec.replicas, site).toBe(want.readings);
      expect(deployments.readings.status.readyReplicas ?? 0, site).toBe(want.readings);
      expect(deployments.loadgen.spec.replicas, site).toBe(want.loadgen);
      expect(deployments.readings.spec.template.spec.containers[0].image).toBe(image);
      expect(deployments.readings.spec.template.spec.imagePullSecrets).toEqual([{ name: 'hybridctl-registry' }]);
      expect(deployments.readings.metadata.labels['hybridctl.dev/cluster']).toBe('demo');
      expect(deployments.readings.metadata.managedFields.filter((f: any) => f.operation === 'Apply').map((f: any) => f.manager)).toEqual(['hybridctl']);

      // Scheduled by the real scheduler onto the worker (control planes keep their taint), and Ready.
      const pods = (await getJson(site, 'get', 'pods', '-n', NS, '-l', 'app.kubernetes.io/name=readings')).items;
      expect(pods).toHaveLength(want.readings);
      for (const pod of pods) {
        expect(pod.spec.nodeName).toBe(want.worker);
        expect(pod.status.conditions.find((c: any) => c.type === 'Ready')?.status).toBe('True');
      }

      const secret = await getJson(site, 'get', 'secret', 'hybridctl-registry', '-n', NS);
      expect(secret.type).toBe('kubernetes.io/dockerconfigjson');
      const auths = JSON.parse(Buffer.from(secret.data['.dockerconfigjson'], 'base64').toString()).auths;
      expect(auths[bed.registry.host].username).toBe(bed.registry.username);
      const service = await getJson(site, 'get', 'service', 'readings', '-n', NS);
      expect(service.spec.ports[0].nodePort).toBe(30080);
    }

    // The merged kubeconfig works as well, one context per site.
    const merged = join(mkdtempSync(join(tmpdir(), 'hybridctl-kc-')), 'kubeconfig');
    expect((await runCli(['kubeconfig', '--out', merged, '--state-dir', stateDir, '-c', config()], bed.env)).code).toBe(0);
    for (const [context, node] of [
      ['admin@demo-aws', 'aws-worker-1'],
      ['admin@demo-onprem', 'onprem-worker-1'],
    ]) {
      const nodes = await execa('kubectl', ['--kubeconfig', merged, '--context', context!, 'get', 'nodes', '-o', 'name']);
      expect(String(nodes.stdout)).toContain(`node/${node}`);
    }
  });

  it('reads what later features need: nodes and their readiness, pods, events', async () => {
    for (const site of ['aws', 'onprem'] as const) {
      const client = new KubeClient(site, readFileSync(join(stateDir, `kubeconfig-${site}`), 'utf8'));
      const nodes = await client.nodes();
      expect(nodes.map((n) => [n.metadata?.name, nodeReady(n)]).sort(), site).toEqual([
        [`${site === 'aws' ? 'aws-controlplane-1' : 'onprem-cp-1'}`, true],
        [`${site === 'aws' ? 'aws-worker-1' : 'onprem-worker-1'}`, true],
      ]);
      const pods = await client.pods(NS, 'app.kubernetes.io/name=readings');
      expect(pods).toHaveLength(site === 'aws' ? 2 : 1);
      const events = await client.events(NS, pods[0]?.metadata?.name ?? '');
      expect(events.map((e) => e.reason), site).toContain('Scheduled');
    }
  });

  it('changes nothing in either cluster on a second up: no writes, resourceVersions unchanged', async () => {
    const before = { aws: await versions('aws'), onprem: await versions('onprem') };
    const writesBefore = { aws: writes('aws').length, onprem: writes('onprem').length };
    const readsBefore = { aws: bed.kube.aws.adminRequests().length, onprem: bed.kube.onprem.adminRequests().length };

    const result = await up(config());
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('nothing to do');
    expect({ aws: writes('aws').length, onprem: writes('onprem').length }).toEqual(writesBefore);
    // A handful of reads per site: one list per object kind (the service's, and monitoring's, which
    // this bed turns off: they are looked for to prune what an earlier config left), the pull
    // secret, the nodes' kubeconfig check.
    for (const site of ['aws', 'onprem'] as const) {
      const reads = bed.kube[site].adminRequests().slice(readsBefore[site]);
      expect(reads.length, `${site}: ${JSON.stringify(reads)}`).toBeLessThanOrEqual(16);
    }
    expect({ aws: await versions('aws'), onprem: await versions('onprem') }).toEqual(before);
  });

  it('rolls out a template change and waits for it', { timeout: 300_000 }, async () => {
    const before = await getJson('aws', 'get', 'deployment', 'loadgen', '-n', NS);
    const readingsBefore = (await versions('aws'))[`Deployment/${NS}/readings`];
    const result = await up(config('  loadgen: { rate: 35 }\n'));
    expect(result.code, result.stdout + result.stderr).toBe(0);

    const after = await getJson('aws', 'get', 'deployment', 'loadgen', '-n', NS);
    expect(after.metadata.generation).toBeGreaterThan(before.metadata.generation);
    expect(after.spec.template.spec.containers[0].args).toContain('35');
    expect(after.status).toMatchObject({ observedGeneration: after.metadata.generation, updatedReplicas: 1, availableReplicas: 1 });
    const sets = (await getJson('aws', 'get', 'replicasets', '-n', NS, '-l', 'app.kubernetes.io/name=loadgen')).items;
    expect(sets).toHaveLength(2);
    expect((await versions('aws'))[`Deployment/${NS}/readings`]).toBe(readingsBefore);
  });

  it('prunes an object dropped from the templates, and only its own', { timeout: 300_000 }, async () => {
    await kubectl('aws', 'create', 'deployment', 'someone-elses', '--image=registry.example/x:1', '-n', NS);
    await kubectl('aws', 'create', 'deployment', 'other-cluster', '--image=registry.example/x:1', '-n', NS);
    await kubectl('aws', 'label', 'deployment', 'other-cluster', '-n', NS, 'hybridctl.dev/cluster=other');

    const plan = JSON.parse((await runCli(['plan', '--state-dir', stateDir, '-o', 'json', '-c', config('  loadgen: { enabled: false }\n')], bed.env)).stdout);
    for (const site of plan.sites) {
      expect(site.changes.map((c: any) => `${c.action} ${c.id}`), site.site).toEqual([`delete Deployment/${NS}/loadgen`]);
    }
    const result = await up(config('  loadgen: { enabled: false }\n'));
    expect(result.code, result.stdout + result.stderr).toBe(0);
    for (const site of ['aws', 'onprem'] as const) {
      const names = (await getJson(site, 'get', 'deployments', '-n', NS)).items.map((d: any) => d.metadata.name).sort();
      expect(names, site).toEqual(site === 'aws' ? ['other-cluster', 'readings', 'someone-elses'] : ['readings']);
    }
  });

  it('does not clobber what others made or changed without --force-conflicts, and names them', { timeout: 300_000 }, async () => {
    const cfg = config('  loadgen: { enabled: false }\n');
    // A Service of the same name that someone else made, and replicas someone else set.
    await kubectl('aws', 'delete', 'service', 'readings', '-n', NS);
    await kubectl('aws', 'create', 'service', 'nodeport', 'readings', '--tcp=80:8080', '--node-port=30081', '-n', NS);
    await kubectl('onprem', 'scale', 'deployment', 'readings', '-n', NS, '--replicas=3');
    // And one that another hybridctl cluster's label claims, on the other site.
    await kubectl('onprem', 'delete', 'service', 'readings', '-n', NS);
    await kubectl('onprem', 'create', 'service', 'nodeport', 'readings', '--tcp=80:8080', '--node-port=30082', '-n', NS);
    await kubectl('onprem', 'label', 'service', 'readings', '-n', NS, 'hybridctl.dev/cluster=other');
    const otherUid = (await getJson('onprem', 'get', 'service', 'readings', '-n', NS)).metadata.uid;

    const refused = await up(cfg);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/aws cluster: Service readings\/readings already exists and hybridctl does not manage it \(field managers: kubectl-create\)/);
    expect(refused.stdout).toMatch(/onprem cluster: Service readings\/readings already exists and belongs to another hybridctl cluster, "other"/);
    expect(await getJson('onprem', 'get', 'service', 'readings', '-n', NS)).toMatchObject({ metadata: { uid: otherUid, labels: { 'hybridctl.dev/cluster': 'other' } }, spec: { ports: [{ nodePort: 30082 }] } });
    expect(refused.stdout).toMatch(/onprem cluster: Deployment readings\/readings: fields are managed by someone else: \.spec\.replicas \(conflict with "kubectl[^"]*"/);
    expect(refused.stdout).toContain('--force-conflicts');
    expect((await getJson('aws', 'get', 'service', 'readings', '-n', NS)).spec.ports[0].nodePort).toBe(30081);
    expect((await getJson('onprem', 'get', 'deployment', 'readings', '-n', NS)).spec.replicas).toBe(3);

    const forced = await up(cfg, '--force-conflicts');
    expect(forced.code, forced.stdout + forced.stderr).toBe(0);
    const service = await getJson('aws', 'get', 'service', 'readings', '-n', NS);
    expect(service.spec.ports[0].nodePort).toBe(30080);
    expect(service.spec.selector).toEqual({ 'app.kubernetes.io/name': 'readings' });
    expect(service.metadata.labels['hybridctl.dev/cluster']).toBe('demo');
    const deployment = await getJson('onprem', 'get', 'deployment', 'readings', '-n', NS);
    expect(deployment.spec.replicas).toBe(1);
    expect(deployment.status.availableReplicas).toBe(1);
    expect((await up(cfg)).stdout).toContain('nothing to do');
  });

  it('replaces a Deployment when the templates change its selector, which cannot change in place', { timeout: 300_000 }, async () => {
    // The Deployment as an older template made it, applied as hybridctl: another selector.
    const live = await getJson('aws', 'get', 'deployment', 'readings', '-n', NS);
    const { uid, resourceVersion, creationTimestamp, generation, managedFields, ...metadata } = live.metadata;
    const old = { 'app.kubernetes.io/name': 'readings-v0' };
    const older = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata,
      spec: { ...live.spec, selector: { matchLabels: old }, template: { ...live.spec.template, metadata: { ...live.spec.template.metadata, labels: old } } },
    };
    await kubectl('aws', 'delete', 'deployment', 'readings', '-n', NS);
    const kubeconfig = join(stateDir, 'kubeconfig-aws');
    await execa('kubectl', ['--kubeconfig', kubeconfig, 'apply', '--server-side', '--field-manager=hybridctl', '-f', '-'], { input: JSON.stringify(older) });

    const result = await up(config('  loadgen: { enabled: false }\n'), '--site', 'aws');
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout, result.stdout).toMatch(/replacing Deployment readings\/readings: field is immutable/);
    const after = await getJson('aws', 'get', 'deployment', 'readings', '-n', NS);
    expect(after.metadata.uid).not.toBe(uid);
    expect(after.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'readings' });
    expect(after.status.availableReplicas).toBe(after.spec.replicas);
  });

  it('names the stuck pods and their last events when a rollout cannot finish, and converges once it can', { timeout: 300_000 }, async () => {
    await kubectl('onprem', 'cordon', 'onprem-worker-1');
    const cfg = config('  loadgen: { enabled: false }\n  standbyReplicas: 2\n  rolloutSeconds: 10\n');
    const stuck = await runCli(['up', '--site', 'onprem', '--state-dir', stateDir, '-c', cfg], bed.env);
    expect(stuck.code, stuck.stdout + stuck.stderr).toBe(1);
    expect(stuck.stdout).toMatch(/onprem cluster: the rollout of readings\/readings did not finish within 10s: 1\/2 available; not ready: readings-[a-z0-9-]+ \(Pending; last event: FailedScheduling: 0\/2 nodes are available/);

    await kubectl('onprem', 'uncordon', 'onprem-worker-1');
    const again = await runCli(['up', '--site', 'onprem', '--state-dir', stateDir, '-c', cfg], bed.env);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect((await getJson('onprem', 'get', 'deployment', 'readings', '-n', NS)).status.availableReplicas).toBe(2);
  });

  it('reports a site whose API is unreachable, by name and endpoint, and still converges the other', { timeout: 300_000 }, async () => {
    await bed.kube.onprem.stop();
    const cfg = config('  loadgen: { enabled: false }\n  standbyReplicas: 2\n  replicas: 3\n');
    const result = await up(cfg);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(new RegExp(`onprem cluster: (list|read) [^:]+: cannot reach the Kubernetes API at https://${bed.onpremCp.replaceAll('.', '\\.')}:6443 \\(ECONNREFUSED\\)`));
    const deployment = await getJson('aws', 'get', 'deployment', 'readings', '-n', NS);
    expect(deployment.spec.replicas).toBe(3);
    expect(deployment.status.availableReplicas).toBe(3);

    const awsOnly = await up(cfg, '--site', 'aws');
    expect(awsOnly.code, awsOnly.stdout + awsOnly.stderr).toBe(0);
    expect(awsOnly.stdout).toContain('nothing to do');
  });
});
