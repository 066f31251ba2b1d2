import { CreateSubnetCommand, CreateVpcCommand } from '@aws-sdk/client-ec2';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DeregisterTargetsCommand,
  DescribeTargetHealthCommand,
  ModifyListenerCommand,
  ModifyTargetGroupAttributesCommand,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { ChildProcess } from 'node:child_process';
import { get } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ResultPromise, execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Clients, clients } from '../support/inventory.ts';
import { type LbStandin, startLbStandin } from '../support/lb-standin.ts';
import { HARNESS_KEY, type Moto, startMoto } from '../support/moto.ts';
import { Netns } from '../support/netns.ts';
import { diesWithTests } from '../support/process.ts';
import { buildServiceBinaries } from '../support/service-bin.ts';

/**
 * The load balancer's stand-in itself (test/support/lb-standin.ts): HAProxy in a namespace
 * (`entry`, the NLB's public address 203.0.113.80) in front of two sites, each two real readings
 * processes: site A (the VPC, 10.0.1.10/.11, SITE=aws) and site B (on-prem, 192.168.77.21/.22,
 * SITE=onprem), configured only through moto's ELBv2 API as hybridctl would.
 */
const PUBLIC = '203.0.113.80';
const ENTRY = '10.0.255.250';
const SITE_A = ['10.0.1.10', '10.0.1.11'];
const SITE_B = ['192.168.77.21', '192.168.77.22'];
const PORT = 30080;
const INTERVAL_MS = 500;
const run = await Netns.available();

let net: Netns | undefined;
let moto: Moto | undefined;
let lb: LbStandin | undefined;
let loadgen: ResultPromise | undefined;
let aws: Clients;
let bin: string;
const ns = { entry: '', a: '', b: '' };
const readings = new Map<string, ChildProcess>();
const arn = { lb: '', listener: '', a: '', b: '' };

function startReadings(where: string, address: string, site: string) {
  readings.get(address)?.kill('SIGKILL');
  readings.set(address, (net as Netns).spawn(where, `${bin}/readings`, [], { SITE: site, NODE_NAME: `${site}-${address}`, LISTEN_ADDR: `${address}:${PORT}`, DRAIN_DELAY: '0s' }));
}

async function health(group: string): Promise<Record<string, string>> {
  const found = await aws.elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: group }));
  return Object.fromEntries((found.TargetHealthDescriptions ?? []).map((d) => [d.Target?.Id ?? '', d.TargetHealth?.State ?? '']));
}

/** Waits until every listed target of the group reports `state`; the milliseconds it took. */
async function waitForHealth(group: string, targets: string[], state: string, ms: number): Promise<number> {
  const started = performance.now();
  let last: Record<string, string> = {};
  while (performance.now() - started < ms) {
    last = await health(group);
    if (targets.every((t) => last[t] === state)) return Math.round(performance.now() - started);
    await sleep(50);
  }
  throw new Error(`targets not ${state} after ${ms} ms: ${JSON.stringify(last)}\n${lb?.events.join('\n')}`);
}

