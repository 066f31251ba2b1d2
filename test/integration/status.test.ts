import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config/load.ts';
import { toYaml } from '../../src/core/yaml.ts';
import type { StatusFrame } from '../../src/status/model.ts';
import { siteLabel } from '../../src/telemetry/prometheus-config.ts';
import { ruleGroups } from '../../src/telemetry/rules.ts';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { runCli } from '../support/cli.ts';
import { clients } from '../support/inventory.ts';
import { EXAMPLE } from '../support/config.ts';
import { type HybridBed, startHybridBed } from '../support/hybrid-bed.ts';
import { isWrite } from '../support/kube.ts';
import { changingCalls } from '../support/moto.ts';
import { Netns } from '../support/netns.ts';
import { CLI } from '../support/paths.ts';
import { SERVICE_BIN } from '../support/service-bin.ts';

/**
 * `hybridctl status` against both sites of the hybrid bed after a real `up`: the Talos test
 * server's nodes, the two Kubernetes control planes, moto, and a real Prometheus (Debian's, with
 * the rendered rules) scraping the readings service under the load generator, which the AWS
 * cluster's `monitoring/prometheus` Service reaches: kwok's pods have no network, so the pod `up`
 * deployed is given that Prometheus's address, in a network namespace this test makes (the API
 * server proxies only to a pod's address, never to loopback). The live view runs in tmux and is
 * read as a person sees it.
 */
const PROM = { root: '10.231.0.1', ns: '10.231.0.2' };
const run = await Netns.available();

let bed: HybridBed;
let stateDir: string;
let config: string;
let net: Netns;
const session = `hybridctl-status-${process.pid}`;

/** A tmux server of this test's own, so neither a user's server nor its environment is involved. */
const tmux = (...args: string[]) => execa('tmux', ['-L', session, ...args], { reject: false });
const screen = async () => String((await tmux('capture-pane', '-p', '-t', session)).stdout);
/** The time in the live view's title line. */
const clockOf = (text: string) => /· (\d\d:\d\d:\d\d)Z ·/.exec(text)?.[1];

async function waitForScreen(test: (text: string) => boolean, ms: number, what: string): Promise<string> {
  const deadline = Date.now() + ms;
  let text = '';
  while (Date.now() < deadline) {
    text = await screen();
    if (test(text)) return text;
    await sleep(300);
  }
  throw new Error(`the screen never showed ${what}:\n${text}`);
}

/** A real Prometheus for the AWS site, with the service under load beside it, in a namespace of its own. */
async function startPrometheus(dir: string): Promise<void> {
  net = new Netns();
  const ns = await net.add('prom');
  await net.link({ address: `${PROM.root}/30` }, { ns, address: `${PROM.ns}/30` });
  net.spawn(ns, `${SERVICE_BIN}/readings`, [], { SITE: 'aws', NODE_NAME: 'status-worker', LISTEN_ADDR: `${PROM.ns}:8080`, DRAIN_DELAY: '0s' });
  net.spawn(ns, `${SERVICE_BIN}/loadgen`, [], { TARGET: `http://${PROM.ns}:8080`, RATE: '20', CONCURRENCY: '4', DURATION: '0', INVALID_RATIO: '0', REPORT_EVERY: '1h' });
  const parsed = parseConfig(EXAMPLE);
  writeFileSync(join(dir, 'rules.yaml'), toYaml({ groups: ruleGroups(parsed) }));
  writeFileSync(
    join(dir, 'prometheus.yml'),
    toYaml({
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: [join(dir, 'rules.yaml')],
      scrape_configs: [{ job_name: 'readings', static_configs: [{ targets: [`${PROM.ns}:8080`] }], relabel_configs: [siteLabel('aws')] }],
    }),
  );
  net.spawn(ns, 'prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'prom-data')}`, `--web.listen-address=${PROM.ns}:9090`]);
  // The Prometheus pod `up` deployed gets that Prometheus's address, as its CNI would give it one:
  // its Service's endpoints follow, and the API server proxies to a pod's address only.
  const kubectl = (...args: string[]) => execa('kubectl', ['--kubeconfig', join(stateDir, 'kubeconfig-aws'), '-n', 'monitoring', ...args]);
  const pod = String((await kubectl('get', 'pods', '-l', 'app.kubernetes.io/name=prometheus', '-o', 'name')).stdout).trim();
  await kubectl('patch', pod, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { podIP: PROM.ns, podIPs: [{ ip: PROM.ns }] } }));
  // The rules need a minute of samples for their rates to settle; two windows of 1 s scrapes suffice to have some.
  for (let i = 0; i < 60; i++) {
    const answer = await fetch(`http://${PROM.ns}:9090/api/v1/query?query=job:http_requests:rate1m`).then((r) => r.json() as Promise<{ data?: { result?: unknown[] } }>, () => undefined);
    if ((answer?.data?.result ?? []).length > 0) return;
    await sleep(1000);
  }
  throw new Error('the test Prometheus recorded no request rate');
}

