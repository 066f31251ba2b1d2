import type { StateDir } from '../core/state.ts';
import { KubeClient, KubeError } from './client.ts';
import type { KubeSite } from './object-kind.ts';

export interface KubeOptions {
  /** Take fields over from other field managers (`up --force-conflicts`). */
  forceConflicts?: boolean;
}

/**
 * What the Kubernetes kinds need from a site whose admin kubeconfig is `file` in the state
 * directory. There is a client once the file exists (the Talos kinds write it during `up`), and
 * a new one if they rewrite it.
 */
export function kubeSite(site: string, cluster: string, state: StateDir, file: string, rolloutSeconds: number, options: KubeOptions = {}): KubeSite {
  let current: { text: string; client: KubeClient } | undefined;
  return {
    site,
    cluster,
    forceConflicts: options.forceConflicts ?? false,
    rolloutMs: rolloutSeconds * 1000,
    async kube() {
      const text = await state.read(file);
      if (!text) return undefined;
      if (current?.text !== text) current = { text, client: new KubeClient(site, text) };
      return current.client;
    },
  };
}

/** The site's client when acting: by then the site's kubeconfig must exist. */
export async function requireClient(site: KubeSite): Promise<KubeClient> {
  const client = await site.kube();
  if (!client) throw new KubeError(site.site, 'no kubeconfig for this site yet', undefined, undefined, "the site's cluster must be up first (`hybridctl up`)");
  return client;
}
