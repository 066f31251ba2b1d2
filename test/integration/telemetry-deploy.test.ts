import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListWorkspacesCommand } from '@aws-sdk/client-amp';
import { GetRolePolicyCommand, GetUserPolicyCommand, ListAccessKeysCommand, ListUsersCommand } from '@aws-sdk/client-iam';
import { execa } from 'execa';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDashboardFiles } from '../../src/grafana/dashboard-files.ts';
import { runCli } from '../support/cli.ts';
import { NO_MONITORING } from '../support/config.ts';
import { type HybridBed, startHybridBed } from '../support/hybrid-bed.ts';
import { clients } from '../support/inventory.ts';
import { isWrite } from '../support/kube.ts';
import { changingCalls } from '../support/moto.ts';
import { SERVICE_BIN } from '../support/service-bin.ts';
import { CA_CERT } from '../support/tls.ts';

/**
 * Monitoring as `up` deploys it onto both sites' real control planes (kwok runs the pods): what
 * each API server holds afterwards, the on-prem shipper's key as IAM (moto) and the Secret hold
 * it, a second run that writes nothing, and the key's rotation.
 */
const NS = 'monitoring';
const USER = 'hybridctl-demo-shipper-onprem';

let bed: HybridBed;
let stateDir: string;

beforeAll(async () => {
  bed = await startHybridBed({ onpremNet: '127.0.42', awsApi: '127.0.43.1', awsNodesNet: '127.0.44' }, { monitoring: true });
  stateDir = mkdtempSync(join(tmpdir(), 'hybridctl-state-'));
}, 600_000);

afterAll(async () => {
  await bed?.stop();
});

const up = () => runCli(['up', '--state-dir', stateDir, '-c', bed.config('  loadgen: { enabled: false }\n')], bed.env);

async function getJson(site: 'aws' | 'onprem', ...args: string[]) {
  const result = await execa('kubectl', ['--kubeconfig', join(stateDir, `kubeconfig-${site}`), ...args, '-o', 'json'], { reject: false });
  if (result.exitCode !== 0) throw new Error(`kubectl ${args.join(' ')} (${site}): ${result.stderr}`);
  return JSON.parse(String(result.stdout));
}

const keysInIam = async () => ((await clients(bed.moto.endpoint).iam.send(new ListAccessKeysCommand({ UserName: USER }))).AccessKeyMetadata ?? []).map((k) => k.AccessKeyId);
const secretKey = async () => {
  const secret = await getJson('onprem', 'get', 'secret', 'shipper-aws-credentials', '-n', NS);
  return { id: Buffer.from(secret.data.AWS_ACCESS_KEY_ID, 'base64').toString(), annotations: secret.metadata.annotations as Record<string, string> };
};

