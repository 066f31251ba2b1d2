import { randomBytes } from 'node:crypto';
import { type ResultPromise, execa } from 'execa';

/**
 * Network namespaces a test makes for itself (as root): hosts joined by veth pairs, with
 * processes started inside. Everything is named with a prefix unique to this process, and
 * `destroy` removes it all (also after a failure: call it from afterAll).
 */
export class Netns {
  readonly prefix: string;
  private readonly names: string[] = [];
  private readonly children: { child: ResultPromise; done: boolean }[] = [];

  constructor() {
    // Interface names hold 15 characters: a short prefix leaves room for a role.
    this.prefix = `hc${randomBytes(2).toString('hex')}`;
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
    const ends = { a: `${this.prefix}a${suffix}`, b: `${this.prefix}b${suffix}` };
    await execa('ip', ['link', 'add', ends.a, 'type', 'veth', 'peer', 'name', ends.b]);
    for (const [end, side] of [[ends.a, a], [ends.b, b]] as const) {
      if (side.ns) await execa('ip', ['link', 'set', end, 'netns', side.ns]);
      const ip = side.ns ? ['-n', side.ns] : [];
      await execa('ip', [...ip, 'addr', 'add', side.address, ...(side.peer ? ['peer', side.peer] : []), 'dev', end]);
      await execa('ip', [...ip, 'link', 'set', end, 'up']);
    }
    return ends;
  }

  /** Runs a command in a namespace (or the root namespace) and waits for it. */
  async run(ns: string | undefined, command: string, args: string[]): Promise<string> {
    const result = ns ? await execa('ip', ['netns', 'exec', ns, command, ...args]) : await execa(command, args);
    return String(result.stdout);
  }

  /** Starts a long-running command in a namespace; it is stopped by destroy. */
  spawn(ns: string, command: string, args: string[], env: Record<string, string> = {}): ResultPromise {
    const child = execa('ip', ['netns', 'exec', ns, command, ...args], { env, reject: false, buffer: true, stdin: 'ignore' });
    const entry = { child, done: false };
    void child.then(() => {
      entry.done = true;
    });
    this.children.push(entry);
    return child;
  }

  /** Stops the processes it started and removes its namespaces (and with them their interfaces). */
  async destroy(): Promise<void> {
    for (const { child, done } of this.children) if (!done) child.kill('SIGTERM');
    await Promise.all(this.children.map(({ child }) => Promise.race([child, new Promise((r) => setTimeout(r, 3000))])));
    for (const { child, done } of this.children) if (!done) child.kill('SIGKILL');
    for (const name of this.names.reverse()) await execa('ip', ['netns', 'del', name], { reject: false });
    // veth ends left in the root namespace go with their peers; nothing else to remove.
  }
}
