import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import {
  type Action,
  DescribeListenersCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  type TargetGroup,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ResultPromise, execa } from 'execa';
import { clients } from './inventory.ts';
import { HARNESS_KEY } from './moto.ts';
import { diesWithTests } from './process.ts';
import { CA_CERT } from './tls.ts';

/**
 * The AWS Network Load Balancer's data path, which moto does not have (it keeps the load
 * balancer's configuration and routes no packets): HAProxy in TCP mode, in a network namespace,
 * driven from what moto holds. Every ~200 ms it reads the listener, the target groups, their
 * targets and attributes (with the harness key, so these reads are not counted as the CLI's
 * calls) and sets HAProxy's server slots to match through its runtime API; then it writes the
 * health HAProxy measured back to moto (test/moto/server.py, item 7), so DescribeTargetHealth
 * tells what a real load balancer would.
 *
 * What it models:
 * - the listener's forward action: new connections go to the targets of the group it names
 *   (`state ready`); the targets of the load balancer's other groups get none (`state drain`)
 *   and keep their connections, and are still health-checked, so an orchestrator can wait for
 *   a group to be healthy before it switches the listener to it;
 * - deregistration delay: a deregistered target drains (existing connections carry on, no new
 *   ones) for the group's deregistration_delay.timeout_seconds, then leaves (`maint`; its
 *   connections are cut only if deregistration_delay.connection_termination.enabled);
 * - health checks: HAProxy's, on the group's path (HTTP) or by connecting (TCP), every
 *   `checkIntervalMs` (scaled time: not the group's interval), with the group's healthy and
 *   unhealthy thresholds; a new target takes no traffic before it passes them (`initial`);
 * - instance targets reach the instance's private address, IP targets the address as is, on
 *   the target's port or the group's.
 * What it does not: availability zones and cross-zone balancing, client IP preservation
 * (targets see the stand-in's address), fail-open when every target is unhealthy, weights of
 * a weighted forward action (every group with weight > 0 counts fully), listener rules,
 * TLS listeners, UDP, per-group health-check paths (one path: HAProxy checks per backend), the
 * `draining` state of a deregistered target in DescribeTargetHealth (moto forgets it at once),
 * idle timeout other than 350 s, and more than 16 targets.
 */
export interface LbStandinOptions {
  /** moto's endpoint. */
  endpoint: string;
  region?: string;
  loadBalancerArn: string;
  /** The listener whose forward action it follows. */
  listenerPort: number;
  /** Where HAProxy runs (undefined: the root namespace), listening on bind:port. */
  netns?: string;
  bind: string;
  port: number;
  /** The groups it serves; by default the load balancer's, those its listeners forward to, and any seen before. */
  targetGroupArns?: string[];
  /** HAProxy's check interval (`inter`). */
  checkIntervalMs?: number;
  syncIntervalMs?: number;
}

export interface LbStandin {
  /** `http://bind:port`. */
  url: string;
  /** Timestamped changes (listener, slots, health), for a test's report. */
  events: string[];
  /** Resolves after a whole sync (moto → HAProxy → moto) that started after the call. */
  sync(): Promise<void>;
  stop(): Promise<void>;
}

const HAPROXY = '/usr/sbin/haproxy';
const SLOTS = 16;
const BACKEND = 'service';

interface Slot {
  n: number;
  key: string;
  label: string;
  group: string;
  id: string;
  mode: 'ready' | 'drain';
  assignedAt: number;
  everUp: boolean;
  health?: 'healthy' | 'unhealthy' | 'initial';
  /** Deregistered: leaves at this time; whether its connections are then cut. */
  leavesAt?: number;
  terminate?: boolean;
}

interface Wanted {
  group: string;
  groupName: string;
  id: string;
  address: string;
  port: number;
  checkPort?: number;
  mode: 'ready' | 'drain';
}

