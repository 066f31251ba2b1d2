import { resolve } from 'node:path';
import { SITES } from '../core/config/schema.ts';
import { mergeKubeconfigs } from '../kube/kubeconfig-file.ts';
import { kubeconfigFileName } from '../talos/site.ts';
import type { HybridConfig } from '../core/config/schema.ts';
import { type AccessOptions, freshState, mergeTarget, missing, readOrEmpty, writeSecretFile } from './access-files.ts';
import { report, sitesOf } from './options.ts';

/** Writes the sites' admin kubeconfigs as one file (a context per site), or merges them into ~/.kube/config. */
export async function run(options: AccessOptions, config: HybridConfig): Promise<number> {
  const state = await freshState(options, config);
  const sites = options.site ? sitesOf(options) : [...SITES];
  const read = await Promise.all(sites.map(async (site) => ({ site, text: await state.read(kubeconfigFileName(site)) })));
  const found = read.flatMap((r) => (r.text === undefined ? [] : [{ site: r.site, text: r.text }]));
  if (found.length === 0) throw missing('kubeconfig', state);
  const target = options.merge ? mergeTarget('KUBECONFIG', '.kube/config') : (options.out ?? 'kubeconfig');
  const text = mergeKubeconfigs(options.merge ? await readOrEmpty(target) : undefined, found.map((f) => f.text));
  await writeSecretFile(target, text);
  report(options, `${options.merge ? 'merged' : 'wrote'} ${target} (${found.length} site${found.length > 1 ? 's' : ''})`, {
    file: resolve(target),
    merged: options.merge === true,
    sites: found.map((f) => f.site),
  });
  return 0;
}
