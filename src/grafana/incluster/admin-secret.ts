import { randomBytes } from 'node:crypto';
import type { ResourceKind } from '../../core/engine/model.ts';
import { requireClient } from '../../kube/access.ts';
import type { KubeSite } from '../../kube/object-kind.ts';
import { applyOwnedSecret, deleteOwnedSecret, ownedSecretAnnotations } from '../../kube/owned-secret.ts';
import { MONITORING_NAMESPACE } from '../../telemetry/prometheus-config.ts';
import { GRAFANA_ADMIN_SECRET } from './manifests.ts';

export const GRAFANA_ADMIN_ID = 'grafana-admin';
const SECRET_REF = { name: GRAFANA_ADMIN_SECRET, namespace: MONITORING_NAMESPACE };

/**
 * The in-cluster Grafana's admin password: random, made once in the cluster and kept there (never
 * in the state directory, the plan or a log). `hybridctl grafana open` tells how to read it.
 */
export const grafanaAdminKind: ResourceKind<Record<string, never>, Record<string, never>, KubeSite> = {
  kind: 'grafana-admin-password',

  async observe({ provider }) {
    const client = await provider.kube();
    const found = client && (await ownedSecretAnnotations(client, SECRET_REF, provider.cluster));
    return found ? [{ id: GRAFANA_ADMIN_ID, ref: `${MONITORING_NAMESPACE}/${GRAFANA_ADMIN_SECRET}`, state: {} }] : [];
  },

  diff() {
    return { changes: [] };
  },

  describe() {
    return { secret: `${MONITORING_NAMESPACE}/${GRAFANA_ADMIN_SECRET}`, password: 'random, made in the cluster' };
  },

  async create(_spec, ctx) {
    const client = await requireClient(ctx.provider);
    const password = randomBytes(24).toString('base64url');
    await applyOwnedSecret(client, SECRET_REF, { cluster: ctx.provider.cluster, component: 'grafana' }, { annotations: {}, stringData: { user: 'admin', password } });
    return { id: ctx.id, ref: `${MONITORING_NAMESPACE}/${GRAFANA_ADMIN_SECRET}`, state: {} };
  },

  async update(found) {
    return found;
  },

  async destroy(_found, ctx) {
    await deleteOwnedSecret(await ctx.provider.kube(), SECRET_REF);
  },

  outputs() {
    return { name: GRAFANA_ADMIN_SECRET };
  },
};
