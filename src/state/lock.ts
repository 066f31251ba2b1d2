import { readFileSync, readlinkSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { ActionError } from '../core/errors.ts';
import type { StateDir } from '../core/state.ts';
import type { StateBucket } from './bucket.ts';

/** Who holds the lock: enough to find the run and to judge whether it is still alive. */
export interface LockHolder {
  who: string;
  host: string;
  pid: number;
  command: string;
  since: string;
  renewed: string;
  /** The kernel boot and process namespace the pid belongs to (Linux), so a dead holder on this machine can be recognised. */
  machine?: string;
}

/** The lock is renewed this often while the run lives; a lock not renewed for several periods is probably stale. */
export const RENEW_MS = 30_000;
const LOCAL_FILE = '.lock';

export interface RunLock {
  /** Where it is held: `bucket` (every operator sees it) or `local` (this machine, before the bucket exists). */
  where: 'bucket' | 'local';
  /** `down` is about to delete the bucket the lock lives in: a lock object gone with it is not a lock taken away. */
  stopRenewing(): void;
  release(): Promise<void>;
}

export class LockHeldError extends ActionError {
  override name = 'LockHeldError';
  constructor(holder: LockHolder | undefined, where: string, now = Date.now()) {
    super(`the cluster is locked ${where}: ${describeHolder(holder, now)}`, 'wait for that run to finish; if it is gone (its machine stopped, or it was killed), run `hybridctl unlock`');
  }
}

export function describeHolder(holder: LockHolder | undefined, now = Date.now()): string {
  if (!holder) return 'by a run that left no details';
  const age = (iso: string) => formatAge(now - Date.parse(iso));
  const stale = now - Date.parse(holder.renewed) > 4 * RENEW_MS ? ', and looks stale' : '';
  return `by ${holder.who}@${holder.host} (\`hybridctl ${holder.command}\`, pid ${holder.pid}) since ${holder.since} (${age(holder.since)} ago), last renewed ${age(holder.renewed)} ago${stale}`;
}

function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}

function holderNow(command: string, since: string): LockHolder {
  const machine = thisMachine();
  return { who: userInfo().username, host: hostname(), pid: process.pid, command, since, renewed: new Date().toISOString(), ...(machine ? { machine } : {}) };
}

/**
 * The boot and pid namespace this process runs in: a pid means one process only within both. A
 * host name does not do (containers share names, and each has its own pids).
 */
function thisMachine(): string | undefined {
  try {
    return `${readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()}/${readlinkSync('/proc/self/ns/pid')}`;
  } catch {
    return undefined;
  }
}

/** A holder that ran in this boot and pid namespace and whose process is gone: nobody holds its lock. */
export function holderIsGone(holder: LockHolder | undefined): holder is LockHolder {
  const machine = thisMachine();
  return holder?.machine !== undefined && holder.machine === machine && !alive(holder.pid);
}

export function parseHolder(text: string | undefined): LockHolder | undefined {
  try {
    return text ? (JSON.parse(text) as LockHolder) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The lock object in the state bucket, taken with a conditional write (If-None-Match: *), as
 * Terraform's S3 backend does; renewed (If-Match: our ETag) while the run lives; removed at the
 * end, only if it is still ours. `warn` is told when a dead run's lock is taken over, and if
 * someone else took ours away (`unlock`).
 */
export async function lockBucket(bucket: StateBucket, command: string, warn: (message: string) => void): Promise<RunLock> {
  const since = new Date().toISOString();
  let etag = await bucket.createLock(JSON.stringify(holderNow(command, since)));
  if (etag === undefined) {
    const held = await bucket.readLock();
    const holder = parseHolder(held?.text);
    if (!held || !holderIsGone(holder)) throw new LockHeldError(holder, `in ${bucket.name}`);
    // Its run was killed on this machine: remove exactly that lock (a live run's renewal would keep it) and try once more.
    warn(`the run lock was left by \`hybridctl ${holder.command}\` (pid ${holder.pid} on this machine), which is gone: taking it over`);
    if (await bucket.deleteLock(held.etag)) etag = await bucket.createLock(JSON.stringify(holderNow(command, since)));
    if (etag === undefined) throw new LockHeldError(parseHolder((await bucket.readLock())?.text), `in ${bucket.name}`);
  }
  let renewing: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    renewing = (async () => {
      if (etag === undefined) return;
      etag = await bucket.renewLock(JSON.stringify(holderNow(command, since)), etag);
      if (etag === undefined) warn(`the run lock in ${bucket.name} was taken away (by \`hybridctl unlock\`?): another run may now change the cluster too`);
    })().catch(() => undefined);
  }, RENEW_MS);
  timer.unref();
  return {
    where: 'bucket',
    stopRenewing() {
      clearInterval(timer);
    },
    async release() {
      clearInterval(timer);
      await renewing;
      if (etag !== undefined) await bucket.deleteLock(etag);
    },
  };
}

/** Before the bucket exists: a lock file in the state directory guards this machine. */
export async function lockLocally(state: StateDir, command: string, warn: (message: string) => void): Promise<RunLock> {
  const holder = holderNow(command, new Date().toISOString());
  if (!(await state.create(LOCAL_FILE, JSON.stringify(holder)))) {
    const existing = parseHolder(await state.read(LOCAL_FILE));
    if (holderIsGone(existing)) {
      warn(`the run lock was left by \`hybridctl ${existing.command}\` (pid ${existing.pid}), which is gone: taking it over`);
      // Only if it is still that dead run's: another run may have taken it over a moment ago.
      if (parseHolder(await state.read(LOCAL_FILE))?.since === existing.since) await state.remove(LOCAL_FILE);
      return lockLocally(state, command, warn);
    }
    throw new LockHeldError(existing, `in ${state.path(LOCAL_FILE)}`);
  }
  return {
    where: 'local',
    stopRenewing() {},
    async release() {
      if (parseHolder(await state.read(LOCAL_FILE))?.pid === process.pid) await state.remove(LOCAL_FILE);
    },
  };
}

/**
 * With the bucket lock taken: a run on this machine that began before the bucket existed holds
 * the directory's lock file only, and may still be running. Its file is removed if its run is
 * gone, and is otherwise a lock held.
 */
export async function heedLocalLock(state: StateDir): Promise<void> {
  const holder = await readLocalLock(state);
  if (!holder) return;
  if (!holderIsGone(holder)) throw new LockHeldError(holder, `in ${state.path(LOCAL_FILE)}`);
  await removeLocalLock(state);
}

export async function readLocalLock(state: StateDir): Promise<LockHolder | undefined> {
  return parseHolder(await state.read(LOCAL_FILE));
}

export async function removeLocalLock(state: StateDir): Promise<void> {
  await state.remove(LOCAL_FILE);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
