import { readInputFile } from '../core/input-file.ts';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { UsageError } from '../core/errors.ts';
import { type ConfigDocument, encodeConfig } from './machine-config.ts';

/** A strategic-merge patch as `talosctl --config-patch` takes it: one or more YAML documents. */
export interface Patch {
  /** Where it came from, for messages. */
  source: string;
  documents: ConfigDocument[];
}

export class PatchError extends UsageError {
  override name = 'PatchError';
}

/** Lists Talos replaces instead of appending to (`merge:"replace"` in machinery's types). */
const REPLACED = new Set(['cluster.apiServer.auditPolicy', 'cluster.network.podSubnets', 'cluster.network.serviceSubnets']);
/** Lists Talos merges item by item, by this key. */
const KEYED: Record<string, string> = {
  'machine.network.interfaces': 'interface',
  'cluster.apiServer.admissionControl': 'name',
};

const DEFAULT_PATCHES_DIR = new URL('../../templates/talos/', import.meta.url);

/** hybridctl's own patches for a role (templates/talos/), applied before the user's. */
export function defaultPatchFiles(role: 'controlplane' | 'worker'): string[] {
  return role === 'controlplane' ? [fileURLToPath(new URL('controlplane-metrics.yaml', DEFAULT_PATCHES_DIR))] : [];
}

/**
 * A node's finished config: hybridctl's defaults for its role, then what a layer above adds
 * (`extra`), then the user's patch files, in that order.
 */
export async function finishedConfig(
  documents: ConfigDocument[],
  role: 'controlplane' | 'worker',
  userFiles: readonly string[],
  load: (file: string) => Promise<Patch>,
  extra: Promise<Patch[] | undefined> = Promise.resolve(undefined),
): Promise<string> {
  const [defaults, added, user] = await Promise.all([Promise.all(defaultPatchFiles(role).map(load)), extra, Promise.all(userFiles.map(load))]);
  return encodeConfig(applyPatches(documents, [...defaults, ...(added ?? []), ...user]));
}

/** A loader that reads each patch file once. */
export function patchLoader(): (file: string) => Promise<Patch> {
  const cache = new Map<string, Promise<Patch>>();
  return (file) => {
    let pending = cache.get(file);
    if (!pending) {
      pending = loadPatch(file);
      cache.set(file, pending);
    }
    return pending;
  };
}

export async function loadPatch(file: string): Promise<Patch> {
  let text: string;
  try {
    text = await readInputFile(file, 'patch');
  } catch (error) {
    throw new PatchError((error as Error).message);
  }
  return parsePatch(text, file);
}

export function parsePatch(text: string, source: string): Patch {
  const documents = parseAllDocuments(text);
  const list = Array.isArray(documents) ? documents : [documents];
  const out: ConfigDocument[] = [];
  for (const doc of list) {
    if (doc.errors.length > 0) throw new PatchError(`patch ${source}: ${doc.errors[0]?.message.split('\n')[0]}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value)) throw new PatchError(`patch ${source}: each document must be a mapping, not ${Array.isArray(value) ? 'a list' : typeof value}`);
    out.push(value as ConfigDocument);
  }
  return { source, documents: out };
}

function isV1alpha1(doc: ConfigDocument): boolean {
  return !('kind' in doc) || doc.version === 'v1alpha1';
}

/**
 * Applies patches in order, as Talos does: v1alpha1-style documents (machine:, cluster:) merge
 * into the v1alpha1 document; documents with `kind` merge into the document of that kind (and
 * name), or are added. Maps merge key by key, lists append (but see REPLACED and KEYED),
 * scalars replace, and `$patch: delete` removes a key.
 */
export function applyPatches(documents: ConfigDocument[], patches: readonly Patch[]): ConfigDocument[] {
  let result = structuredClone(documents);
  for (const patch of patches) {
    for (const doc of patch.documents) {
      const target = isV1alpha1(doc)
        ? result.find(isV1alpha1)
        : result.find((d) => d.kind === doc.kind && d.apiVersion === doc.apiVersion && d.name === doc.name);
      if (!target) {
        result = [...result, structuredClone(doc)];
        continue;
      }
      const merged = merge(target, doc, '', patch.source);
      result = result.map((d) => (d === target ? (merged as ConfigDocument) : d));
    }
  }
  return result;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function merge(left: unknown, right: unknown, path: string, source: string): unknown {
  if (isMap(right) && right.$patch === 'delete') return undefined;
  if (left === undefined || left === null) return strip(right);
  if (isMap(left)) {
    if (!isMap(right)) throw new PatchError(`patch ${source}: ${path || '(document)'} is a mapping in the config but ${describe(right)} in the patch`);
    const out: Record<string, unknown> = { ...left };
    for (const [key, value] of Object.entries(right)) {
      const merged = merge(left[key], value, path ? `${path}.${key}` : key, source);
      if (merged === undefined) delete out[key];
      else out[key] = merged;
    }
    return out;
  }
  if (Array.isArray(left)) {
    if (!Array.isArray(right)) throw new PatchError(`patch ${source}: ${path} is a list in the config but ${describe(right)} in the patch`);
    if (REPLACED.has(path)) return strip(right);
    const key = KEYED[path];
    if (!key) return [...left, ...(strip(right) as unknown[])];
    const out = [...left];
    for (const item of right) {
      const index = isMap(item) ? out.findIndex((existing) => isMap(existing) && existing[key] === item[key]) : -1;
      if (index >= 0) out[index] = merge(out[index], item, `${path}[${key}=${String((item as Record<string, unknown>)[key])}]`, source);
      else out.push(strip(item));
    }
    return out.filter((item) => item !== undefined);
  }
  if (isMap(right) || Array.isArray(right)) throw new PatchError(`patch ${source}: ${path} is ${describe(left)} in the config but ${describe(right)} in the patch`);
  return right;
}

/** Removes `$patch` markers from values that have nothing to merge into. */
function strip(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(strip);
  if (!isMap(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([k]) => k !== '$patch').map(([k, v]) => [k, strip(v)]));
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (isMap(value)) return 'a mapping';
  return `a ${typeof value} (${JSON.stringify(value)})`;
}
