import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, resolve } from 'node:path';
import type { HybridConfig } from '../core/config/schema.ts';
import { UsageError } from '../core/errors.ts';
import type { StateDir } from '../core/state.ts';
import type { GlobalOptions } from './options.ts';
import { withFreshState } from './state-access.ts';

export interface AccessOptions extends GlobalOptions {
  merge?: boolean;
  out?: string;
}

/** The state directory, with what the state bucket has new (a second operator's first `kubeconfig` fetches it). */
export async function freshState(options: GlobalOptions, config: HybridConfig): Promise<StateDir> {
  return (await withFreshState(options, config)).state;
}

export async function readOrEmpty(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Writes an access file (it holds credentials: mode 0600), creating its folder. */
export async function writeSecretFile(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, text, { mode: 0o600 });
  // An existing file keeps its mode on write: tighten it.
  await chmod(file, 0o600);
}

/** `--merge` goes to the tool's usual file (first path of the environment variable, else the home default). */
export function mergeTarget(envVar: string, homeDefault: string): string {
  const fromEnv = process.env[envVar]?.split(':')[0];
  return resolve(fromEnv || `${homedir()}/${homeDefault}`);
}

export function missing(what: string, state: StateDir): UsageError {
  return new UsageError(`no ${what} in ${state.root} yet; run \`hybridctl up\` first (or pass --state-dir)`);
}
