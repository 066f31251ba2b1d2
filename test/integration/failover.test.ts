import { DescribeLoadBalancersCommand, DescribeListenersCommand, DescribeTargetGroupAttributesCommand, DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { ListHealthChecksCommand, ListResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killedAt, writeConfig } from '../support/cli.ts';
import { type FailoverBed, startFailoverBed, watchFailures } from '../support/failover-bed.ts';
import { type Clients, NOTHING, byComponent, counts, inventory, recordedRequests } from '../support/inventory.ts';
import { type AuditEvent, isWrite } from '../support/kube.ts';
import { type LoadReport, startLoadgen } from '../support/loadgen.ts';
import { changingCalls } from '../support/moto.ts';
import { Netns } from '../support/netns.ts';
import { ROOT } from '../support/paths.ts';
import { ONPREM_PUBLIC, type VpnBed, lanOf } from '../support/vpn-bed.ts';

/**
 * Failover end to end. moto holds the load balancer's configuration; the data path is real:
 * HAProxy stands in for the load balancer in an `entry` namespace joined to the VPC (its
 * address is in the VPC, as a load balancer's are), driven from what moto holds
 * (test/support/lb-standin.ts), health-checking the real readings service on each site's
 * NodePort (on-prem through the real WireGuard tunnel). The load generator and hybridctl's own
 * probe send through it from the root namespace, the internet.
 */
const run = await Netns.available();
/** What the bench and the docs read: this run's measurements. */
const RESULTS = join(ROOT, '.cache', 'failover-results.json');
let f: FailoverBed;
let bed: VpnBed;
let aws: Clients;
let config: string;
let ENTRY_URL: string;
const results: Record<string, unknown> = {};

beforeAll(async () => {
  if (!run) return;
  f = await startFailoverBed({ awsApi: '127.0.95.1', awsNodesNet: '127.0.96', lan: lanOf(78) });
  ({ bed, aws, config, url: ENTRY_URL } = f);
}, 900_000);
afterAll(async () => {
  if (Object.keys(results).length) writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
  await f?.stop();
});

const cli = (...args: string[]) => f.cli(...args);

const groups = () => f.groups();

async function listenerTarget(): Promise<string | undefined> {
  const balancer = (await aws.elb.send(new DescribeLoadBalancersCommand({ Names: ['demo-api'] }))).LoadBalancers?.[0];
  const listeners = (await aws.elb.send(new DescribeListenersCommand({ LoadBalancerArn: balancer?.LoadBalancerArn }))).Listeners ?? [];
  const arn = listeners.find((l) => l.Port === 80)?.DefaultActions?.[0]?.TargetGroupArn;
  const g = await groups();
  return arn === g.aws?.TargetGroupArn ? 'aws' : arn === g.onprem?.TargetGroupArn ? 'onprem' : arn;
}

/** Which site's record is PRIMARY in Route 53, and the pair's shape. */
async function dnsPrimary(): Promise<{ primary?: string; records: { set?: string; failover?: string; alias?: boolean; address?: string; check?: boolean }[] }> {
  const listed = (await aws.route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: f.zoneId }))).ResourceRecordSets ?? [];
  const records = listed
    .filter((r) => r.SetIdentifier)
    .map((r) => ({ set: r.SetIdentifier, failover: r.Failover, alias: r.AliasTarget !== undefined, address: r.ResourceRecords?.[0]?.Value, check: r.HealthCheckId !== undefined }))
    .sort((a, b) => String(a.set).localeCompare(String(b.set)));
  return { primary: records.find((r) => r.failover === 'PRIMARY')?.set?.replace('demo-', ''), records };
}

/** Runs a failover under steady load through the entry; the load generator's report and the CLI's. */
async function failoverUnderLoad(to: string): Promise<{ code: number; report: Record<string, any>; load: LoadReport; stdout: string }> {
  const load = await startLoadgen(ENTRY_URL, 40);
  await new Promise((r) => setTimeout(r, 3000));
  const result = await cli('failover', '--to', to, '-c', config, '--probe-url', `${ENTRY_URL}/readyz`, '--probe-rate', '20', '-o', 'json');
  await new Promise((r) => setTimeout(r, 2000));
  const loadReport = await load.stop();
  return { code: result.code, report: JSON.parse(result.stdout || '{}'), load: loadReport, stdout: result.stdout + result.stderr };
}

const deploymentWrites = (events: AuditEvent[]) => events.filter((e) => isWrite(e) && e.resource === 'deployments');

