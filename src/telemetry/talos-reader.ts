import { X509Certificate } from 'node:crypto';
import type { ResourceKind } from '../core/engine/model.ts';
import { ActionError } from '../core/errors.ts';
import { requireClient } from '../kube/access.ts';
import type { KubeSite } from '../kube/object-kind.ts';
import { applyOwnedSecret, deleteOwnedSecret, ownedSecretAnnotations } from '../kube/owned-secret.ts';
import { readSiteBundle } from '../talos/kinds/secrets.ts';
import type { TalosSite } from '../talos/site.ts';
import { clientCertificate, talosconfigYaml } from '../talos/talosconfig.ts';
import { MONITORING_NAMESPACE } from './prometheus-config.ts';

export const TALOS_READER_ID = 'shipper-talosconfig';
export const TALOS_READER_SECRET = 'shipper-talosconfig';
/** Where the shipper's pod mounts it. */
export const TALOS_READER_DIR = '/etc/talos-reader';
const RENEW_BEFORE_MS = 30 * 86_400_000;
const ANNOTATION_EXPIRES = 'hybridctl.dev/expires-at';
const SECRET_REF = { name: TALOS_READER_SECRET, namespace: MONITORING_NAMESPACE };

interface ReaderState {
  expiresAt: string;
}

/**
 * The shipper's way into the Talos API: a talosconfig whose client certificate has the role
 * os:reader only (it can read services, versions and etcd members, change nothing), signed by the
 * site's Talos CA, in a Secret the shipper mounts. Renewed 30 days before it expires; a mounted
 * Secret's file follows the Secret, so the shipper needs no restart.
 */
export const talosReaderKind: ResourceKind<Record<string, never>, ReaderState, KubeSite & TalosSite> = {
  kind: 'talos-reader-config',

  async observe({ provider }) {
    const client = await provider.kube();
    const annotations = client && (await ownedSecretAnnotations(client, SECRET_REF, provider.cluster));
    const state = annotations && { expiresAt: annotations[ANNOTATION_EXPIRES] ?? '' };
    return state ? [{ id: TALOS_READER_ID, ref: `${MONITORING_NAMESPACE}/${TALOS_READER_SECRET}`, state }] : [];
  },

  diff(state) {
    const left = new Date(state.expiresAt).getTime() - Date.now();
    return left > RENEW_BEFORE_MS ? { changes: [] } : { changes: [{ field: 'certificate', from: `expires ${state.expiresAt || 'unknown'}`, to: 'renewed' }] };
  },

  describe() {
    return { secret: `${MONITORING_NAMESPACE}/${TALOS_READER_SECRET}`, role: 'os:reader', renewal: '30 days before it expires' };
  },

  async create(_spec, ctx) {
    const client = await requireClient(ctx.provider);
    const secrets = await readSiteBundle(ctx.provider);
    if (!secrets) throw new ActionError(`${ctx.provider.site} site: no Talos secrets bundle yet`, 'the site\'s Talos layer makes it: run `hybridctl up` for the site');
    const pair = await clientCertificate(secrets.bundle, 'os:reader');
    const name = `${ctx.provider.clusterName}-reader`;
    const talosconfig = talosconfigYaml([{ name, endpoints: [], nodes: [], ca: secrets.bundle.certs.os.crt, ...pair }], name);
    const expiresAt = new Date(new X509Certificate(pair.crt).validTo).toISOString();
    await applyOwnedSecret(client, SECRET_REF, { cluster: ctx.provider.cluster, component: 'telemetry' }, { annotations: { [ANNOTATION_EXPIRES]: expiresAt }, stringData: { config: talosconfig } });
    return { id: ctx.id, ref: `${MONITORING_NAMESPACE}/${TALOS_READER_SECRET}`, state: { expiresAt } };
  },

  async update(_found, spec, _changes, ctx) {
    return this.create(spec, ctx);
  },

  async destroy(_found, ctx) {
    await deleteOwnedSecret(await ctx.provider.kube(), SECRET_REF);
  },

  outputs() {
    return { name: TALOS_READER_SECRET };
  },
};