export async function startLbStandin(options: LbStandinOptions): Promise<LbStandin> {
  const aws = clients(options.endpoint, options.region ?? 'eu-central-1', HARNESS_KEY);
  const inter = options.checkIntervalMs ?? 500;
  const events: string[] = [];
  const note = (line: string) => events.push(`${new Date().toISOString().slice(11, 23)} ${line}`);

  // The health-check settings are HAProxy's configuration: read them once, from the group the listener forwards to.
  const first = await readMoto(aws, options, new Set());
  const dir = mkdtempSync(join(tmpdir(), 'hybridctl-lb-'));
  const socket = join(dir, 'admin.sock');
  const model = first.groups.find((g) => first.current.has(g.TargetGroupArn ?? '')) ?? first.groups[0];
  const rise = model?.HealthyThresholdCount ?? 5;
  const fall = model?.UnhealthyThresholdCount ?? 2;
  const check = model?.HealthCheckProtocol === 'TCP' ? '' : `  option httpchk GET ${model?.HealthCheckPath ?? '/'}\n`;
  writeFileSync(
    join(dir, 'haproxy.cfg'),
    [
      'global',
      `  stats socket ${socket} level admin`,
      'defaults',
      '  mode tcp',
      // Each connection's line in haproxy.log (kept with KEEP_TEST_LOGS).
      '  log stdout format raw local0',
      '  option tcplog',
      '  timeout connect 2s',
      '  timeout client 350s',
      '  timeout server 350s',
      // A load balancer passes a refused connection on to the client: it does not try again.
      '  retries 0',
      'frontend listener',
      `  bind ${options.bind}:${options.port}`,
      `  default_backend ${BACKEND}`,
      `backend ${BACKEND}`,
      `${check}  default-server inter ${inter} fall ${fall} rise ${rise}`,
      `  server-template t 1-${SLOTS} 0.0.0.0:1 disabled check`,
      '',
    ].join('\n'),
  );
  const log = join(dir, 'haproxy.log');
  const haproxy = ['-db', '-f', join(dir, 'haproxy.cfg')];
  const [launcher, launch] = options.netns ? diesWithTests('ip', ['netns', 'exec', options.netns, HAPROXY, ...haproxy]) : diesWithTests(HAPROXY, haproxy);
  const child: ResultPromise = execa(launcher, launch, {
    reject: false,
    stdin: 'ignore',
    stdout: { file: log },
    stderr: { file: log },
  });
  let exited = false;
  void child.then(() => {
    exited = true;
  });
  const tail = () => (existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : '');
  const failed = (error: unknown) => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    return error instanceof Error ? error : new Error(String(error));
  };
  const admin = (commands: string[]) => runtime(socket, commands);
  for (let deadline = Date.now() + 10_000; ; await sleep(50)) {
    if (exited) throw failed(new Error(`haproxy exited: ${tail()}`));
    if (await admin(['show info']).then(() => true, () => false)) break;
    if (Date.now() > deadline) throw failed(new Error(`haproxy did not answer on ${socket}: ${tail()}`));
  }
  note(`listening on ${options.bind}:${options.port}; checks ${check ? `HTTP GET ${model?.HealthCheckPath ?? '/'}` : 'TCP'} every ${inter} ms, rise ${rise}, fall ${fall}`);

  const slots = new Map<string, Slot>();
  const free = Array.from({ length: SLOTS }, (_, i) => i + 1);
  const known = new Set<string>();
  const addresses = new Map<string, string>();
  const lastErrors = new Set<string>();
  const httpsAgent = new Agent({ ca: readFileSync(CA_CERT), keepAlive: true });
  let listenerGroups = '';

  async function once(): Promise<void> {
    const now = Date.now();
    const seen = await readMoto(aws, options, known);
    for (const g of seen.groups) known.add(g.TargetGroupArn ?? '');
    const names = new Map(seen.groups.map((g) => [g.TargetGroupArn ?? '', g.TargetGroupName ?? '?']));
    const current = [...seen.current].map((arn) => names.get(arn) ?? arn).join(', ') || 'nothing';
    if (current !== listenerGroups) note(`listener → ${current}`);
    listenerGroups = current;

    // What the slots should hold.
    const instances = seen.targets.map((t) => t.id).filter((id) => id.startsWith('i-') && !addresses.has(id));
    if (instances.length > 0) {
      const found = await aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: instances }));
      for (const i of (found.Reservations ?? []).flatMap((r) => r.Instances ?? [])) if (i.InstanceId && i.PrivateIpAddress) addresses.set(i.InstanceId, i.PrivateIpAddress);
    }
    const wanted = new Map<string, Wanted>();
    for (const t of seen.targets) {
      const address = t.id.startsWith('i-') ? addresses.get(t.id) : t.id;
      if (address) wanted.set(`${t.group}|${t.id}|${t.port}`, { ...t, address, mode: seen.current.has(t.group) ? 'ready' : 'drain' });
    }

    const commands: string[] = [];
    const server = (slot: { n: number }) => `${BACKEND}/t${slot.n}`;
    for (const [key, w] of wanted) {
      const slot = slots.get(key);
      if (!slot) {
        const n = free.shift();
        if (n === undefined) {
          note(`no free slot for ${w.address}:${w.port} (${w.groupName})`);
          continue;
        }
        const label = `${w.address}:${w.port} (${w.groupName})`;
        slots.set(key, { n, key, label, group: w.group, id: w.id, mode: w.mode, assignedAt: now, everUp: false });
        // Out of maintenance HAProxy counts a server up at once: forced down, it must pass `rise` checks first.
        commands.push(`set server ${server({ n })} addr ${w.address} port ${w.port}`);
        if (w.checkPort) commands.push(`set server ${server({ n })} check-port ${w.checkPort}`);
        commands.push(`set server ${server({ n })} state drain`, `set server ${server({ n })} health down`);
        if (w.mode === 'ready') commands.push(`set server ${server({ n })} state ready`);
        note(`${label} registered → t${n}, ${w.mode}`);
      } else if (slot.leavesAt !== undefined || slot.mode !== w.mode) {
        if (slot.leavesAt !== undefined) note(`${slot.label} registered again`);
        slot.leavesAt = undefined;
        if (slot.mode !== w.mode) note(`${slot.label} ${slot.mode} → ${w.mode}`);
        slot.mode = w.mode;
        commands.push(`set server ${server(slot)} state ${w.mode}`);
      }
    }
    for (const slot of slots.values()) {
      if (wanted.has(slot.key)) continue;
      if (slot.leavesAt === undefined) {
        const group = seen.groups.find((g) => g.TargetGroupArn === slot.group);
        const attributes = seen.attributes.get(slot.group);
        const delayMs = attributes?.delayMs ?? 300_000;
        slot.leavesAt = group ? now + delayMs : now;
        slot.terminate = attributes?.terminate ?? false;
        slot.mode = 'drain';
        commands.push(`set server ${server(slot)} state drain`);
        note(`${slot.label} deregistered: draining for ${group ? delayMs / 1000 : 0} s`);
      } else if (now >= slot.leavesAt) {
        commands.push(`set server ${server(slot)} state maint`);
        if (slot.terminate) commands.push(`shutdown sessions server ${server(slot)}`);
        slots.delete(slot.key);
        free.push(slot.n);
        free.sort((a, b) => a - b);
        note(`${slot.label} left t${slot.n}${slot.terminate ? ', connections cut' : ''}`);
      }
    }
    if (commands.length > 0) await admin(commands);

    // The health HAProxy measured, as AWS names it.
    const state = await admin([`show servers state ${BACKEND}`]);
    const up = new Map<string, boolean>();
    for (const line of state.split('\n')) {
      const f = line.trim().split(/\s+/);
      if (f[1] === BACKEND && f[3] && f[5]) up.set(f[3], f[5] !== '0');
    }
    const reports = new Map<string, Record<string, { state: string; reason?: string; description?: string }>>();
    for (const g of seen.groups) reports.set(g.TargetGroupArn ?? '', {});
    for (const slot of slots.values()) {
      if (slot.leavesAt !== undefined) continue;
      const isUp = up.get(`t${slot.n}`) ?? false;
      slot.everUp ||= isUp;
      const health = isUp ? 'healthy' : !slot.everUp && now - slot.assignedAt < (Math.max(rise, fall) + 1) * inter ? 'initial' : 'unhealthy';
      if (health !== slot.health) note(`${slot.label} ${slot.health ?? 'new'} → ${health}`);
      slot.health = health;
      const report =
        health === 'healthy'
          ? { state: health }
          : health === 'initial'
            ? { state: health, reason: 'Elb.InitialHealthChecking', description: 'Initial health checks in progress' }
            : { state: health, reason: 'Target.FailedHealthChecks', description: 'Health checks failed' };
      const group = reports.get(slot.group);
      if (group) group[slot.id] = report;
    }
    for (const [targetGroupArn, targets] of reports) await post(httpsAgent, `${options.endpoint}/hybridctl-harness/target-health`, { targetGroupArn, targets });
  }

  // One sync at a time: the loop's and those a test asks for.
  let chain: Promise<void> = Promise.resolve();
  const serial = () => (chain = chain.then(once, once).then(() => undefined));
  let stopped = false;
  // Started, moto reports what the checks measure (initial at first), no longer its own "healthy".
  await serial().catch((error: unknown) => Promise.reject(failed(error)));
  const loop = (async () => {
    while (!stopped) {
      try {
        await serial();
        lastErrors.clear();
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (!lastErrors.has(message)) note(`sync failed: ${message}`);
        lastErrors.add(message);
      }
      await sleep(options.syncIntervalMs ?? 200);
    }
  })();

  return {
    url: `http://${options.bind}:${options.port}`,
    events,
    sync: () => serial(),
    async stop() {
      stopped = true;
      await loop;
      await chain.catch(() => undefined);
      if (child.pid && !exited) process.kill(child.pid, 'SIGTERM');
      await Promise.race([child, sleep(3000)]);
      if (!exited && child.pid) process.kill(child.pid, 'SIGKILL');
      httpsAgent.destroy();
      if (!process.env.KEEP_TEST_LOGS) rmSync(dir, { recursive: true, force: true });
    },
  };
}

