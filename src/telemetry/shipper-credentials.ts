import { CreateAccessKeyCommand, DeleteAccessKeyCommand, GetUserCommand, type IAMClient, ListAccessKeysCommand, NoSuchEntityException } from '@aws-sdk/client-iam';
import type { ResourceKind, Val } from '../core/engine/model.ts';
import { requireClient } from '../kube/access.ts';
import type { KubeClient } from '../kube/client.ts';
import type { KubeSite } from '../kube/object-kind.ts';
import { applyOwnedSecret, deleteOwnedSecret, ownedSecretAnnotations } from '../kube/owned-secret.ts';
import { MONITORING_NAMESPACE } from './prometheus-config.ts';
import { SHIPPER_CREDENTIALS_SECRET } from './shipper-manifests.ts';

export const SHIPPER_CREDENTIALS_ID = 'shipper-credentials';
/** A key older than this is replaced by the next `up`. */
export const ROTATE_AFTER_DAYS = 30;
const ANNOTATION_KEY = 'hybridctl.dev/access-key-id';
const ANNOTATION_CREATED = 'hybridctl.dev/created-at';
const SECRET_REF = { name: SHIPPER_CREDENTIALS_SECRET, namespace: MONITORING_NAMESPACE };

/** The IAM user whose key the on-prem shipper gets; the AWS site makes the user. */
export interface ShipperKeySource {
  iam: IAMClient;
  userName: string;
  /** How long to wait for the user when the AWS site is being built in the same run (0: it must exist). */
  waitMs: number;
  /** Planning without credentials: IAM is not asked. */
  offline: boolean;
}

export interface ShipperCredentialsState {
  accessKeyId: string;
  createdAt: string;
}

/**
 * The on-prem shipper's AWS key, as a Secret in the monitoring namespace. `up` makes a new key
 * when there is none or it is older than ROTATE_AFTER_DAYS, writes it, and then deletes the
 * user's other keys. The secret part goes from IAM to the Secret and nowhere else (no state file,
 * no output).
 */
export function shipperCredentialsKind(source: ShipperKeySource): ResourceKind<Record<string, never>, ShipperCredentialsState, KubeSite> {
  return {
    kind: 'shipper-credentials',

    async observe({ provider }) {
      const client = await provider.kube();
      const state = client && (await keyInSecret(client, provider.cluster));
      if (!state) return [];
      // A key IAM no longer has (the user was made again, say) is as good as none.
      const live = source.offline || (await keyIds(source)).includes(state.accessKeyId);
      return [{ id: SHIPPER_CREDENTIALS_ID, ref: `${MONITORING_NAMESPACE}/${SHIPPER_CREDENTIALS_SECRET}`, state: live ? state : { ...state, accessKeyId: '' } }];
    },

    diff(state) {
      return rotationDue(state) ? { changes: [{ field: 'key', from: `made ${state.createdAt || 'never'}`, to: 'rotated' }] } : { changes: [] };
    },

    describe() {
      return { user: source.userName, secret: `${MONITORING_NAMESPACE}/${SHIPPER_CREDENTIALS_SECRET}`, rotation: `every ${ROTATE_AFTER_DAYS} days` };
    },

    async create(_spec, ctx) {
      const client = await requireClient(ctx.provider);
      const current = (await keyInSecret(client, ctx.provider.cluster))?.accessKeyId;
      await waitForUser(source, ctx.signal);
      // IAM allows two keys a user: keep only the one pods still use while the next is made.
      for (const id of await keyIds(source)) if (id !== current) await source.iam.send(new DeleteAccessKeyCommand({ UserName: source.userName, AccessKeyId: id }));
      const made = await source.iam.send(new CreateAccessKeyCommand({ UserName: source.userName }));
      const key = made.AccessKey;
      if (!key?.AccessKeyId || !key.SecretAccessKey) throw new Error(`iam:CreateAccessKey for ${source.userName} returned no key`);
      const createdAt = (key.CreateDate ?? new Date()).toISOString();
      await applyOwnedSecret(client, SECRET_REF, { cluster: ctx.provider.cluster, component: 'telemetry' }, {
        annotations: { [ANNOTATION_KEY]: key.AccessKeyId, [ANNOTATION_CREATED]: createdAt },
        stringData: { AWS_ACCESS_KEY_ID: key.AccessKeyId, AWS_SECRET_ACCESS_KEY: key.SecretAccessKey },
      });
      // The replaced key goes once the pods have rolled to this one (retiredKeysKind).
      return { id: ctx.id, ref: `${MONITORING_NAMESPACE}/${SHIPPER_CREDENTIALS_SECRET}`, state: { accessKeyId: key.AccessKeyId, createdAt } };
    },

    async update(_found, spec, _changes, ctx) {
      return this.create(spec, ctx);
    },

    async destroy(found, ctx) {
      const client = await ctx.provider.kube();
      await deleteOwnedSecret(client, SECRET_REF);
      if (found.state.accessKeyId) await source.iam.send(new DeleteAccessKeyCommand({ UserName: source.userName, AccessKeyId: found.state.accessKeyId })).catch(ignoreMissing);
    },

    outputs(found) {
      // A key about to be replaced has no id to plan with: what takes it plans a change too.
      return { name: SHIPPER_CREDENTIALS_SECRET, ...(rotationDue(found.state) ? {} : { accessKeyId: found.state.accessKeyId }) };
    },
  };
}