beforeAll(async () => {
  if (!run) return;
  bin = await buildServiceBinaries();
  net = new Netns();
  ns.entry = await net.add('entry');
  ns.a = await net.add('sitea');
  ns.b = await net.add('siteb');
  // The internet (the root namespace) to the load balancer's public address.
  await net.link({ address: '203.0.113.1/32', peer: PUBLIC }, { ns: ns.entry, address: `${PUBLIC}/32`, peer: '203.0.113.1' });
  // The load balancer's inside address to each site: the VPC's subnet, and on-prem (over the VPN in the real thing).
  for (const [site, addresses, cidr] of [[ns.a, SITE_A, '10.0.1.0/24'], [ns.b, SITE_B, '192.168.77.0/24']] as const) {
    const ends = await net.link({ ns: ns.entry, address: `${ENTRY}/32`, peer: cidr }, { ns: site, address: `${addresses[0]}/32`, peer: ENTRY });
    await net.run(site, 'ip', ['addr', 'add', `${addresses[1]}/32`, 'dev', ends.b]);
  }
  for (const address of SITE_A) startReadings(ns.a, address, 'aws');
  for (const address of SITE_B) startReadings(ns.b, address, 'onprem');

  moto = await startMoto();
  aws = clients(moto.endpoint, 'eu-central-1', HARNESS_KEY);
  const vpc = (await aws.ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }))).Vpc?.VpcId;
  const subnet = (await aws.ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: '10.0.1.0/24', AvailabilityZone: 'eu-central-1a' }))).Subnet?.SubnetId;
  const balancer = await aws.elb.send(new CreateLoadBalancerCommand({ Name: 'entry', Type: 'network', Scheme: 'internet-facing', Subnets: [subnet as string] }));
  arn.lb = balancer.LoadBalancers?.[0]?.LoadBalancerArn as string;
  for (const [key, name, addresses, zone] of [['a', 'site-a', SITE_A, undefined], ['b', 'site-b', SITE_B, 'all']] as const) {
    const group = await aws.elb.send(
      new CreateTargetGroupCommand({
        Name: name,
        Protocol: 'TCP',
        Port: PORT,
        VpcId: vpc,
        TargetType: 'ip',
        HealthCheckProtocol: 'HTTP',
        HealthCheckPath: '/readyz',
        HealthCheckIntervalSeconds: 10,
        HealthyThresholdCount: 2,
        UnhealthyThresholdCount: 2,
      }),
    );
    arn[key] = group.TargetGroups?.[0]?.TargetGroupArn as string;
    await aws.elb.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: arn[key], Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '2' }] }));
    await aws.elb.send(new RegisterTargetsCommand({ TargetGroupArn: arn[key], Targets: addresses.map((Id) => ({ Id, ...(zone ? { AvailabilityZone: zone } : {}) })) }));
  }
  const listener = await aws.elb.send(new CreateListenerCommand({ LoadBalancerArn: arn.lb, Protocol: 'TCP', Port: 80, DefaultActions: [{ Type: 'forward', TargetGroupArn: arn.a }] }));
  arn.listener = listener.Listeners?.[0]?.ListenerArn as string;

  lb = await startLbStandin({
    endpoint: moto.endpoint,
    loadBalancerArn: arn.lb,
    listenerPort: 80,
    netns: ns.entry,
    bind: PUBLIC,
    port: 80,
    // moto attaches a group to the load balancer only when a listener is created with it: site B is named here.
    targetGroupArns: [arn.a, arn.b],
    checkIntervalMs: INTERVAL_MS,
  });
  await waitForHealth(arn.a, SITE_A, 'healthy', 20_000);
  await waitForHealth(arn.b, SITE_B, 'healthy', 20_000);
});

afterAll(async () => {
  if (loadgen?.pid) loadgen.kill('SIGKILL');
  if (lb) console.log(`load balancer stand-in:\n${lb.events.join('\n')}`);
  await lb?.stop().catch(() => undefined);
  await moto?.stop().catch(() => undefined);
  await net?.destroy();
});