type Aws = ReturnType<typeof clients>;

/** The listener's groups, the groups served with their registered targets, and their attributes. */
async function readMoto(aws: Aws, options: LbStandinOptions, known: Set<string>) {
  const listeners = (await aws.elb.send(new DescribeListenersCommand({ LoadBalancerArn: options.loadBalancerArn }))).Listeners ?? [];
  const forwards = (actions: Action[] | undefined) =>
    (actions ?? [])
      .filter((a) => a.Type === 'forward')
      .flatMap((a) => (a.ForwardConfig?.TargetGroups?.length ? a.ForwardConfig.TargetGroups.filter((g) => (g.Weight ?? 1) > 0).map((g) => g.TargetGroupArn) : [a.TargetGroupArn]))
      .filter((arn): arn is string => !!arn);
  const current = new Set(forwards(listeners.find((l) => l.Port === options.listenerPort)?.DefaultActions));
  let arns = options.targetGroupArns;
  if (!arns) {
    const attached = await aws.elb.send(new DescribeTargetGroupsCommand({ LoadBalancerArn: options.loadBalancerArn })).then(
      (r) => (r.TargetGroups ?? []).map((g) => g.TargetGroupArn ?? ''),
      () => [],
    );
    arns = [...new Set([...attached, ...listeners.flatMap((l) => forwards(l.DefaultActions)), ...known])];
  }
  const groups: TargetGroup[] = [];
  const targets: Omit<Wanted, 'address' | 'mode'>[] = [];
  const attributes = new Map<string, { delayMs: number; terminate: boolean }>();
  for (const arn of arns) {
    // A group deleted since: its targets deregister.
    const group = await aws.elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [arn] })).then(
      (r) => r.TargetGroups?.[0],
      (error: Error) => (error.name === 'TargetGroupNotFoundException' ? undefined : Promise.reject(error)),
    );
    if (!group) continue;
    groups.push(group);
    const attrs = Object.fromEntries(
      ((await aws.elb.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: arn }))).Attributes ?? []).map((a) => [a.Key, a.Value]),
    );
    attributes.set(arn, {
      delayMs: 1000 * Number(attrs['deregistration_delay.timeout_seconds'] ?? 300),
      terminate: attrs['deregistration_delay.connection_termination.enabled'] === 'true',
    });
    const checkPort = /^\d+$/.test(group.HealthCheckPort ?? '') ? Number(group.HealthCheckPort) : undefined;
    for (const d of (await aws.elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }))).TargetHealthDescriptions ?? []) {
      if (!d.Target?.Id) continue;
      const port = d.Target.Port ?? group.Port ?? 80;
      targets.push({ group: arn, groupName: group.TargetGroupName ?? arn, id: d.Target.Id, port, checkPort: checkPort === port ? undefined : checkPort });
    }
  }
  return { current, groups, targets, attributes };
}

