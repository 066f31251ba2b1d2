import { DescribeLoadBalancersCommand, DescribeTargetGroupsCommand, DescribeTargetHealthCommand, type TargetGroup } from '@aws-sdk/client-elastic-load-balancing-v2';
import { CreateHostedZoneCommand } from '@aws-sdk/client-route-53';
import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import { runCli } from './cli.ts';
import { type Clients, clients } from './inventory.ts';
import { type LbStandin, startLbStandin } from './lb-standin.ts';
import { type Lan, ONPREM_PUBLIC, type VpnBed, startVpnBed } from './vpn-bed.ts';

/** The entry's addresses: public (the root namespace is the internet), and in the VPC, as a load balancer's are. */
const ENTRY = { public: '203.0.113.90', client: '203.0.113.91', vpc: '10.40.255.250', vpcPeer: '10.40.255.249' };

/**
 * The VPN bed with the public entry built and a data path through it: `up` on both sites (with a
 * Route 53 zone for the failover records), then an `entry` namespace joined to the VPC and to
 * the root namespace, where HAProxy stands in for the load balancer (lb-standin.ts).
 */
export interface FailoverBed {
  bed: VpnBed;
  aws: Clients;
  lb: LbStandin;
  config: string;
  zoneId: string;
  /** `http://<entry>:80`, from the root namespace. */
  url: string;
  cli(...args: string[]): ReturnType<typeof runCli>;
  /** The service's target groups as moto holds them. */
  groups(): Promise<{ aws?: TargetGroup; onprem?: TargetGroup }>;
  /** Kills the AWS site's service processes (SIGKILL) and stops its control plane. */
  killAws(): Promise<void>;
  stop(): Promise<void>;
}

/** `at`: loopback addresses and a LAN of its own (see vpn-bed.ts), so it can run beside the VPN tests. */
export async function startFailoverBed(at: { awsApi: string; awsNodesNet: string; lan: Lan }): Promise<FailoverBed> {
  const bed = await startVpnBed(at);
  let lb: LbStandin | undefined;
  try {
    const aws = clients(bed.moto.endpoint);
    const zone = await aws.route53.send(new CreateHostedZoneCommand({ Name: 'example.com', CallerReference: 'failover-bed' }));
    const zoneId = (zone.HostedZone?.Id ?? '').replace('/hostedzone/', '');
    const config = bed.config(
      ['drainSeconds: 30', 'drainSeconds: 3'],
      ['intervalSeconds: 10', 'intervalSeconds: 5'],
      ['# dns: { hostedZoneId: Z0123456789ABCDEFGHIJ, name: readings.example.com, ttl: 60 }', `dns: { hostedZoneId: ${zoneId}, name: readings.example.com, ttl: 30 }`],
      ['# ingress: { address: 198.51.100.8', `ingress: { address: ${ONPREM_PUBLIC}`],
    );
    const cli = (...args: string[]) => runCli([...args, '--state-dir', bed.stateDir], bed.env);
    // From here on, every call the CLI makes is recorded (tests slice the recording).
    await bed.moto.record();
    const up = await cli('up', '-c', config);
    if (up.code !== 0) throw new Error(`up failed: ${up.stdout}${up.stderr}`);

    const entry = await bed.net.add('entry');
    await bed.net.link({ ns: entry, address: `${ENTRY.vpc}/32`, peer: ENTRY.vpcPeer }, { ns: bed.ns.aws, address: `${ENTRY.vpcPeer}/32`, peer: ENTRY.vpc });
    await bed.net.link({ ns: entry, address: `${ENTRY.public}/32`, peer: ENTRY.client }, { address: `${ENTRY.client}/32`, peer: ENTRY.public });
    await bed.net.run(entry, 'ip', ['route', 'add', 'default', 'via', ENTRY.vpcPeer]);
    const balancer = (await aws.elb.send(new DescribeLoadBalancersCommand({ Names: ['demo-api'] }))).LoadBalancers?.[0];
    const groups = async () => {
      const all = (await aws.elb.send(new DescribeTargetGroupsCommand({}))).TargetGroups ?? [];
      const named = (name: string) => all.find((g) => g.TargetGroupName === name);
      return { aws: named('demo-svc-aws'), onprem: named('demo-svc-onprem') };
    };
    const arns = Object.values(await groups()).map((g) => g?.TargetGroupArn ?? '');
    // moto attaches a group to its load balancer only through the listener that first forwards to it.
    lb = await startLbStandin({
      endpoint: bed.moto.endpoint,
      loadBalancerArn: balancer?.LoadBalancerArn ?? '',
      listenerPort: 80,
      netns: entry,
      bind: ENTRY.public,
      port: 80,
      targetGroupArns: arns,
    });
    await lb.sync();
    await everyTargetHealthy(aws, arns);
    const standin = lb;
    return {
      bed,
      aws,
      lb: standin,
      config,
      zoneId,
      url: `http://${ENTRY.public}:80`,
      cli,
      groups,
      async killAws() {
        const pids = (await execa('ip', ['netns', 'pids', bed.ns.aws])).stdout.split('\n').filter((pid) => pid && readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'readings');
        for (const pid of pids) process.kill(Number(pid), 'SIGKILL');
        await bed.kube.aws.stop();
      },
      async stop() {
        await standin.stop();
        await bed.stop();
      },
    };
  } catch (error) {
    await lb?.stop();
    await bed.stop();
    throw error;
  }
}

/** Until the stand-in has measured every target healthy (it starts them `initial`, as a load balancer does). */
async function everyTargetHealthy(aws: Clients, arns: string[]): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const states = await Promise.all(
      arns.map(async (arn) => ((await aws.elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }))).TargetHealthDescriptions ?? []).map((d) => d.TargetHealth?.State)),
    );
    if (states.every((s) => s.length > 0 && s.every((state) => state === 'healthy'))) return;
    if (Date.now() > deadline) throw new Error(`the targets did not all become healthy: ${JSON.stringify(states)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** GETs every 50 ms on a new connection and notes when failures started and stopped. */
export function watchFailures(url: string) {
  let sent = 0;
  let failed = 0;
  let firstFailure: number | undefined;
  let lastFailure: number | undefined;
  const timer = setInterval(async () => {
    const at = Date.now();
    sent++;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000), keepalive: false, headers: { connection: 'close' } });
      await response.arrayBuffer();
      if (!response.ok) throw new Error(String(response.status));
    } catch {
      failed++;
      firstFailure ??= at;
      lastFailure = at;
    }
  }, 50);
  return {
    stop: () => {
      clearInterval(timer);
      return { sent, failed, windowMs: firstFailure === undefined ? 0 : (lastFailure ?? firstFailure) - firstFailure + 50 };
    },
  };
}