/** GETs on a new connection each (as new clients would), every 40 ms until stopped: who answered, by start time. */
function sampleNewConnections(url: string) {
  const samples: { at: number; site?: string; error?: string }[] = [];
  let stopped = false;
  const one = (at: number) =>
    new Promise<void>((resolve) => {
      const req = get(`${url}/healthz`, { agent: false, timeout: 5000 }, (res) => {
        res.resume();
        res.on('end', () => {
          samples.push({ at, site: String(res.headers['x-site'] ?? ''), ...(res.statusCode === 200 ? {} : { error: `status ${res.statusCode}` }) });
          resolve();
        });
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (error) => {
        samples.push({ at, error: error.message });
        resolve();
      });
    });
  const pending: Promise<void>[] = [];
  const loop = (async () => {
    while (!stopped) {
      pending.push(one(performance.now()));
      await sleep(40);
    }
  })();
  return {
    samples,
    async stop() {
      stopped = true;
      await loop;
      await Promise.all(pending);
      return samples.sort((x, y) => x.at - y.at);
    },
  };
}

/** Requests each readings process answered, other than health checks and metrics. */
async function served(where: string, address: string): Promise<number> {
  const text = await (net as Netns).run(where, 'curl', ['-s', `http://${address}:${PORT}/metrics`]);
  return text
    .split('\n')
    .filter((l) => l.startsWith('http_requests_total{') && !/route="\/(readyz|metrics)"/.test(l))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

describe.runIf(run)('the load balancer stand-in', () => {
  it('sends new connections to the group the listener forwards to, and no request fails across two switches', async () => {
    const stand = lb as LbStandin;
    const before = { a: await Promise.all(SITE_A.map((a) => served(ns.a, a))), b: await Promise.all(SITE_B.map((a) => served(ns.b, a))) };
    loadgen = execa(...diesWithTests(`${bin}/loadgen`, []), {
      env: { TARGET: stand.url, RATE: '50', CONCURRENCY: '4', DURATION: '0', INVALID_RATIO: '0', REPORT_EVERY: '1h' },
      reject: false,
      stdin: 'ignore',
    });
    const sampler = sampleNewConnections(stand.url);
    await sleep(2000);
    await aws.elb.send(new ModifyListenerCommand({ ListenerArn: arn.listener, DefaultActions: [{ Type: 'forward', TargetGroupArn: arn.b }] }));
    await stand.sync();
    const toB = performance.now();
    await sleep(3000);
    // From here the stand-in may switch back at any moment of the next sync.
    const leaveB = performance.now();
    await aws.elb.send(new ModifyListenerCommand({ ListenerArn: arn.listener, DefaultActions: [{ Type: 'forward', TargetGroupArn: arn.a }] }));
    await stand.sync();
    const toA = performance.now();
    await sleep(2000);
    const samples = await sampler.stop();
    process.kill(loadgen.pid as number, 'SIGTERM');
    const report = JSON.parse(String((await loadgen).stdout).trim().split('\n').pop() ?? '{}');
    const after = { a: await Promise.all(SITE_A.map((a) => served(ns.a, a))), b: await Promise.all(SITE_B.map((a) => served(ns.b, a))) };
    const sites = (from: number, to: number) => [...new Set(samples.filter((s) => s.at >= from && s.at < to).map((s) => s.site ?? s.error))];
    console.log(
      `loadgen: ${report.requests} requests, ${report.errors} errors, ${report.unexpected} unexpected; ` +
        `served by site A ${after.a.map((n, i) => n - (before.a[i] ?? 0))}, site B ${after.b.map((n, i) => n - (before.b[i] ?? 0))}; ` +
        `new connections: ${samples.length}, ${samples.filter((s) => s.error).length} failed, ` +
        `site B after the switch ${samples.filter((s) => s.at >= toB && s.at < toA && s.site === 'onprem').length}`,
    );

    expect(report.requests).toBeGreaterThan(300);
    expect(report.errors).toBe(0);
    expect(report.unexpected).toBe(0);
    expect(samples.filter((s) => s.error)).toEqual([]);
    // Once the stand-in has synced, every new connection reaches the group the listener names.
    expect(sites(0, toB - 1000)).toEqual(['aws']);
    expect(sites(toB, leaveB)).toEqual(['onprem']);
    expect(sites(toA, Number.POSITIVE_INFINITY)).toEqual(['aws']);
    // Every process of both sites answered. (The load generator's own keep-alive connections stay
    // where they were opened, on site A, as a load balancer's existing flows do: the log line above tells.)
    for (const [i, n] of after.a.entries()) expect(n - (before.a[i] ?? 0), `site A ${SITE_A[i]}`).toBeGreaterThan(0);
    for (const [i, n] of after.b.entries()) expect(n - (before.b[i] ?? 0), `site B ${SITE_B[i]}`).toBeGreaterThan(0);
  });

  it('reports the health its checks measure in DescribeTargetHealth', async () => {
    for (const address of SITE_A) readings.get(address)?.kill('SIGKILL');
    const down = await waitForHealth(arn.a, SITE_A, 'unhealthy', 10 * INTERVAL_MS);
    const found = await aws.elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn.a }));
    expect(found.TargetHealthDescriptions?.[0]?.TargetHealth).toMatchObject({ State: 'unhealthy', Reason: 'Target.FailedHealthChecks' });
    expect(await health(arn.b)).toEqual(Object.fromEntries(SITE_B.map((t) => [t, 'healthy'])));

    for (const address of SITE_A) startReadings(ns.a, address, 'aws');
    const up = await waitForHealth(arn.a, SITE_A, 'healthy', 10 * INTERVAL_MS);
    console.log(`site A unhealthy ${down} ms after its processes were killed, healthy ${up} ms after they restarted (checks every ${INTERVAL_MS} ms, fall 2, rise 2)`);
    // Two failed checks (~1 s), a sync (~200 ms) before moto hears, and room for a busy machine.
    expect(down).toBeLessThan(5 * INTERVAL_MS);
  });

  it('drains a deregistered target for the deregistration delay, then lets it go', async () => {
    const stand = lb as LbStandin;
    await aws.elb.send(new DeregisterTargetsCommand({ TargetGroupArn: arn.b, Targets: [{ Id: SITE_B[1] as string }] }));
    await stand.sync();
    expect(stand.events).toContainEqual(expect.stringMatching(/192\.168\.77\.22:30080 \(site-b\) deregistered: draining for 2 s$/));
    expect(Object.keys(await health(arn.b))).toEqual([SITE_B[0]]);
    await sleep(2200);
    await stand.sync();
    expect(stand.events).toContainEqual(expect.stringMatching(/192\.168\.77\.22:30080 \(site-b\) left t\d+$/));
  });
});
