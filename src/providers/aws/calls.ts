import { setTimeout as sleep } from 'node:timers/promises';
import { errorCode, isNotFound } from './errors.ts';
import type { AwsAct } from './provider.ts';

/** Runs a delete, treating "already gone" as done. */
export async function deleting(call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

/** Runs a read; undefined when the thing does not exist. */
export async function ifExists<T>(call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

const STILL_IN_USE = new Set(['DependencyViolation', 'InvalidIPAddress.InUse']);

/**
 * Retries while AWS reports a dependency that is on its way out (a network interface of a NAT
 * gateway just deleted, say). Gives up after `timeoutMs` with the last error.
 */
export async function retryWhileDependent<T>(ctx: AwsAct, what: string, call: () => Promise<T>, timeoutMs = 300_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 2_000; ; delay = Math.min(delay * 2, 20_000)) {
    try {
      return await call();
    } catch (error) {
      if (!STILL_IN_USE.has(errorCode(error)) || Date.now() + delay > deadline) throw error;
      ctx.report(`waiting for dependencies of ${what} to go away`);
      await sleep(delay, undefined, { signal: ctx.signal });
    }
  }
}

/**
 * Reads a resource until its status is ACTIVE (a workspace takes minutes to become usable),
 * reporting what it waits for; a failed status ends the wait with it, and so does `timeoutMs`.
 */
export async function untilActive<T>(
  ctx: Pick<AwsAct, 'report' | 'signal'>,
  what: string,
  read: () => Promise<{ status: string | undefined; value: T }>,
  options: { failed: readonly string[]; timeoutMs: number; pollMs: number },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const { status, value } = await read();
    if (status === 'ACTIVE') return value;
    if (status && options.failed.includes(status)) throw new Error(`${what} is ${status}`);
    if (Date.now() > deadline) throw new Error(`${what} is still ${status} after ${options.timeoutMs / 60_000} minutes`);
    ctx.report(`waiting for ${what} to become ACTIVE (now ${status})`);
    ctx.signal.throwIfAborted();
    await sleep(options.pollMs);
  }
}

export async function collect<T>(pages: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const page of pages) out.push(page);
  return out;
}
