import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { execa } from 'execa';
import { diesWithTests } from './process.ts';

/** `hc<pid in base 36>`: who made a namespace or link, so that a later run can remove what a killed one left. */
const PREFIX = /^hc([0-9a-z]+)-/;

/**
 * Network namespaces a test makes for itself (as root): hosts joined by veth pairs, with
 * processes started inside. Everything is named with a prefix unique to this process, and
 * `destroy` removes it all (also after a failure: call it from afterAll).
 */
export class Netns {
  readonly prefix: string;
  private readonly names: string[] = [];
  private readonly children: { child: ChildProcess; done: Promise<unknown> }[] = [];
  /** Where the processes it started write their output. */
  logs: string | undefined;
  /** Interfaces made in the root namespace: they outlive the namespaces unless removed. */
  private readonly rootLinks: string[] = [];

  constructor() {
    // Interface names hold 15 characters: the prefix (at most 7) leaves room for `-` and a role.
    this.prefix = `hc${process.pid.toString(36)}`;
  }

  /** Removes what test processes that are gone left behind: their namespaces (and the processes in them) and root links. */
  static async removeStale(): Promise<void> {
    const alive = (name: string) => {
      const owner = PREFIX.exec(name)?.[1];
      if (!owner) return true;
      try {
        process.kill(Number.parseInt(owner, 36), 0);
        return true;
      } catch {
        return false;
      }
    };
    const spaces = String((await execa('ip', ['netns', 'list'], { reject: false })).stdout).split('\n').map((l) => l.split(' ')[0] ?? '');
    for (const ns of spaces.filter((n) => n && !alive(n))) {
      const pids = String((await execa('ip', ['netns', 'pids', ns], { reject: false })).stdout).split('\n').filter(Boolean);
      for (const pid of pids) process.kill(Number(pid), 'SIGKILL');
      await execa('ip', ['netns', 'del', ns], { reject: false });
    }
    const links = String((await execa('ip', ['-o', 'link', 'show'], { reject: false })).stdout).split('\n').map((l) => l.split(': ')[1]?.split('@')[0] ?? '');
    for (const link of links.filter((l) => l && !alive(l))) await execa('ip', ['link', 'del', link], { reject: false });
  }

  /** Whether this machine lets the test make namespaces (root, iproute2). */
  static async available(): Promise<boolean> {
    if (process.getuid?.() !== 0) return false;
    return (await execa('ip', ['netns', 'list'], { reject: false })).exitCode === 0;
  }

  /** A new namespace with loopback up and forwarding on; returns its full name. */
  async add(role: string): Promise<string> {
    const name = `${this.prefix}-${role}`;
    await execa('ip', ['netns', 'add', name]);
    this.names.push(name);
    await this.run(name, 'ip', ['link', 'set', 'lo', 'up']);
    await this.run(name, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    return name;
  }

  /** A veth pair between two namespaces (or the root namespace, `undefined`), each end with an address. */
  async link(a: { ns?: string; address: string; peer?: string }, b: { ns?: string; address: string; peer?: string }): Promise<{ a: string; b: string }> {
    const suffix = randomBytes(2).toString('hex');
    const ends = { a: `${this.prefix}-a${suffix}`, b: `${this.prefix}-b${suffix}` };
    await execa('ip', ['link', 'add', ends.a, 'type', 'veth', 'peer', 'name', ends.b]);
    for (const [end, side] of [[ends.a, a], [ends.b, b]] as const) {
      if (side.ns) await execa('ip', ['link', 'set', end, 'netns', side.ns]);
      const ip = side.ns ? ['-n', side.ns] : [];
      await execa('ip', [...ip, 'addr', 'add', side.address, ...(side.peer ? ['peer', side.peer] : []), 'dev', end]);
      await execa('ip', [...ip, 'link', 'set', end, 'up']);
    }
    return ends;
  }

  /** A bridge (a switch) in a namespace, for a LAN of several hosts. */
  async bridge(ns: string, name = 'br0'): Promise<string> {
    await this.run(ns, 'ip', ['link', 'add', name, 'type', 'bridge']);
    await this.run(ns, 'ip', ['link', 'set', name, 'up']);
    return name;
  }

  /** Plugs a host (a namespace, or the root namespace) into a bridge: its end is named `name` and has `address`. */
  async plug(bridge: { ns: string; name: string }, host: { ns?: string; name: string; address: string }): Promise<void> {
    const suffix = randomBytes(2).toString('hex');
    const port = `${this.prefix}-p${suffix}`;
    const temporary = `${this.prefix}-h${suffix}`;
    await execa('ip', ['link', 'add', port, 'type', 'veth', 'peer', 'name', temporary]);
    await execa('ip', ['link', 'set', port, 'netns', bridge.ns]);
    await this.run(bridge.ns, 'ip', ['link', 'set', port, 'master', bridge.name, 'up']);
    if (host.ns) await execa('ip', ['link', 'set', temporary, 'netns', host.ns, 'name', host.name]);
    else await execa('ip', ['link', 'set', temporary, 'name', host.name]);
    const ip = host.ns ? ['-n', host.ns] : [];
    await execa('ip', [...ip, 'addr', 'add', host.address, 'dev', host.name]);
    await execa('ip', [...ip, 'link', 'set', host.name, 'up']);
    if (!host.ns) this.rootLinks.push(host.name);
  }

  /** Runs a command in a namespace (or the root namespace) and waits for it. */
  async run(ns: string | undefined, command: string, args: string[]): Promise<string> {
    const result = ns ? await execa('ip', ['netns', 'exec', ns, command, ...args]) : await execa(command, args);
    return String(result.stdout);
  }

  /**
   * Starts a long-running command in a namespace; it is stopped by destroy. Its output goes to a
   * log file (`logs`), not to memory: a pipe that fills up would kill a chatty server with SIGPIPE.
   */
  spawn(ns: string, command: string, args: string[], env: Record<string, string> = {}): ChildProcess {
    this.logs ??= mkdtempSync(join(tmpdir(), 'hybridctl-netns-'));
    // The file itself, not a pipe to it through this process (which is busy with the test).
    const log = openSync(join(this.logs, `${ns}-${command.split('/').pop()}-${this.children.length}.log`), 'a');
    const [launcher, launch] = diesWithTests('ip', ['netns', 'exec', ns, command, ...args]);
    const child = spawn(launcher, launch, { env: { ...process.env, ...env }, stdio: ['ignore', log, log] });
    closeSync(log);
    this.children.push({ child, done: once(child, 'exit') });
    return child;
  }

  /** Stops the processes it started and removes its namespaces (and with them their interfaces). */
  async destroy(): Promise<void> {
    const running = () => this.children.filter(({ child }) => child.exitCode === null && child.signalCode === null);
    for (const { child } of running()) child.kill('SIGTERM');
    await Promise.all(this.children.map(({ done }) => Promise.race([done, new Promise((r) => setTimeout(r, 3000))])));
    for (const { child } of running()) child.kill('SIGKILL');
    for (const link of this.rootLinks) await execa('ip', ['link', 'del', link], { reject: false });
    for (const name of this.names.reverse()) await execa('ip', ['netns', 'del', name], { reject: false });
    if (this.logs) rmSync(this.logs, { recursive: true, force: true });
  }
}
