import { parse } from 'yaml';
import { toYaml } from '../../core/yaml.ts';
import { type ResourceKind, type Val, known } from '../../core/engine/model.ts';
import { adminCredentials } from '../credentials.ts';
import { waitHealthy } from '../health.ts';
import { type TalosSite, connect, kubeconfigFileName, withClient } from '../site.ts';
import { readSiteBundle } from './secrets.ts';

export const KUBECONFIG_ID = 'kubeconfig';

export interface KubeconfigSpec {
  /** The control plane to ask (after bootstrap). */
  node: Val;
  controlPlanes: Val[];
  /** The Kubernetes API endpoint the kubeconfig names. */
  endpoint: Val;
  via: Val | undefined;
}

export interface KubeconfigState {
  file: string;
  server: string;
}

interface KubeconfigFile {
  clusters?: { name: string; cluster: { server?: string } }[];
  contexts?: { name: string; context: { cluster: string; user: string } }[];
  users?: { name: string }[];
  'current-context'?: string;
}

/** The site's admin kubeconfig in the state directory, fetched from Talos once the control plane is healthy. */
export const kubeconfigKind: ResourceKind<KubeconfigSpec, KubeconfigState, TalosSite> = {
  kind: 'kubeconfig',

  async observe({ provider }) {
    const name = kubeconfigFileName(provider.site);
    const text = await provider.state.read(name);
    if (!text) return [];
    const server = (parse(text) as KubeconfigFile | null)?.clusters?.[0]?.cluster.server ?? '';
    return [{ id: KUBECONFIG_ID, ref: provider.state.path(name), state: { file: provider.state.path(name), server } }];
  },

  diff(state, spec) {
    return state.server === spec.endpoint ? { changes: [] } : { changes: [{ field: 'server', from: state.server, to: spec.endpoint }] };
  },

  describe(spec) {
    return { from: spec.node, server: spec.endpoint };
  },

  async create(spec, ctx) {
    const site = ctx.provider;
    const bundle = (await readSiteBundle(site))?.bundle;
    if (!bundle) throw new Error(`cannot fetch the ${site.site} kubeconfig: no secrets bundle`);
    const creds = await adminCredentials(bundle);
    const via = spec.via === undefined ? undefined : known(spec.via);
    await waitHealthy(site, creds, spec.controlPlanes.map(known), via, ctx.report);
    ctx.report('fetching the admin kubeconfig');
    const text = await withClient(connect({ address: known(spec.node) }, creds, site.timeouts, { via }), (c) => c.kubeconfig());
    const renamed = renameContext(text, site.clusterName);
    const file = await site.state.write(kubeconfigFileName(site.site), renamed);
    const server = (parse(renamed) as KubeconfigFile).clusters?.[0]?.cluster.server ?? '';
    return { id: ctx.id, ref: file, state: { file, server } };
  },

  async update(_found, spec, _changes, ctx) {
    return this.create(spec, ctx);
  },

  async destroy(_found, ctx) {
    await ctx.provider.state.remove(kubeconfigFileName(ctx.provider.site));
  },

  outputs(found) {
    return { file: found.state.file, server: found.state.server };
  },
};

/** Names the cluster, user and context after the site's cluster, so both sites merge into one ~/.kube/config. */
export function renameContext(text: string, clusterName: string): string {
  const file = parse(text) as KubeconfigFile;
  const user = `admin@${clusterName}`;
  for (const c of file.clusters ?? []) c.name = clusterName;
  for (const u of file.users ?? []) u.name = user;
  for (const c of file.contexts ?? []) {
    c.name = user;
    c.context.cluster = clusterName;
    c.context.user = user;
  }
  file['current-context'] = user;
  return toYaml(file);
}
