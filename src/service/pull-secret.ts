import { createHash } from 'node:crypto';
import type { ResourceKind } from '../core/engine/model.ts';
import { requireClient } from '../kube/access.ts';
import type { KubeObject } from '../kube/client.ts';
import { LABEL_CLUSTER, type KubeSite } from '../kube/object-kind.ts';
import { PULL_SECRET_NAME, SERVICE_NAMESPACE } from './manifests.ts';

export interface RegistryLogin {
  host: string;
  username: string;
  password: string;
  /** When the login stops working (ECR: 12 hours); undefined: it does not expire. */
  expiresAt?: Date;
}

export interface PullSecretSpec {
  /** The namespace whose pods pull with it. */
  namespace: string;
  host: string;
  /** Fetched only when the secret is (re)written. */
  login: () => Promise<RegistryLogin>;
  /** For logins that do not expire: changes when the credentials do. */
  credentialsHash?: string;
}

export interface PullSecretState {
  namespace: string;
  host: string;
  expiresAt: string;
  credentialsHash: string;
}

export const PULL_SECRET_ID = 'registry-pull-secret';

/** One login per namespace that pulls the service image: the service's keeps the original id. */
export function pullSecretId(namespace: string): string {
  return namespace === SERVICE_NAMESPACE ? PULL_SECRET_ID : `${PULL_SECRET_ID}/${namespace}`;
}

const secretRef = (namespace: string): KubeObject => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: PULL_SECRET_NAME, namespace } });
const ANNOTATION_HOST = 'hybridctl.dev/registry';
const ANNOTATION_EXPIRES = 'hybridctl.dev/expires-at';
const ANNOTATION_CREDENTIALS = 'hybridctl.dev/credentials-hash';
/** An expiring login is renewed once less than this is left. */
const RENEW_BEFORE_MS = 6 * 3_600_000;

/** The Secret docker and kubelets read a registry login from. */
export function pullSecretObject(cluster: string, login: RegistryLogin, namespace = SERVICE_NAMESPACE): KubeObject {
  const auth = Buffer.from(`${login.username}:${login.password}`).toString('base64');
  const dockerconfig = { auths: { [login.host]: { username: login.username, password: login.password, auth } } };
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/dockerconfigjson',
    metadata: {
      name: PULL_SECRET_NAME,
      namespace,
      labels: { 'app.kubernetes.io/managed-by': 'hybridctl', [LABEL_CLUSTER]: cluster, 'hybridctl.dev/component': 'service' },
      annotations: {
        [ANNOTATION_HOST]: login.host,
        [ANNOTATION_EXPIRES]: login.expiresAt?.toISOString() ?? '',
        [ANNOTATION_CREDENTIALS]: credentialsHash(login.username, login.password),
      },
    },
    data: { '.dockerconfigjson': Buffer.from(JSON.stringify(dockerconfig)).toString('base64') },
  } as KubeObject;
}

export function credentialsHash(username: string, password: string): string {
  return createHash('sha256').update(`${username}:${password}`).digest('hex').slice(0, 16);
}

/**
 * The registry login nodes pull the service image with (a kubernetes.io/dockerconfigjson Secret).
 * An ECR login lasts 12 hours: `up` renews it when less than 6 hours are left, and otherwise
 * leaves it alone, so a second `up` writes nothing.
 */
export const pullSecretKind: ResourceKind<PullSecretSpec, PullSecretState, KubeSite> = {
  kind: 'pull-secret',

  async observe({ provider }) {
    const client = await provider.kube();
    if (!client) return [];
    const secrets = await client.list<KubeObject & { metadata: { annotations?: Record<string, string> } }>('v1', 'Secret', `${LABEL_CLUSTER}=${provider.cluster}`);
    return secrets
      .filter((s) => s.metadata.name === PULL_SECRET_NAME && s.metadata.namespace)
      .map((secret) => {
        const namespace = secret.metadata.namespace ?? SERVICE_NAMESPACE;
        const a = secret.metadata.annotations ?? {};
        const state = { namespace, host: a[ANNOTATION_HOST] ?? '', expiresAt: a[ANNOTATION_EXPIRES] ?? '', credentialsHash: a[ANNOTATION_CREDENTIALS] ?? '' };
        return { id: pullSecretId(namespace), ref: `${namespace}/${PULL_SECRET_NAME}`, state };
      });
  },

  diff(state, spec) {
    if (state.host !== spec.host) return { changes: [{ field: 'registry', from: state.host, to: spec.host }] };
    if (spec.credentialsHash !== undefined && state.credentialsHash !== spec.credentialsHash) return { changes: [{ field: 'credentials', from: 'old', to: 'new' }] };
    if (state.expiresAt && new Date(state.expiresAt).getTime() - Date.now() < RENEW_BEFORE_MS) return { changes: [{ field: 'login', from: `expires ${state.expiresAt}`, to: 'renewed' }] };
    return { changes: [] };
  },

  describe(spec) {
    return { registry: spec.host, secret: `${spec.namespace}/${PULL_SECRET_NAME}` };
  },

  async create(spec, ctx) {
    const client = await requireClient(ctx.provider);
    const login = await spec.login();
    await client.apply(pullSecretObject(ctx.provider.cluster, login, spec.namespace), ctx.provider.forceConflicts);
    const state: PullSecretState = { namespace: spec.namespace, host: login.host, expiresAt: login.expiresAt?.toISOString() ?? '', credentialsHash: credentialsHash(login.username, login.password) };
    return { id: ctx.id, ref: `${spec.namespace}/${PULL_SECRET_NAME}`, state };
  },

  async update(_found, spec, _changes, ctx) {
    return this.create(spec, ctx);
  },

  async destroy(found, ctx) {
    const client = await ctx.provider.kube();
    await client?.delete(secretRef(found.state.namespace));
  },

  outputs() {
    return { name: PULL_SECRET_NAME };
  },
};
