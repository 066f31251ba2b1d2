import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import pLimit from 'p-limit';
import type { LakeFile } from './lake-listing.ts';

/**
 * A local copy of the lake's objects, one file per object at the object's own key (so the
 * Hive partitions stay in the path), with a sidecar `<file>.etag` saying which version it is.
 * An object whose ETag and size match its copy is never fetched again; nothing is evicted.
 */

/** Where copies go unless told otherwise: $HYBRIDCTL_CACHE_DIR, else $XDG_CACHE_HOME/hybridctl, else ~/.cache/hybridctl. */
export function defaultCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HYBRIDCTL_CACHE_DIR) return env.HYBRIDCTL_CACHE_DIR;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'hybridctl');
}

/** The folder that holds one bucket's copies. */
export function lakeCacheDir(root: string, bucket: string): string {
  return join(root, 'lake', bucket);
}

export interface FetchResult {
  /** The local file of each object, in the order asked for. */
  paths: string[];
  fetched: number;
  fetchedBytes: number;
  reused: number;
}

export interface FetchOptions {
  /** Fetch even objects whose copy is current. */
  refresh?: boolean;
  progress?: (done: number, total: number) => void;
  concurrency?: number;
}

interface Sidecar {
  etag: string;
  size: number;
}

export async function fetchToCache(s3: S3Client, bucket: string, files: readonly LakeFile[], dir: string, options: FetchOptions = {}): Promise<FetchResult> {
  const limit = pLimit(options.concurrency ?? 8);
  let fetched = 0;
  let fetchedBytes = 0;
  let done = 0;
  const paths = await Promise.all(
    files.map((file) =>
      limit(async () => {
        const path = localPathOf(dir, file.key);
        if (options.refresh || !(await isCurrent(path, file))) {
          await download(s3, bucket, file, path);
          fetched += 1;
          fetchedBytes += file.size;
        }
        options.progress?.(++done, files.length);
        return path;
      }),
    ),
  );
  return { paths, fetched, fetchedBytes, reused: files.length - fetched };
}

function localPathOf(dir: string, key: string): string {
  const path = resolve(dir, key);
  if (!path.startsWith(resolve(dir) + sep)) throw new Error(`lake object key ${JSON.stringify(key)} points outside the cache`);
  return path;
}

async function isCurrent(path: string, file: LakeFile): Promise<boolean> {
  try {
    const [info, sidecar] = await Promise.all([stat(path), readFile(`${path}.etag`, 'utf8')]);
    const held = JSON.parse(sidecar) as Sidecar;
    return info.size === file.size && held.etag === file.etag && held.size === file.size;
  } catch {
    return false;
  }
}

async function download(s3: S3Client, bucket: string, file: LakeFile, path: string): Promise<void> {
  // The copies hold log lines: for this user only.
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const partial = `${path}.part-${process.pid}`;
  try {
    // IfMatch: the version listed, or a clear failure if it was replaced meanwhile.
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: file.key, ...(file.etag ? { IfMatch: `"${file.etag}"` } : {}) }));
    await pipeline(object.Body as Readable, createWriteStream(partial, { mode: 0o600 }));
    await rename(partial, path);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
  await writeFile(`${path}.etag`, JSON.stringify({ etag: file.etag, size: file.size } satisfies Sidecar));
}
