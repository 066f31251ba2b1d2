import { resolve } from 'node:path';
import { parse } from 'yaml';
import { TALOSCONFIG_FILE } from '../talos/site.ts';
import { mergeTalosconfig, readContext } from '../talos/talosconfig.ts';
import { report } from './options.ts';
import type { HybridConfig } from '../core/config/schema.ts';
import { type AccessOptions, freshState, mergeTarget, missing, readOrEmpty, writeSecretFile } from './access-files.ts';

/** Writes the talosconfig (a context per site), or merges it into ~/.talos/config. */
export async function run(options: AccessOptions, config: HybridConfig): Promise<number> {
  const state = await freshState(options, config);
  const ours = await state.read(TALOSCONFIG_FILE);
  if (!ours) throw missing('talosconfig', state);
  const names = Object.keys((parse(ours) as { contexts?: Record<string, unknown> }).contexts ?? {});
  const contexts = names.flatMap((name) => readContext(ours, name) ?? []);
  const target = options.merge ? mergeTarget('TALOSCONFIG', '.talos/config') : (options.out ?? 'talosconfig');
  const text = options.merge ? mergeTalosconfig(await readOrEmpty(target), contexts, names[0]) : ours;
  await writeSecretFile(target, text);
  report(options, `${options.merge ? 'merged' : 'wrote'} ${target}: contexts ${names.join(', ')}`, {
    file: resolve(target),
    merged: options.merge === true,
    contexts: names,
  });
  return 0;
}