describe.runIf(run)('failover', () => {
  it('builds the entry: a listener on the public port to the active site, a target group per site, health checks on the readiness path', async () => {
    expect(await listenerTarget()).toBe('aws');
    const g = await groups();
    expect(g.aws).toMatchObject({ Protocol: 'TCP', Port: 30080, TargetType: 'instance', HealthCheckProtocol: 'HTTP', HealthCheckPath: '/readyz', HealthyThresholdCount: 2 });
    expect(g.onprem).toMatchObject({ Protocol: 'TCP', Port: 30080, TargetType: 'ip', HealthCheckProtocol: 'HTTP', HealthCheckPath: '/readyz' });
    for (const group of [g.aws, g.onprem]) {
      const attributes = (await aws.elb.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: group?.TargetGroupArn }))).Attributes ?? [];
      expect(attributes.find((a) => a.Key === 'deregistration_delay.timeout_seconds')?.Value).toBe('3');
    }
    const onpremTargets = (await aws.elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: g.onprem?.TargetGroupArn }))).TargetHealthDescriptions ?? [];
    expect(onpremTargets.map((t) => t.Target?.Id).sort()).toEqual([bed.lan.gateway, bed.lan.worker]);
    // moto keeps no zone for a target: the request must have said `all` (an IP outside the VPC).
    const registers = (await recordedRequests(bed.moto.endpoint)).filter((r) => r.operation === 'RegisterTargets' && r.body.includes(bed.lan.worker));
    expect(registers.map((r) => [1, 2].map((i) => new URLSearchParams(r.body).get(`Targets.member.${i}.AvailabilityZone`)))).toEqual([['all', 'all']]);
    const awsTargets = (await aws.elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: g.aws?.TargetGroupArn }))).TargetHealthDescriptions ?? [];
    const inv = await inventory(aws, 'demo');
    expect(awsTargets.map((t) => t.Target?.Id)).toEqual([byComponent(inv.instances)['worker-1']?.InstanceId]);

    expect(await dnsPrimary()).toEqual({
      primary: 'aws',
      records: [
        { set: 'demo-aws', failover: 'PRIMARY', alias: true, address: undefined, check: true },
        { set: 'demo-onprem', failover: 'SECONDARY', alias: false, address: ONPREM_PUBLIC, check: true },
      ],
    });

    const sgs = byComponent(inv.sgs);
    const nlbRules = sgs['sg-nlb']?.IpPermissions ?? [];
    expect(nlbRules.find((p) => p.FromPort === 80)?.IpRanges?.map((r) => r.CidrIp)).toEqual(['0.0.0.0/0']);
    const fromBalancer = (sgs['sg-workers']?.IpPermissions ?? []).find((p) => p.FromPort === 30080 && p.UserIdGroupPairs?.length);
    expect(fromBalancer?.UserIdGroupPairs?.map((u) => u.GroupId)).toEqual([sgs['sg-nlb']?.GroupId]);
  });

  it('serves through the entry from the active site, with every target healthy as the stand-in measured it', async () => {
    const answer = await fetch(`${ENTRY_URL}/readyz`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-site')).toBe('aws');
    const g = await groups();
    const health = (await aws.elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: g.onprem?.TargetGroupArn }))).TargetHealthDescriptions ?? [];
    expect(health.map((t) => t.TargetHealth?.State)).toEqual(['healthy', 'healthy']);
  });

  it('a second up changes nothing, entry included', async () => {
    const before = (await recordedRequests(bed.moto.endpoint)).length;
    const again = await cli('up', '-c', config);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toContain('nothing to do');
    expect(changingCalls((await recordedRequests(bed.moto.endpoint)).slice(before))).toEqual([]);
  }, 300_000);

  it('--dry-run prints the steps and changes nothing', async () => {
    const before = (await recordedRequests(bed.moto.endpoint)).length;
    const dry = await cli('failover', '--to', 'onprem', '--dry-run', '-c', config);
    expect(dry.code, dry.stdout + dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/1\. preflight[\s\S]*scale onprem to 2[\s\S]*switch traffic to onprem: update lb-listener listener-service \(targetGroupArn\)[\s\S]*drain aws[\s\S]*scale aws to 1/);
    expect((await recordedRequests(bed.moto.endpoint)).slice(before).filter((r) => r.mutating)).toEqual([]);
    expect(await listenerTarget()).toBe('aws');
  }, 120_000);

  it('moves traffic to on-prem under load with no failed request: scale up, roll out, healthy, switch, drain, scale down, in that order', async () => {
    const before = (await recordedRequests(bed.moto.endpoint)).length;
    const mark = { aws: bed.kube.aws.adminRequests().length, onprem: bed.kube.onprem.adminRequests().length };
    const { code, report, load, stdout } = await failoverUnderLoad('onprem');
    expect(code, stdout).toBe(0);
    results.planned = { report, load, standin: f.lb.events.slice(-30) };
    expect(load.errors, stdout).toBe(0);
    expect(load.requests).toBeGreaterThan(100);
    expect(report.probe).toMatchObject({ failed: 0 });
    expect(report.probe.firstAnswer.onprem).toBeGreaterThan(0);
    expect(report.steps.map((s: { step: string; status: string }) => `${s.step}: ${s.status}`)).toEqual([
      'observe: done',
      'preflight: done',
      'scale onprem to 2: done',
      'rollout on onprem: done',
      'onprem targets healthy: done',
      'traffic to onprem: done',
      'drain aws: done',
      'scale aws to 1: done',
    ]);
    expect(await listenerTarget()).toBe('onprem');
    // AWS saw exactly the switch (the listener's forward action, the DNS pair in one batch), and the state bucket the new state.
    const changed = changingCalls((await recordedRequests(bed.moto.endpoint)).slice(before));
    expect(changed.filter((c) => c.service !== 's3').map((c) => c.operation).sort()).toEqual(['ChangeResourceRecordSets', 'ModifyListener']);
    expect(changed.filter((c) => c.service === 's3').map((c) => c.key).sort()).toEqual(['state/manifest.json', 'state/traffic/active-site.json', 'state/traffic/last-failover.json']);
    expect((await dnsPrimary()).primary).toBe('onprem');
    const active = JSON.parse(readFileSync(join(bed.stateDir, 'traffic', 'active-site.json'), 'utf8'));
    expect(active.site).toBe('onprem');

    // The Kubernetes side, from the API servers' audit logs: on-prem scaled up and rolled out before AWS was scaled down.
    const onpremWrites = deploymentWrites(bed.kube.onprem.adminRequests().slice(mark.onprem));
    const awsWrites = deploymentWrites(bed.kube.aws.adminRequests().slice(mark.aws));
    expect(onpremWrites.map((e) => e.name).sort()).toEqual(['loadgen', 'readings']);
    expect(awsWrites.map((e) => e.name).sort()).toEqual(['loadgen', 'readings']);
    const lastOnpremRead = bed.kube.onprem.adminRequests().slice(mark.onprem).filter((e) => e.verb === 'get' && e.resource === 'deployments').at(-1);
    expect(Math.max(...onpremWrites.map((e) => e.at))).toBeLessThan(Math.min(...awsWrites.map((e) => e.at)));
    expect(lastOnpremRead?.at).toBeLessThan(Math.min(...awsWrites.map((e) => e.at)));
  }, 600_000);

  it('a later up keeps traffic where the failover put it, and says the config disagrees', async () => {
    const before = (await recordedRequests(bed.moto.endpoint)).length;
    const again = await cli('up', '-c', config);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toContain('service.activeSite says aws, but traffic goes to onprem');
    expect(again.stdout).toContain('hybridctl failover --to aws');
    expect(changingCalls((await recordedRequests(bed.moto.endpoint)).slice(before))).toEqual([]);
    expect(await listenerTarget()).toBe('onprem');
  }, 300_000);

  it('fails back to AWS under load with no failed request; a re-run finds nothing left to do', async () => {
    const start = (await recordedRequests(bed.moto.endpoint)).length;
    const { code, report, load, stdout } = await failoverUnderLoad('aws');
    const changed = changingCalls((await recordedRequests(bed.moto.endpoint)).slice(start));
    expect(changed.filter((c) => c.service !== 's3').map((c) => c.operation).sort()).toEqual(['ChangeResourceRecordSets', 'ModifyListener']);
    expect(code, stdout).toBe(0);
    results.failback = { report, load };
    expect(load.errors, stdout).toBe(0);
    expect(report.probe).toMatchObject({ failed: 0 });
    expect(await listenerTarget()).toBe('aws');
    expect((await dnsPrimary()).primary).toBe('aws');
    const before = (await recordedRequests(bed.moto.endpoint)).length;
    const again = await cli('failover', '--to', 'aws', '-c', config, '--no-probe');
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toContain('already sending to aws');
    expect(again.stdout).toMatch(/- drain onprem +skipped +nothing to drain/);
    expect(changingCalls((await recordedRequests(bed.moto.endpoint)).slice(before))).toEqual([]);
  }, 600_000);

  it('killed while draining, a re-run finishes the same failover: the drain counts from the switch, then the old site is scaled down', async () => {
    const journal = join(bed.stateDir, 'traffic', 'failover.json');
    const seen = await killedAt(/… drain aws/, ['failover', '--to', 'onprem', '-c', config, '--no-probe', '--state-dir', bed.stateDir], bed.env);
    expect(seen).toMatch(/✓ traffic to onprem/);
    expect(await listenerTarget()).toBe('onprem');
    expect(JSON.parse(readFileSync(journal, 'utf8'))).toMatchObject({ from: 'aws', to: 'onprem' });
    const mark = bed.kube.aws.adminRequests().length;
    const rerun = await cli('failover', '--to', 'onprem', '-c', config, '--no-probe', '-o', 'json');
    expect(rerun.code, rerun.stdout + rerun.stderr).toBe(0);
    const report = JSON.parse(rerun.stdout);
    expect(report.steps.find((s: { step: string }) => s.step === 'traffic to onprem')?.detail).toBe('already sending to onprem');
    expect(report.steps.find((s: { step: string }) => s.step === 'scale aws to 1')?.status).toBe('done');
    expect(deploymentWrites(bed.kube.aws.adminRequests().slice(mark)).map((e) => e.name).sort()).toEqual(['loadgen', 'readings']);
    expect(existsSync(journal)).toBe(false);
    const back = await cli('failover', '--to', 'aws', '-c', config, '--no-probe');
    expect(back.code, back.stdout + back.stderr).toBe(0);
  }, 600_000);

  it('without traffic.dns, up deletes the records and health checks an earlier config made; with it again, makes them again', async () => {
    const withoutDns = writeConfig(readFileSync(config, 'utf8').replace(/^ {2}dns: .*\n/m, ''));
    const before = (await recordedRequests(bed.moto.endpoint)).length;
    const dropped = await cli('up', '-c', withoutDns);
    expect(dropped.code, dropped.stdout + dropped.stderr).toBe(0);
    const changed = changingCalls((await recordedRequests(bed.moto.endpoint)).slice(before)).filter((c) => c.service !== 's3');
    expect(changed.map((c) => c.operation).sort()).toEqual(['ChangeResourceRecordSets', 'DeleteHealthCheck', 'DeleteHealthCheck']);
    expect((await aws.route53.send(new ListHealthChecksCommand({}))).HealthChecks).toEqual([]);
    expect((await dnsPrimary()).records).toEqual([]);
    expect(await listenerTarget()).toBe('aws');
    const back = await cli('up', '-c', config);
    expect(back.code, back.stdout + back.stderr).toBe(0);
    expect((await dnsPrimary()).primary).toBe('aws');
  }, 300_000);

  it('unplanned: the active site dies; requests fail only until the failover moves traffic, and what it could not do is named', async () => {
    const load = await startLoadgen(ENTRY_URL, 40);
    const window = watchFailures(`${ENTRY_URL}/readyz`);
    await new Promise((r) => setTimeout(r, 2000));
    await f.killAws();
    const result = await cli('failover', '--to', 'onprem', '-c', config, '--probe-url', `${ENTRY_URL}/readyz`, '-o', 'json');
    await new Promise((r) => setTimeout(r, 2000));
    const loadReport = await load.stop();
    const seen = window.stop();
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.mode).toBe('unplanned');
    const skipped = report.steps.filter((s: { status: string }) => s.status === 'skipped');
    expect(skipped.map((s: { step: string; detail: string }) => `${s.step}: ${s.detail}`)).toEqual([expect.stringMatching(/^scale aws to 1: the aws site does not answer/)]);
    expect(await listenerTarget()).toBe('onprem');
    results.unplanned = { report, load: loadReport, watcher: seen };
    console.log(`unplanned failover: requests failed for ${seen.windowMs} ms (${seen.failed} of the watcher's ${seen.sent}, ${loadReport.errors} of the load generator's ${loadReport.requests}); the CLI moved traffic at +${report.switchedAtMs} ms of its run`);
    expect(seen.failed).toBeGreaterThan(0);
    // After the switch, everything answers again.
    expect((await fetch(`${ENTRY_URL}/readyz`)).headers.get('x-site')).toBe('onprem');
  }, 600_000);

  it('down removes the entry with everything else: no listener, target group, health check or record left', async () => {
    const down = await cli('down', '--yes', '-c', config);
    expect(down.code, down.stdout + down.stderr).toBe(0);
    expect(counts(await inventory(aws, 'demo'))).toEqual(NOTHING);
    expect((await aws.route53.send(new ListHealthChecksCommand({}))).HealthChecks).toEqual([]);
    expect((await dnsPrimary()).records).toEqual([]);
  }, 600_000);
});