/**
 * The bed's AWS Kubernetes nodes exist before `up` makes the instances, so they report the bed's
 * loopback address; as the kubelet on each instance would, they are given their instance's
 * private address (through which the load balancer reaches the instance's Talos API).
 */
async function giveAwsNodesTheirAddresses(): Promise<void> {
  const reservations = (await clients(bed.moto.endpoint).ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'instance-state-name', Values: ['running'] }] }))).Reservations ?? [];
  for (const instance of reservations.flatMap((r) => r.Instances ?? [])) {
    const component = instance.Tags?.find((t) => t.Key === 'hybridctl.dev/component')?.Value ?? '';
    const node = `aws-${component}`;
    const patch = { status: { addresses: [{ type: 'InternalIP', address: instance.PrivateIpAddress }, { type: 'Hostname', address: node }] } };
    await execa('kubectl', ['--kubeconfig', join(stateDir, 'kubeconfig-aws'), 'patch', 'node', node, '--subresource=status', '--type=merge', '-p', JSON.stringify(patch)], { reject: false });
  }
}

describe.runIf(run)('hybridctl status against both sites', () => {
  beforeAll(async () => {
    bed = await startHybridBed({ onpremNet: '127.0.52', awsApi: '127.0.53.1', awsNodesNet: '127.0.54' }, { monitoring: true });
    stateDir = mkdtempSync(join(tmpdir(), 'hybridctl-status-'));
    config = bed.config('  loadgen: { enabled: false }\n');
    const up = await runCli(['up', '--state-dir', stateDir, '-c', config], bed.env);
    expect(up.code, up.stdout + up.stderr).toBe(0);
    await giveAwsNodesTheirAddresses();
    await startPrometheus(stateDir);
  }, 600_000);

  afterAll(async () => {
    await tmux('kill-server');
    await net?.destroy();
    await bed?.stop();
  });

  it('--once prints one plain frame of both sites and exits 0 when all is healthy; it writes nothing anywhere', { timeout: 120_000 }, async () => {
    const before = { aws: bed.kube.aws.adminRequests().length, onprem: bed.kube.onprem.adminRequests().length };
    await bed.moto.record();
    const once = await runCli(['status', '--once', '--state-dir', stateDir, '-c', config], { ...bed.env, COLUMNS: '120' });
    expect(once.code, once.stdout + once.stderr).toBe(0);
    const text = once.stdout;
    expect(text).not.toMatch(/\u001b\[/);
    expect(text).toContain('all healthy');
    for (const node of ['onprem-cp-1', 'onprem-worker-1']) expect(text).toMatch(new RegExp(`${node} Ready running svc \\d+/\\d+`));
    expect(text).toMatch(/cp onprem-cp-1 Ready running svc \d+\/\d+ etcd ✓/);
    // The AWS nodes' Talos API answers through the load balancer.
    expect(text).toMatch(/cp aws-controlplane-1 Ready running svc \d+\/\d+ etcd ✓/);
    expect(text).toMatch(/wk aws-worker-1 Ready running/);
    expect(text).toMatch(/▶ aws \(active\): 2\/2 ready/);
    expect(text).toMatch(/aws +targets - (\d+\.\d) req\/s err 0\.0 % p99 \d+ ms [▁▂▃▄▅▆▇█]+/);
    expect(text).toContain('not set up: the VPN is turned off');
    // Reads only: no write to either API server, no changing call to AWS.
    for (const site of ['aws', 'onprem'] as const) {
      const requests = bed.kube[site].adminRequests().slice(before[site]);
      expect(requests.length, site).toBeGreaterThan(0);
      expect(requests.filter(isWrite), site).toEqual([]);
    }
    expect(changingCalls(await bed.moto.calls())).toEqual([]);
  });

  it('-o json gives the same data, and exits 0', { timeout: 120_000 }, async () => {
    const json = await runCli(['status', '-o', 'json', '--state-dir', stateDir, '-c', config], bed.env);
    expect(json.code, json.stderr).toBe(0);
    const frame = JSON.parse(json.stdout) as StatusFrame & { healthy: boolean; problems: string[] };
    expect(frame).toMatchObject({ cluster: 'demo', healthy: true, problems: [] });
    expect(frame.sites.onprem.value?.nodes.map((n) => [n.name, n.role, n.ready, n.stage])).toEqual([
      ['onprem-cp-1', 'controlplane', true, 'running'],
      ['onprem-worker-1', 'worker', true, 'running'],
    ]);
    expect(frame.sites.aws.value?.nodes.length).toBeGreaterThanOrEqual(2);
    expect(frame.traffic.value?.rate.aws).toBeGreaterThan(0.5);
    expect(frame.traffic.value?.history.aws?.length).toBeGreaterThan(0);
    expect(frame.service.value).toMatchObject({ active: 'aws', sites: { aws: { ready: 2, desired: 2 }, onprem: { desired: 1 } } });
    expect(frame.data.value?.bucket).toBe('hctl-demo-telemetry-123456789012-eu-central-1');
    expect(frame.vpn.unset).toMatch(/VPN is turned off/);
    if (process.env.HYBRIDCTL_WRITE_STATUS_FIXTURE) writeFileSync(process.env.HYBRIDCTL_WRITE_STATUS_FIXTURE, `${JSON.stringify(frame, null, 2)}\n`);
  });

  it('without a terminal prints a plain frame every interval until stopped, listing the lake once', { timeout: 60_000 }, async () => {
    const lakeListings = async () => (await bed.moto.calls()).filter((c) => c.operation === 'ListObjectsV2').length;
    await bed.moto.record();
    await runCli(['status', '--once', '--state-dir', stateDir, '-c', config], bed.env);
    const oneListing = await lakeListings();
    await bed.moto.record();
    const child = execa(process.execPath, [CLI, 'status', '--interval', '1', '--state-dir', stateDir, '-c', config], { env: bed.env, extendEnv: false, reject: false, stdin: 'ignore' });
    await sleep(4_500);
    child.kill('SIGTERM');
    const result = await child;
    expect(result.exitCode, result.stderr).toBe(0);
    expect(String(result.stdout).match(/hybridctl status · cluster demo/g)?.length).toBeGreaterThanOrEqual(2);
    expect(result.stdout).not.toMatch(/\u001b\[/);
    // The lake changes once per shipping interval: its listing serves a minute of refreshes.
    expect(oneListing).toBeGreaterThan(0);
    expect(await lakeListings()).toBe(oneListing);
  });

  it('runs live in a terminal; a site whose API stops turns to an error while the other keeps refreshing; q exits and restores the screen', { timeout: 240_000 }, async () => {
    // CI set, as on a CI runner (or a shell some tool marked so): a terminal still gets the live view.
    const env = Object.entries({ ...bed.env, TERM: 'xterm-256color', CI: 'true' })
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}='${v}'`)
      .join(' ');
    await tmux('new-session', '-d', '-s', session, '-x', '120', '-y', '60', 'bash --norc --noprofile');
    await tmux('send-keys', '-t', session, `echo before-status; env ${env} ${process.execPath} ${CLI} status --interval 2 --state-dir ${stateDir} -c ${config}; echo exit=$?`, 'Enter');
    const first = await waitForScreen((t) => /aws-controlplane-1 Ready running/.test(t) && t.includes('onprem-worker-1') && /req\/s/.test(t), 60_000, 'both sites');
    expect(first).not.toContain('before-status');
    expect(first).toContain('q quit');
    // Each AWS node's Talos connection (through the load balancer) stays open from one refresh to the next.
    const talosTunnels = () => bed.proxy.connects.filter((c) => c.endsWith(':50000')).length;
    const tunnelsBefore = talosTunnels();
    await sleep(6_500);
    expect(clockOf(await screen())).not.toBe(clockOf(first));
    expect(talosTunnels()).toBe(tunnelsBefore);

    await bed.kube.onprem.stop();
    const broken = await waitForScreen((t) => /on-prem site[\s\S]*error: [\s\S]*last good: \d\d:\d\d:\d\dZ/.test(t), 60_000, 'the on-prem site as an error');
    await sleep(4_500);
    const later = await screen();
    // The AWS site still answers and is still shown; the frame is newer than the one with the error.
    expect(later).toMatch(/AWS site[\s\S]*Ready running/);
    expect(clockOf(later)).not.toBe(clockOf(broken));

    await tmux('send-keys', '-t', session, 'q');
    const after = await waitForScreen((t) => t.includes('exit=0'), 20_000, 'the command ending');
    expect(after).toContain('before-status');
    expect(after).not.toContain('AWS site');
  });
});
