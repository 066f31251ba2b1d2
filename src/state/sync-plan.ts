/** Content hashes of state files by path (relative to the state directory). */
export type Hashes = ReadonlyMap<string, string>;

export interface SyncPlan {
  /** Changed here since the last sync, unchanged in the bucket: upload (or delete there). */
  push: string[];
  /** Changed in the bucket since the last sync, unchanged here: download (or delete here). */
  pull: string[];
  /** Changed on both sides, differently: nobody can tell which is right. */
  conflicts: string[];
}

/**
 * A three-way comparison, as version control does: the local copy, the bucket, and what both
 * held at the last sync (`base`). A side that still holds the base is unchanged; when only one
 * side changed, the change goes across; when both did, differently, it is a conflict. With no
 * base (a new machine, or a bucket that had nothing), files on one side only go across, and a
 * file on both sides that differs is a conflict.
 */
export function planSync(local: Hashes, remote: Hashes, base: Hashes): SyncPlan {
  const plan: SyncPlan = { push: [], pull: [], conflicts: [] };
  const paths = [...new Set([...local.keys(), ...remote.keys(), ...base.keys()])].sort();
  for (const path of paths) {
    const here = local.get(path);
    const there = remote.get(path);
    if (here === there) continue;
    const before = base.get(path);
    if (there === before) plan.push.push(path);
    else if (here === before) plan.pull.push(path);
    else plan.conflicts.push(path);
  }
  return plan;
}
