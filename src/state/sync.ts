import { ActionError } from '../core/errors.ts';
import type { StateDir } from '../core/state.ts';
import { type StateBucket, sha256 } from './bucket.ts';
import { type SyncPlan, planSync } from './sync-plan.ts';

/** What both sides held at the last sync, kept beside the files it describes. */
const RECORD = '.sync.json';
/** Local only: the directory's own files, the image build, the lock file, caches anyone can rebuild. */
const LOCAL_ONLY = [/^\.gitignore$/, /^\.sync\.json$/, /^\.lock$/, /^image\//, /^wireguard\/aws-gateway-address$/, /\.tmp$/, /\.local-[0-9TZ-]+$/];

export function isSynced(path: string): boolean {
  return !LOCAL_ONLY.some((pattern) => pattern.test(path));
}

/**
 * `both`: the normal sync under the run lock (a conflict stops it); `bucket-only`: take what the
 * bucket has new, store nothing (commands that run without the lock); `take-bucket` /
 * `take-local`: one side wins (`state pull` / `state push`).
 */
export type SyncMode = 'both' | 'bucket-only' | 'take-bucket' | 'take-local';

export interface SyncResult {
  pulled: string[];
  pushed: string[];
  /** Local files that `take-bucket` replaced, kept as `<file>.local-<time>`. */
  kept: string[];
}

export class StateConflictError extends ActionError {
  override name = 'StateConflictError';
  readonly files: string[];
  constructor(bucket: string, files: string[], directory: string) {
    super(
      `the state directory (${directory}) and the state bucket (${bucket}) disagree about ${files.join(', ')}: both changed since they last agreed, so neither is overwritten`,
      'if the bucket is right (another operator changed it), run `hybridctl state pull`; if yours is, `hybridctl state push` (the bucket keeps the old version)',
    );
    this.files = files;
  }
}

/**
 * Brings the state directory and the bucket together: a change on one side goes to the other; a
 * conflict stops the sync before anything is copied. Then both sides and the record agree.
 */
export async function syncState(state: StateDir, bucket: StateBucket, mode: SyncMode = 'both'): Promise<SyncResult> {
  const remote = await bucket.manifest();
  const local = await localHashes(state);
  // No manifest: a new (or recreated) bucket holds nothing, so what it once agreed on is no base.
  const base = remote.etag === undefined ? new Map<string, string>() : await readRecord(state, bucket.name);
  const plan = decide(planSync(local, remote.files, base), mode);
  if (plan.conflicts.length > 0) throw new StateConflictError(bucket.name, plan.conflicts, state.root);

  const kept: string[] = [];
  for (const path of plan.pull) {
    const expected = remote.files.get(path);
    if (mode === 'take-bucket' && local.has(path)) kept.push(await keepLocalCopy(state, path));
    if (expected === undefined) {
      await state.remove(path);
      continue;
    }
    const text = await bucket.getFile(path, remote.versions.get(path));
    if (text === undefined || sha256(text) !== expected) throw new ActionError(`the state bucket's ${path} does not match its manifest`, 'another run may be writing it; re-run in a moment');
    await state.write(path, text);
  }

  const files = new Map(remote.files);
  const versions = new Map(remote.versions);
  for (const path of plan.push) {
    const text = await state.read(path);
    versions.delete(path);
    if (text === undefined) {
      await bucket.removeFile(path);
      files.delete(path);
    } else {
      const version = await bucket.putFile(path, text);
      files.set(path, sha256(text));
      if (version) versions.set(path, version);
    }
  }
  if (plan.push.length > 0 && !(await bucket.writeManifest({ files, versions }, remote.etag))) {
    throw new ActionError(`the state bucket ${bucket.name} changed while this run wrote to it`, 'another run wrote state without the lock; run `hybridctl state pull` to see what it holds');
  }
  await writeRecord(state, bucket.name, files);
  return { pulled: plan.pull, pushed: plan.push, kept };
}

function decide(plan: SyncPlan, mode: SyncMode): SyncPlan {
  // Local changes stay local (and unrecorded) until a run under the lock stores them.
  if (mode === 'bucket-only') return { ...plan, push: [] };
  if (mode === 'take-bucket') return { push: [], pull: [...plan.pull, ...plan.push, ...plan.conflicts].sort(), conflicts: [] };
  if (mode === 'take-local') return { push: [...plan.push, ...plan.pull, ...plan.conflicts].sort(), pull: [], conflicts: [] };
  return plan;
}

async function localHashes(state: StateDir): Promise<Map<string, string>> {
  const hashes = new Map<string, string>();
  for (const path of (await state.list()).filter(isSynced)) hashes.set(path, sha256((await state.read(path)) ?? ''));
  return hashes;
}

async function readRecord(state: StateDir, bucket: string): Promise<Map<string, string>> {
  const text = await state.read(RECORD);
  const record = text ? (JSON.parse(text) as { bucket?: string; files?: Record<string, string> }) : undefined;
  // A record of another bucket (another account, a recreated cluster) says nothing about this one.
  return record?.bucket === bucket ? new Map(Object.entries(record.files ?? {})) : new Map();
}

async function writeRecord(state: StateDir, bucket: string, files: ReadonlyMap<string, string>): Promise<void> {
  await state.write(RECORD, `${JSON.stringify({ bucket, files: Object.fromEntries([...files].sort()) }, null, 2)}\n`);
}

async function keepLocalCopy(state: StateDir, path: string): Promise<string> {
  const copy = `${path}.local-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  await state.write(copy, (await state.read(path)) ?? '');
  return copy;
}
