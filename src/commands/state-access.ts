import { messageOf } from '../core/errors.ts';
import type { HybridConfig } from '../core/config/schema.ts';
import { type RunGuard, type StateAccess, guardRun, openState, refreshState } from '../state/run.ts';
import type { SyncResult } from '../state/sync.ts';
import { type GlobalOptions, pipelineOptions } from './options.ts';

export function stateAccess(options: GlobalOptions, config: HybridConfig): Promise<StateAccess> {
  return openState(config, pipelineOptions(options, true));
}

/**
 * Runs a command that changes the cluster under the run lock, with the state directory first
 * brought up to date from the bucket and what it changed stored back at the end, even when it fails.
 */
export async function withRunLock(
  options: GlobalOptions,
  config: HybridConfig,
  command: string,
  body: (access: StateAccess, guard: RunGuard) => Promise<number>,
): Promise<number> {
  const access = await stateAccess(options, config);
  const warn = (message: string) => process.stderr.write(`warning: ${message}\n`);
  const guard = await guardRun(access, command, warn);
  if (options.output === 'text' && guard.pulled) reportSync(guard.pulled, access);
  let code: number | undefined;
  try {
    code = await body(access, guard);
  } finally {
    // A failure to store the state must not hide the command's own failure.
    const stored = await guard.release().catch((error: unknown) => {
      if (code !== undefined) throw error;
      warn(`the state was not stored: ${messageOf(error)}; the next run stores it`);
      return undefined;
    });
    if (options.output === 'text' && stored) reportSync(stored, access);
  }
  return code;
}

/** For commands that only read state (plan, kubeconfig): the bucket's newer files first, no lock. */
export async function withFreshState(options: GlobalOptions, config: HybridConfig): Promise<StateAccess> {
  const access = await stateAccess(options, config);
  const pulled = await refreshState(access);
  if (options.output === 'text' && pulled) reportSync(pulled, access);
  return access;
}

function reportSync(result: SyncResult, access: StateAccess): void {
  const where = access.bucket ? `s3://${access.bucket.name}/state/` : 'the state bucket';
  if (result.pulled.length) process.stdout.write(`state: took ${result.pulled.join(', ')} from ${where}\n`);
  if (result.kept.length) process.stdout.write(`state: kept the local copies as ${result.kept.join(', ')}\n`);
  if (result.pushed.length) process.stdout.write(`state: stored ${result.pushed.join(', ')} in ${where}\n`);
}