function rotationDue(state: ShipperCredentialsState): boolean {
  const age = Date.now() - new Date(state.createdAt).getTime();
  return !state.accessKeyId || !(age < ROTATE_AFTER_DAYS * 86_400_000);
}

export const RETIRED_KEYS_ID = 'shipper-credentials-retired';

/**
 * A condition after the rollouts of every pod that reads the key's Secret: the user has no key
 * but the one the Secret holds. Where it has others (just replaced), deletes them.
 */
export function retiredKeysKind(source: ShipperKeySource): ResourceKind<{ accessKeyId: Val }, { accessKeyId: string }, KubeSite> {
  const unused = async (client: KubeClient, cluster: string) => {
    const current = (await keyInSecret(client, cluster))?.accessKeyId;
    return { current, others: (await keyIds(source).catch(() => [])).filter((id) => id !== current) };
  };
  return {
    kind: 'shipper-key-retirement',
    condition: true,

    async observe({ provider }) {
      const client = await provider.kube();
      if (!client || source.offline) return [];
      const { current, others } = await unused(client, provider.cluster);
      return current && others.length === 0 ? [{ id: RETIRED_KEYS_ID, ref: source.userName, state: { accessKeyId: current } }] : [];
    },

    diff(state, spec) {
      // A key made in this run (unknown while planning) leaves the one it replaced to delete.
      return spec.accessKeyId === state.accessKeyId ? { changes: [] } : { changes: [{ field: 'keys', from: 'replaced key kept', to: 'deleted' }] };
    },

    describe() {
      return { deletes: `${source.userName}'s replaced keys, once every pod reading the Secret has rolled` };
    },

    async create(_spec, ctx) {
      const client = await requireClient(ctx.provider);
      const { current, others } = await unused(client, ctx.provider.cluster);
      for (const id of others) await source.iam.send(new DeleteAccessKeyCommand({ UserName: source.userName, AccessKeyId: id })).catch(ignoreMissing);
      return { id: ctx.id, ref: source.userName, state: { accessKeyId: current ?? '' } };
    },

    async update(_found, spec, _changes, ctx) {
      return this.create(spec, ctx);
    },

    async destroy() {},

    outputs() {
      return {};
    },
  };
}

async function keyInSecret(client: KubeClient, cluster: string): Promise<ShipperCredentialsState | undefined> {
  const a = await ownedSecretAnnotations(client, SECRET_REF, cluster);
  return a && { accessKeyId: a[ANNOTATION_KEY] ?? '', createdAt: a[ANNOTATION_CREATED] ?? '' };
}

/** The user's active keys; none while the user does not exist. */
async function keyIds(source: ShipperKeySource): Promise<string[]> {
  try {
    const listed = await source.iam.send(new ListAccessKeysCommand({ UserName: source.userName }));
    return (listed.AccessKeyMetadata ?? []).flatMap((k) => (k.AccessKeyId && k.Status !== 'Inactive' ? [k.AccessKeyId] : []));
  } catch (error) {
    if (error instanceof NoSuchEntityException) return [];
    throw error;
  }
}

async function waitForUser(source: ShipperKeySource, signal: AbortSignal | undefined): Promise<void> {
  const deadline = Date.now() + source.waitMs;
  for (;;) {
    try {
      await source.iam.send(new GetUserCommand({ UserName: source.userName }));
      return;
    } catch (error) {
      if (!(error instanceof NoSuchEntityException)) throw error;
      if (Date.now() >= deadline) throw new Error(`IAM user ${source.userName} does not exist: \`hybridctl up --site aws\` makes it`);
    }
    signal?.throwIfAborted();
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

function ignoreMissing(error: unknown): void {
  if (!(error instanceof NoSuchEntityException)) throw error;
}
