import { parse } from 'yaml';
import { toYaml } from '../core/yaml.ts';

interface Named {
  name: string;
  [key: string]: unknown;
}

interface KubeconfigFile {
  apiVersion?: string;
  kind?: string;
  clusters?: Named[];
  users?: Named[];
  contexts?: Named[];
  'current-context'?: string;
  [key: string]: unknown;
}

/**
 * Merges kubeconfigs the way `kubectl config` keeps them: clusters, users and contexts by name,
 * ours replacing entries with the same name and leaving every other entry alone.
 */
export function mergeKubeconfigs(existing: string | undefined, additions: readonly string[], currentContext?: string): string {
  const base: KubeconfigFile = (existing ? (parse(existing) as KubeconfigFile | null) : null) ?? {};
  base.apiVersion ??= 'v1';
  base.kind ??= 'Config';
  for (const text of additions) {
    const add = parse(text) as KubeconfigFile;
    for (const list of ['clusters', 'users', 'contexts'] as const) {
      const entries = base[list] ?? [];
      for (const entry of add[list] ?? []) {
        const index = entries.findIndex((e) => e.name === entry.name);
        if (index >= 0) entries[index] = entry;
        else entries.push(entry);
      }
      base[list] = entries;
    }
    if (!base['current-context'] && add['current-context']) base['current-context'] = add['current-context'];
  }
  if (currentContext) base['current-context'] = currentContext;
  return toYaml(base);
}