/** Commands to HAProxy's runtime API, in one connection; their output. */
function runtime(socket: string, commands: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const conn = connect(socket);
    let out = '';
    conn.setEncoding('utf8');
    conn.on('data', (chunk: string) => (out += chunk));
    conn.on('error', reject);
    conn.on('end', () => {
      const failed = /^(No such .*|Unknown command.*|Require .*|.*[Ii]nvalid.*|.*not found.*)$/m.exec(out);
      if (failed) reject(new Error(`haproxy: ${failed[0]} (after: ${commands.join('; ')})`));
      else resolve(out);
    });
    conn.setTimeout(5000, () => conn.destroy(new Error(`haproxy did not answer: ${commands.join('; ')}`)));
    conn.write(`${commands.join('; ')}\n`);
  });
}

/** A JSON POST to moto's harness endpoint, trusting the test CA. */
function post(agent: Agent, url: string, body: unknown): Promise<void> {
  if (url.startsWith('http:')) {
    return fetch(url, { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } }).then(async (r) => {
      if (!r.ok) throw new Error(`moto refused target health: ${r.status} ${await r.text()}`);
    });
  }
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = request(url, { method: 'POST', agent, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } }, (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => ((res.statusCode ?? 0) < 300 ? resolve() : reject(new Error(`moto refused target health: ${res.statusCode} ${text}`))));
    });
    req.on('error', reject);
    req.end(data);
  });
}
