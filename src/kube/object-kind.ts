import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { FieldChange, ResourceKind } from '../core/engine/model.ts';
import { requireClient } from './access.ts';
import { type KubeClient, KubeError, type KubeObject, describe } from './client.ts';

export const LABEL_CLUSTER = 'hybridctl.dev/cluster';
export const LABEL_COMPONENT = 'hybridctl.dev/component';
export const ANNOTATION_HASH = 'hybridctl.dev/applied-hash';

/** What the Kubernetes kinds need from a site. */
export interface KubeSite {
  site: string;
  cluster: string;
  /** The site's API client, or undefined while the site has no kubeconfig yet. */
  kube(): Promise<KubeClient | undefined>;
  /** Take fields over from other field managers (`--force-conflicts`). */
  forceConflicts: boolean;
  /** How long a rollout may take. */
  rolloutMs: number;
}

export interface ObjectSpec {
  object: KubeObject;
}

export interface ObjectState {
  live: KubeObject;
}

/** Kinds whose objects may be deleted and created again (an immutable field changed, or taking one over); never a Namespace. */
const RECREATE_SAFE = new Set(['Deployment', 'Service', 'PodDisruptionBudget', 'ServiceAccount']);

/** The logical id of a rendered object: `Deployment/readings/readings`. */
export function objectId(object: Pick<KubeObject, 'kind' | 'metadata'>): string {
  return [object.kind, object.metadata.namespace, object.metadata.name].filter(Boolean).join('/');
}

/** Short kind names for plans: `k8s-deployment`, `k8s-pdb`. */
const SHORT: Record<string, string> = { PodDisruptionBudget: 'pdb', ServiceAccount: 'serviceaccount', HorizontalPodAutoscaler: 'hpa' };

/** What a plan shows of an object about to be applied: what runs, how many, and where it listens. */
function summary(object: KubeObject): Record<string, unknown> {
  const spec = (object as { spec?: Record<string, any> }).spec;
  const containers: { name: string; image: string }[] = spec?.template?.spec?.containers ?? [];
  return {
    ...(spec?.replicas !== undefined ? { replicas: spec.replicas } : {}),
    ...(containers.length ? { images: containers.map((c) => c.image) } : {}),
    ...(object.kind === 'Service' ? { ports: (spec?.ports ?? []).map((p: { port: number; nodePort?: number }) => (p.nodePort ? `${p.port} (node ${p.nodePort})` : p.port)) } : {}),
  };
}

