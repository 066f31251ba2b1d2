import { type ResourceKind, type Val, known } from '../../core/engine/model.ts';
import { type SecretsBundle } from '../secrets.ts';
import { TALOSCONFIG_FILE, type TalosSite, contextName } from '../site.ts';
import { adminCertificate, contextUsable, mergeTalosconfig, readContext, removeContexts } from '../talosconfig.ts';
import { readSiteBundle } from './secrets.ts';

export const TALOSCONFIG_ID = 'talosconfig';

export interface TalosconfigSpec {
  clusterId: Val;
  endpoints: Val[];
  nodes: Val[];
}

export interface TalosconfigState {
  endpoints: string[];
  nodes: string[];
  /** The admin certificate is ours and good for another month. */
  usable: boolean;
}

/** The site's context in the state directory's talosconfig (one file, a context per site). */
export const talosconfigKind: ResourceKind<TalosconfigSpec, TalosconfigState, TalosSite> = {
  kind: 'talosconfig',

  async observe({ provider }) {
    const context = readContext(await provider.state.read(TALOSCONFIG_FILE), contextName(provider));
    if (!context) return [];
    const bundle = (await readSiteBundle(provider))?.bundle;
    const usable = bundle ? contextUsable(context, bundle) : false;
    return [{ id: TALOSCONFIG_ID, ref: `${provider.state.path(TALOSCONFIG_FILE)}#${context.name}`, state: { endpoints: context.endpoints, nodes: context.nodes, usable } }];
  },

  diff(state, spec) {
    const changes = [];
    if (!state.usable) changes.push({ field: 'certificate', from: 'not from this CA, or expiring', to: 'a new os:admin certificate' });
    if (JSON.stringify(state.endpoints) !== JSON.stringify(spec.endpoints)) changes.push({ field: 'endpoints', from: state.endpoints, to: spec.endpoints });
    if (JSON.stringify(state.nodes) !== JSON.stringify(spec.nodes)) changes.push({ field: 'nodes', from: state.nodes, to: spec.nodes });
    return { changes };
  },

  describe(spec) {
    return { endpoints: spec.endpoints, nodes: spec.nodes, certificate: 'os:admin, Ed25519, one year' };
  },

  async create(spec, ctx) {
    const site = ctx.provider;
    const bundle: SecretsBundle | undefined = (await readSiteBundle(site))?.bundle;
    if (!bundle) throw new Error(`the ${site.site} secrets bundle is missing`);
    const pair = await adminCertificate(bundle);
    const name = contextName(site);
    const endpoints = spec.endpoints.map(known);
    const nodes = spec.nodes.map(known);
    const context = { name, endpoints, nodes, ca: bundle.certs.os.crt, ...pair };
    const file = await site.state.update(TALOSCONFIG_FILE, (existing) => mergeTalosconfig(existing, [context], existing ? undefined : name));
    return { id: ctx.id, ref: `${file}#${name}`, state: { endpoints, nodes, usable: true } };
  },

  async update(_found, spec, _changes, ctx) {
    return this.create(spec, ctx);
  },

  async destroy(_found, ctx) {
    if (await ctx.provider.state.exists(TALOSCONFIG_FILE))
      await ctx.provider.state.update(TALOSCONFIG_FILE, (existing) => removeContexts(existing ?? '', [contextName(ctx.provider)]));
  },

  outputs(found) {
    return { endpoints: found.state.endpoints.join(',') };
  },
};
