import { setTimeout as sleep } from 'node:timers/promises';
import { ActionError } from '../../core/errors.ts';

export interface AwaitAwsOptions {
  /** The AWS site is built in this run: wait for it instead of failing at once. */
  awsInRun: boolean;
  timeoutMs: number;
}

/**
 * For an on-prem condition on something the AWS site makes (the VPN gateway's address, the
 * managed Prometheus workspace): polls `read` until it finds it. `read` gives undefined when AWS
 * cannot be asked, null when the thing is not there yet.
 */
export async function awaitAwsSide<T>(what: string, read: () => Promise<T | null | undefined>, options: AwaitAwsOptions, ctx: { report(message: string): void; signal: AbortSignal }): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const found = await read();
    if (found) return found;
    if (found === undefined) throw new ActionError(`the on-prem site needs ${what}, and hybridctl cannot ask AWS for it (no AWS credentials)`, 'set AWS credentials (AWS_PROFILE or --profile) and re-run');
    if (!options.awsInRun) throw new ActionError(`${what} does not exist yet`, 'run `hybridctl up` for both sites, or `hybridctl up --site aws` first');
    if (Date.now() > deadline) throw new ActionError(`${what} was not there after ${Math.round(options.timeoutMs / 1000)}s`, 'see what failed on the AWS site, fix it, and re-run');
    ctx.report(`waiting for ${what}`);
    await sleep(3_000, undefined, { signal: ctx.signal });
  }
}
