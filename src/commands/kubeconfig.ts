import { SITES } from '../core/config/schema.ts';
import { mergeKubeconfigs } from '../kube/kubeconfig-file.ts';
import { kubeconfigFileName } from '../talos/site.ts';
import { type AccessOptions, mergeTarget, missing, readOrEmpty, stateFor, writeSecretFile } from './access-files.ts';
import { sitesOf } from './options.ts';

/** Writes the sites' admin kubeconfigs as one file (a context per site), or merges them into ~/.kube/config. */
export async function run(options: AccessOptions): Promise<number> {
  const { state } = await stateFor(options);
  const sites = options.site ? sitesOf(options) : [...SITES];
  const found = (await Promise.all(sites.map((site) => state.read(kubeconfigFileName(site))))).filter((t): t is string => t !== undefined);
  if (found.length === 0) throw missing('kubeconfig', state);
  const target = options.merge ? mergeTarget('KUBECONFIG', '.kube/config') : (options.out ?? 'kubeconfig');
  const text = mergeKubeconfigs(options.merge ? await readOrEmpty(target) : undefined, found);
  await writeSecretFile(target, text);
  process.stdout.write(`${options.merge ? 'merged' : 'wrote'} ${target} (${found.length} site${found.length > 1 ? 's' : ''})\n`);
  return 0;
}
