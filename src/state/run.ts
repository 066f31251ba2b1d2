import type { HybridConfig } from '../core/config/schema.ts';
import { ActionError, UsageError } from '../core/errors.ts';
import { StateDir } from '../core/state.ts';
import { sharedSession } from '../providers/aws/session.ts';
import { StateBucket } from './bucket.ts';
import { type RunLock, heedLocalLock, lockBucket, lockLocally } from './lock.ts';
import { type SyncMode, type SyncResult, syncState } from './sync.ts';

export interface StateOptions {
  configFile: string;
  stateDir?: string;
  profile?: string;
  region?: string;
  endpoint?: string;
}

/** The state directory, and the cluster's state bucket when AWS can be asked (it may not exist yet). */
export interface StateAccess {
  state: StateDir;
  bucket: StateBucket | undefined;
}

export async function openState(config: HybridConfig, options: StateOptions): Promise<StateAccess> {
  const state = StateDir.forConfig(options.configFile, config.metadata.name, options.stateDir);
  const session = await sharedSession(config, {
    ...(options.profile ? { profile: options.profile } : {}),
    ...(options.region ? { region: options.region } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
  }).catch(() => undefined);
  return { state, bucket: session && !session.offline ? new StateBucket(session.provider) : undefined };
}

export interface RunGuard {
  /** What the first sync took from the bucket. */
  pulled: SyncResult | undefined;
  /** Before the state bucket itself is deleted (`down`). */
  stopRenewing(): void;
  /** Pushes what this run changed in the state directory (if the bucket exists by then), and lets the lock go. */
  release(): Promise<SyncResult | undefined>;
}

/**
 * For a command that changes the cluster: the run lock (in the bucket, or in the state directory
 * before the bucket exists), then the state directory brought up to date with the bucket, so
 * this run never makes secrets the bucket already holds.
 */
export async function guardRun(access: StateAccess, command: string, warn: (message: string) => void): Promise<RunGuard> {
  const inBucket = access.bucket !== undefined && (await access.bucket.exists());
  const lock = inBucket && access.bucket ? await bucketLock(access.state, access.bucket, command, warn) : await lockLocally(access.state, command, warn);
  let pulled: SyncResult | undefined;
  try {
    if (inBucket && access.bucket) pulled = await syncState(access.state, access.bucket);
  } catch (error) {
    await lock.release();
    throw error;
  }
  return {
    pulled,
    stopRenewing: () => lock.stopRenewing(),
    async release() {
      try {
        return access.bucket && (await access.bucket.exists()) ? await syncState(access.state, access.bucket) : undefined;
      } finally {
        await lock.release();
      }
    },
  };
}

/** For a command that reads state (kubeconfig, a plan): the state directory brought up to date, without a lock, storing nothing. */
export async function refreshState(access: StateAccess): Promise<SyncResult | undefined> {
  if (!access.bucket || !(await access.bucket.exists())) return undefined;
  return syncState(access.state, access.bucket, 'bucket-only');
}

/** `state pull` / `state push`: one side wins, under the run lock (a run in progress may be writing). */
export async function forceSync(access: StateAccess, mode: 'take-bucket' | 'take-local', warn: (message: string) => void): Promise<SyncResult> {
  if (!access.bucket) throw new UsageError('no AWS credentials: the state bucket cannot be reached (set AWS_PROFILE or pass --profile)');
  if (!(await access.bucket.exists())) throw new ActionError(`the state bucket ${access.bucket.name} does not exist yet (\`hybridctl up\` makes it)`);
  const lock = await bucketLock(access.state, access.bucket, mode === 'take-bucket' ? 'state pull' : 'state push', warn);
  try {
    return await syncState(access.state, access.bucket, mode);
  } finally {
    await lock.release();
  }
}

/** The bucket's lock, and no run on this machine still holding the directory's (it began before the bucket existed). */
async function bucketLock(state: StateDir, bucket: StateBucket, command: string, warn: (message: string) => void): Promise<RunLock> {
  const lock = await lockBucket(bucket, command, warn);
  try {
    await heedLocalLock(state);
  } catch (error) {
    await lock.release();
    throw error;
  }
  return lock;
}