/** The object as hybridctl applies it: labelled as the cluster's, and stamped with the hash of what was asked for. */
export function stamped(object: KubeObject, cluster: string): KubeObject {
  const labelled = { ...object, metadata: { ...object.metadata, labels: { ...object.metadata.labels, [LABEL_CLUSTER]: cluster } } };
  const hash = createHash('sha256').update(canonical(labelled)).digest('hex').slice(0, 16);
  return { ...labelled, metadata: { ...labelled.metadata, annotations: { ...labelled.metadata.annotations, [ANNOTATION_HASH]: hash } } };
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Paths where the live object lacks what is wanted (defaults the server adds are fine). */
export function missing(wanted: unknown, live: unknown, path = ''): string[] {
  if (wanted && typeof wanted === 'object' && !Array.isArray(wanted)) {
    if (!live || typeof live !== 'object' || Array.isArray(live)) return [path || '(object)'];
    return Object.entries(wanted).flatMap(([key, value]) => missing(value, (live as Record<string, unknown>)[key], path ? `${path}.${key}` : key));
  }
  if (Array.isArray(wanted)) {
    if (!Array.isArray(live) || live.length !== wanted.length) return [path];
    return wanted.flatMap((item, i) => missing(item, live[i], `${path}[${i}]`));
  }
  return isDeepStrictEqual(wanted, live) || String(wanted) === String(live) ? [] : [path];
}

const kinds = new Map<string, ResourceKind<ObjectSpec, ObjectState, KubeSite>>();

/**
 * Kubernetes objects of one kind, owned by the cluster's label: one list call per kind finds
 * them (so objects dropped from the templates are pruned, and only ours). An object needs
 * applying when what was asked for changed (the hash annotation) or the live object lost some of
 * it; applying is server-side apply as `hybridctl`.
 */
export function kubeObjectKind(apiVersion: string, kind: string): ResourceKind<ObjectSpec, ObjectState, KubeSite> {
  const key = `${apiVersion}/${kind}`;
  const existing = kinds.get(key);
  if (existing) return existing;
  const created: ResourceKind<ObjectSpec, ObjectState, KubeSite> = {
    kind: `k8s-${SHORT[kind] ?? kind.toLowerCase()}`,

    async observe({ provider }) {
      const client = await provider.kube();
      if (!client) return [];
      const items = await client.list<KubeObject>(apiVersion, kind, `${LABEL_CLUSTER}=${provider.cluster}`);
      return items.map((live) => found(objectId(live), live));
    },

    diff(state, spec) {
      const wantedHash = spec.object.metadata.annotations?.[ANNOTATION_HASH];
      const changes: FieldChange[] = [];
      if (state.live.metadata.annotations?.[ANNOTATION_HASH] !== wantedHash) changes.push({ field: 'template', from: state.live.metadata.annotations?.[ANNOTATION_HASH], to: wantedHash });
      const drifted = missing({ ...spec.object, metadata: undefined }, { ...state.live, metadata: undefined }).filter((p) => p !== 'metadata');
      if (drifted.length > 0) changes.push({ field: 'drift', from: 'changed in the cluster', to: drifted.slice(0, 5).join(', ') });
      return { changes };
    },

    describe(spec) {
      return summary(spec.object);
    },

    async create(spec, ctx) {
      const client = await requireClient(ctx.provider);
      const current = await client.get(spec.object);
      const owner = current?.metadata.labels?.[LABEL_CLUSTER];
      if (current && owner !== ctx.provider.cluster && !ctx.provider.forceConflicts) {
        const managers = (current.metadata.managedFields ?? []).map((f) => f.manager).filter(Boolean);
        const whose = owner ? `belongs to another hybridctl cluster, "${owner}"` : 'hybridctl does not manage it';
        throw new KubeError(
          ctx.provider.site,
          `${describe(spec.object)} already exists and ${whose} (field managers: ${[...new Set(managers)].join(', ') || 'unknown'})`,
          409,
          undefined,
          'remove or rename it, or pass --force-conflicts to take it over',
        );
      }
      if (current && current.metadata.labels?.[LABEL_CLUSTER] !== ctx.provider.cluster && RECREATE_SAFE.has(kind)) {
        // Taking over with --force-conflicts: merged in, the other manager's fields (a selector key, say) would stay.
        ctx.report(`replacing ${describe(spec.object)}, which hybridctl did not create`);
        await client.delete(current);
        await waitGone(client, current);
      }
      return found(ctx.id, await apply(client, ctx.provider, spec.object, ctx.report));
    },

    async update(_found, spec, _changes, ctx) {
      const client = await requireClient(ctx.provider);
      return found(ctx.id, await apply(client, ctx.provider, spec.object, ctx.report));
    },

    async destroy(found, ctx) {
      const client = await requireClient(ctx.provider);
      await client.delete(found.state.live);
    },

    outputs(found) {
      return { name: found.state.live.metadata.name, uid: found.state.live.metadata.uid ?? '' };
    },
  };
  kinds.set(key, created);
  return created;
}

/** An object as the engine tracks it; its ref is the uid, which a deleted and re-created object does not share. */
function found(id: string, live: KubeObject) {
  return { id, ref: `uid ${live.metadata.uid ?? '?'}`, state: { live } };
}

async function apply(client: KubeClient, site: KubeSite, object: KubeObject, report: (message: string) => void): Promise<KubeObject> {
  try {
    return await client.apply(object, site.forceConflicts);
  } catch (error) {
    if (!(error instanceof KubeError)) throw error;
    if (error.status === 409) throw conflict(site, object, error);
    if (error.status === 422 && /immutable/i.test(error.message)) {
      if (!RECREATE_SAFE.has(object.kind)) {
        throw new KubeError(site.site, `${describe(object)} cannot change in place (${error.message.split(': ').pop()})`, 422, undefined, `delete it and run up again`);
      }
      // A field that cannot change (a Deployment's selector, say): replace the object.
      report(`replacing ${describe(object)}: ${error.message.split(': ').pop()}`);
      await client.delete(object);
      await waitGone(client, object);
      return client.apply(object, site.forceConflicts);
    }
    throw error;
  }
}

/** Names the fields and the other managers of a server-side apply conflict. */
function conflict(site: KubeSite, object: KubeObject, error: KubeError): KubeError {
  const causes = ((error.body as { details?: { causes?: { field?: string; message?: string }[] } })?.details?.causes ?? []).map(
    (c) => `${c.field ?? '?'} (${c.message ?? 'conflict'})`,
  );
  return new KubeError(
    site.site,
    `${describe(object)}: fields are managed by someone else: ${causes.join('; ') || error.message}`,
    409,
    error.body,
    'pass --force-conflicts to take these fields over, or change them back',
  );
}

async function waitGone(client: KubeClient, object: KubeObject): Promise<void> {
  for (let i = 0; i < 120; i++) {
    if (!(await client.get(object))) return;
    await new Promise((r) => setTimeout(r, 500));
  }
}