describe('monitoring on both sites', () => {
  it('deploys Prometheus, the exporters and the shipper, each site with its own configuration', { timeout: 600_000 }, async () => {
    const result = await up();
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const bucket = `hctl-demo-telemetry-123456789012-eu-central-1`;
    for (const site of ['aws', 'onprem'] as const) {
      const deployments = Object.fromEntries((await getJson(site, 'get', 'deployments', '-n', NS)).items.map((d: any) => [d.metadata.name, d]));
      // Grafana (monitoring.grafana: incluster) runs on the active site only.
      expect(Object.keys(deployments).sort(), site).toEqual([...(site === 'aws' ? ['grafana'] : []), 'kube-state-metrics', 'prometheus', 'shipper']);
      for (const d of Object.values(deployments) as any[]) expect(d.status.readyReplicas, `${site} ${d.metadata.name}`).toBe(1);
      const daemonSet = await getJson(site, 'get', 'daemonset', 'node-exporter', '-n', NS);
      expect(daemonSet.status.desiredNumberScheduled, site).toBe(2);

      const prometheus = parse((await getJson(site, 'get', 'configmap', 'prometheus-config', '-n', NS)).data['prometheus.yml']);
      expect(prometheus.global.external_labels).toEqual({ cluster: 'demo' });
      // This bed has no VPN, so the on-prem Prometheus has no way to the AWS one (prometheus.test renders it with one).
      expect(prometheus.remote_write, site).toBeUndefined();
      const args: string[] = deployments.prometheus.spec.template.spec.containers[0].args;
      expect(args.includes('--web.enable-remote-write-receiver'), site).toBe(site === 'aws');

      const shipper = deployments.shipper.spec.template.spec;
      expect(shipper.containers[0].image).toBe(`${bed.registry.host}/team/readings@${bed.digest}`);
      expect(shipper.containers[0].command).toEqual(['/shipper']);
      expect(shipper.containers[0].env).toEqual(expect.arrayContaining([{ name: 'SHIPPER_SITE', value: site }, { name: 'SHIPPER_BUCKET', value: bucket }]));
      expect(Boolean(shipper.hostNetwork), site).toBe(site === 'aws');
      expect(shipper.imagePullSecrets).toEqual([{ name: 'hybridctl-registry' }]);
      // The shipper reads the service's logs in its namespace only.
      const role = await getJson(site, 'get', 'role', 'hybridctl-shipper-logs', '-n', 'readings');
      expect(role.rules).toEqual([{ apiGroups: [''], resources: ['pods/log'], verbs: ['get'] }]);
    }
    // On-prem there is no instance role: the shipper's key is in a Secret, and IAM holds that key and no other.
    const key = await secretKey();
    expect(await keysInIam()).toEqual([key.id]);
    expect((await getJson('aws', 'get', 'secrets', '-n', NS, '-l', 'hybridctl.dev/cluster=demo')).items.map((s: any) => s.metadata.name)).toEqual(['grafana-admin', 'hybridctl-registry', 'shipper-talosconfig']);

    // Grafana reads the AWS Prometheus (which holds both sites) and shows the built dashboards.
    const sources = parse((await getJson('aws', 'get', 'configmap', 'grafana-datasources', '-n', NS)).data['hybridctl.yaml']);
    expect(sources.datasources).toEqual([expect.objectContaining({ uid: 'hybridctl-prometheus', type: 'prometheus', url: 'http://prometheus.monitoring.svc:9090', isDefault: true, editable: false })]);
    const boards = (await getJson('aws', 'get', 'configmap', 'grafana-dashboards', '-n', NS)).data;
    // This bed has no VPN: no tunnel to show.
    expect(Object.keys(boards).sort()).toEqual((await readDashboardFiles()).filter((d) => d.uid !== 'hybridctl-vpn').map((d) => `${d.uid}.json`).sort());
    const admin = await getJson('aws', 'get', 'secret', 'grafana-admin', '-n', NS);
    const password = Buffer.from(admin.data.password, 'base64').toString();
    expect(password.length).toBeGreaterThanOrEqual(32);
    expect(result.stdout + result.stderr).not.toContain(password);
    // `grafana open` tells how to get there; its password command, run as printed, reads that password.
    const open = await runCli(['grafana', 'open', '--state-dir', stateDir, '-c', bed.config('  loadgen: { enabled: false }\n'), '-o', 'json'], bed.env);
    expect(open.code, open.stderr).toBe(0);
    const how = JSON.parse(open.stdout) as { mode: string; site: string; portForward: string; password: string };
    expect(how).toMatchObject({ mode: 'incluster', site: 'aws', portForward: expect.stringContaining('port-forward svc/grafana 3000:3000') });
    expect((await execa('sh', ['-c', how.password])).stdout).toBe(password);
    // Nothing of hybridctl's on disk holds it: it lives in the cluster only.
    const files = readdirSync(stateDir, { recursive: true }).map((f) => join(stateDir, String(f))).filter((f) => statSync(f).isFile());
    expect(files.filter((f) => readFileSync(f, 'utf8').includes(password))).toEqual([]);
  });

  it('a second run writes nothing to either API server or to AWS', { timeout: 600_000 }, async () => {
    const before = { aws: bed.kube.aws.adminRequests().length, onprem: bed.kube.onprem.adminRequests().length };
    await bed.moto.record();
    const result = await up();
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout, result.stdout).toMatch(/nothing to do: all \d+ resources match the config/);
    for (const site of ['aws', 'onprem'] as const) expect(bed.kube[site].adminRequests().slice(before[site]).filter(isWrite), site).toEqual([]);
    expect(changingCalls(await bed.moto.calls())).toEqual([]);
  });

  it("gives the shipper a reader's talosconfig, with which it snapshots each node's Talos services and etcd's members", { timeout: 600_000 }, async () => {
    const secret = await getJson('onprem', 'get', 'secret', 'shipper-talosconfig', '-n', NS);
    const talosconfig = Buffer.from(secret.data.config, 'base64').toString();
    const context = Object.values(parse(talosconfig).contexts as Record<string, { crt: string }>)[0]!;
    // The role is os:reader: it reads, and may change nothing.
    expect(new X509Certificate(Buffer.from(context.crt, 'base64').toString()).subject).toContain('O=os:reader');
    const dir = mkdtempSync(join(tmpdir(), 'hybridctl-reader-'));
    writeFileSync(join(dir, 'talosconfig'), talosconfig, { mode: 0o600 });
    writeFileSync(join(dir, 'service.log'), '');
    // The shipper as its pod runs it, here against the bed's on-prem Talos nodes (the fake Talos API, with Talos's own auth and types).
    const shipped = await execa(`${SERVICE_BIN}/shipper`, ['--once'], {
      reject: false,
      env: {
        ...bed.env,
        KUBECONFIG: join(stateDir, 'kubeconfig-onprem'),
        AWS_REGION: 'eu-central-1',
        // moto serves TLS with the test suite's own CA.
        AWS_CA_BUNDLE: CA_CERT,
        SHIPPER_SITE: 'onprem',
        SHIPPER_BUCKET: 'hctl-demo-telemetry-123456789012-eu-central-1',
        SHIPPER_INTERVAL: '15s',
        SHIPPER_LAG: '0s',
        SHIPPER_LISTEN: '',
        SHIPPER_LOG_FILE: join(dir, 'service.log'),
        SHIPPER_SPOOL: join(dir, 'spool'),
        SHIPPER_TALOSCONFIG: join(dir, 'talosconfig'),
        SHIPPER_TALOS_NODES: `${bed.onpremCp}=controlplane,127.0.42.21=worker`,
      },
    });
    expect(shipped.exitCode, shipped.stdout + shipped.stderr).toBe(0);
    expect(shipped.stdout).not.toContain('talos snapshot incomplete');
    const query = await runCli(['data', 'query', '-c', bed.config(), '-o', 'json', "SELECT kind, name, status, ready, detail FROM states WHERE kind IN ('TalosMachine', 'TalosService', 'EtcdMember') ORDER BY kind, name"], {
      ...bed.env,
      HYBRIDCTL_CACHE_DIR: join(dir, 'cache'),
    });
    expect(query.code, query.stderr).toBe(0);
    const rows = JSON.parse(query.stdout) as { kind: string; name: string; status: string; ready: boolean | null; detail: string }[];
    const machines = rows.filter((r) => r.kind === 'TalosMachine');
    expect(machines.map((r) => [r.name, r.status, r.ready])).toEqual([
      [bed.onpremCp, 'running', true],
      ['127.0.42.21', 'running', true],
    ]);
    expect(machines.map((r) => JSON.parse(r.detail).role)).toEqual(['controlplane', 'worker']);
    const services = rows.filter((r) => r.kind === 'TalosService');
    expect(services.map((r) => r.name.split('/')[0])).toEqual(expect.arrayContaining([bed.onpremCp, '127.0.42.21']));
    expect(services.length).toBeGreaterThan(2);
    expect(rows.filter((r) => r.kind === 'EtcdMember').length).toBeGreaterThanOrEqual(1);
  });

  it('rotates the on-prem key once it is older than 30 days, and deletes the old one', { timeout: 600_000 }, async () => {
    const old = await secretKey();
    const aged = new Date(Date.now() - 31 * 86_400_000).toISOString();
    const annotate = await execa('kubectl', ['--kubeconfig', join(stateDir, 'kubeconfig-onprem'), 'annotate', '--overwrite', '-n', NS, 'secret', 'shipper-aws-credentials', `hybridctl.dev/created-at=${aged}`], { reject: false });
    expect(annotate.exitCode, annotate.stderr).toBe(0);
    const result = await up();
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('shipper-credentials');
    const fresh = await secretKey();
    expect(fresh.id).not.toBe(old.id);
    expect(await keysInIam()).toEqual([fresh.id]);
    // The pods that read the key rolled over to it: their template names it.
    const shipper = await getJson('onprem', 'get', 'deployment', 'shipper', '-n', NS);
    expect(shipper.spec.template.metadata.annotations['hybridctl.dev/aws-access-key-id']).toBe(fresh.id);
    expect(shipper.status.updatedReplicas).toBe(1);
    // The secret part is never printed.
    expect(result.stdout + result.stderr).not.toContain(fresh.id.slice(4));
  });

  it('with managedPrometheus, makes the workspace and has both sites write into it with SigV4; without, removes it', { timeout: 600_000 }, async () => {
    const config = bed.config('  loadgen: { enabled: false }\n');
    writeFileSync(config, readFileSync(config, 'utf8').replace('managedPrometheus: false', 'managedPrometheus: true '));
    const result = await runCli(['up', '--state-dir', stateDir, '-c', config], bed.env);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const aws = clients(bed.moto.endpoint);
    const workspaces = (await aws.amp.send(new ListWorkspacesCommand({}))).workspaces ?? [];
    expect(workspaces.map((w) => w.tags?.['hybridctl.dev/cluster'])).toEqual(['demo']);
    const workspace = workspaces[0]!;
    const endpoint = `https://aps-workspaces.eu-central-1.amazonaws.com/workspaces/${workspace.workspaceId}/`;
    // Exactly aps:RemoteWrite on this workspace, for the node role (AWS) and the on-prem user.
    const grant = [{ Sid: 'RemoteWriteMetrics', Effect: 'Allow', Action: 'aps:RemoteWrite', Resource: workspace.arn }];
    const rolePolicy = await aws.iam.send(new GetRolePolicyCommand({ RoleName: 'hybridctl-demo-node', PolicyName: 'prometheus-remote-write' }));
    expect(JSON.parse(decodeURIComponent(rolePolicy.PolicyDocument ?? '')).Statement).toEqual(grant);
    const userPolicy = await aws.iam.send(new GetUserPolicyCommand({ UserName: USER, PolicyName: 'prometheus-remote-write' }));
    expect(JSON.parse(decodeURIComponent(userPolicy.PolicyDocument ?? '')).Statement).toEqual(grant);
    for (const site of ['aws', 'onprem'] as const) {
      const prometheus = parse((await getJson(site, 'get', 'configmap', 'prometheus-config', '-n', NS)).data['prometheus.yml']);
      expect(prometheus.remote_write, site).toEqual([{ url: `${endpoint}api/v1/remote_write`, sigv4: { region: 'eu-central-1' }, queue_config: { max_samples_per_send: 2000 } }]);
      const pod = (await getJson(site, 'get', 'deployment', 'prometheus', '-n', NS)).spec.template.spec;
      expect(pod.containers[0].args, site).not.toContain('--web.enable-remote-write-receiver');
      if (site === 'aws') expect(pod.hostNetwork).toBe(true);
      else expect(pod.containers[0].envFrom).toEqual([{ secretRef: { name: 'shipper-aws-credentials' } }]);
    }
    // Grafana on the active site queries the workspace, signed with the node role, which may do exactly that.
    const sources = parse((await getJson('aws', 'get', 'configmap', 'grafana-datasources', '-n', NS)).data['hybridctl.yaml']);
    expect(sources.datasources[0]).toMatchObject({ url: endpoint.replace(/\/$/, ''), jsonData: { sigV4Auth: true, sigV4AuthType: 'default', sigV4Region: 'eu-central-1' } });
    expect((await getJson('aws', 'get', 'deployment', 'grafana', '-n', NS)).spec.template.spec.hostNetwork).toBe(true);
    // Either site's credentials may: Grafana follows the traffic.
    const queryGrant = [{ Sid: 'QueryMetrics', Effect: 'Allow', Action: ['aps:QueryMetrics', 'aps:GetSeries', 'aps:GetLabels', 'aps:GetMetricMetadata'], Resource: workspace.arn }];
    const query = await aws.iam.send(new GetRolePolicyCommand({ RoleName: 'hybridctl-demo-node', PolicyName: 'prometheus-query' }));
    expect(JSON.parse(decodeURIComponent(query.PolicyDocument ?? '')).Statement).toEqual(queryGrant);
    const userQuery = await aws.iam.send(new GetUserPolicyCommand({ UserName: USER, PolicyName: 'prometheus-query' }));
    expect(JSON.parse(decodeURIComponent(userQuery.PolicyDocument ?? '')).Statement).toEqual(queryGrant);

    const back = await up();
    expect(back.code, back.stdout + back.stderr).toBe(0);
    expect((await aws.amp.send(new ListWorkspacesCommand({}))).workspaces ?? []).toEqual([]);
    await expect(aws.iam.send(new GetRolePolicyCommand({ RoleName: 'hybridctl-demo-node', PolicyName: 'prometheus-remote-write' }))).rejects.toThrow();
    await expect(aws.iam.send(new GetRolePolicyCommand({ RoleName: 'hybridctl-demo-node', PolicyName: 'prometheus-query' }))).rejects.toThrow();
  });

  it('with monitoring turned off, removes it from both sites, cluster-wide roles included, and the on-prem user', { timeout: 600_000 }, async () => {
    const config = bed.config('  loadgen: { enabled: false }\n');
    writeFileSync(config, readFileSync(config, 'utf8').replace(NO_MONITORING[0], NO_MONITORING[1]));
    const result = await runCli(['up', '--state-dir', stateDir, '-c', config], bed.env);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    for (const site of ['aws', 'onprem'] as const) {
      const roles = (await getJson(site, 'get', 'clusterroles,clusterrolebindings', '-l', 'hybridctl.dev/cluster=demo')).items;
      expect(roles.map((r: any) => r.metadata.name), site).toEqual([]);
      expect((await getJson(site, 'get', 'roles,rolebindings', '-n', 'readings', '-l', 'hybridctl.dev/cluster=demo')).items, site).toEqual([]);
      const namespaces = (await getJson(site, 'get', 'namespaces', '-l', 'hybridctl.dev/cluster=demo')).items.filter((n: any) => n.status.phase !== 'Terminating');
      expect(namespaces.map((n: any) => n.metadata.name), site).toEqual(['readings']);
    }
    const users = (await clients(bed.moto.endpoint).iam.send(new ListUsersCommand({ PathPrefix: '/hybridctl/demo/' }))).Users ?? [];
    expect(users).toEqual([]);
  });
});
