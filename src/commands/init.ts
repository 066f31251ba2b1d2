import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseConfig } from '../core/config/load.ts';
import { UsageError } from '../core/errors.ts';
import { type GlobalOptions, report } from './options.ts';

export interface InitOptions extends GlobalOptions {
  name?: string;
  force?: boolean;
}

const STARTER = new URL('../../templates/init/hybrid.yaml', import.meta.url);

/** Writes a commented starter config. */
export async function run(options: InitOptions): Promise<number> {
  let text = await readFile(STARTER, 'utf8');
  if (options.name) text = text.replace(/^( {2}name: )demo$/m, `$1${options.name}`);
  const config = parseConfig(text, '--name');
  try {
    await writeFile(options.config, text, { flag: options.force ? 'w' : 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new UsageError(`${options.config} already exists; pass --force to overwrite it`);
    throw error;
  }
  report(options, `wrote ${options.config}: set adminCidrs and the on-prem section, then run \`hybridctl plan\``, {
    file: resolve(options.config),
    cluster: config.metadata.name,
  });
  return 0;
}
