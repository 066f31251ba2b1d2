import { createHash } from 'node:crypto';
import { DeleteObjectCommand, GetObjectCommand, HeadBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { errorCode, isNotFound } from '../providers/aws/errors.ts';
import { bucketName } from '../providers/aws/naming.ts';
import type { AwsProvider } from '../providers/aws/provider.ts';

const STATE_PREFIX = 'state/';
const MANIFEST_KEY = 'state/manifest.json';
export const LOCK_KEY = 'locks/run.json';

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * The bucket's side of the state: the manifest (path → hash, and the object version holding that
 * content, so a reader gets exactly the files the manifest names even while a run writes newer
 * ones) and the ETag it was read at.
 */
export interface RemoteManifest {
  files: Map<string, string>;
  versions: Map<string, string>;
  etag: string | undefined;
}

interface ManifestEntry {
  sha256: string;
  version?: string;
}

/** A conditional write that lost (S3 answers 412, or 409 for a conflicting concurrent write). */
function lostRace(error: unknown): boolean {
  return /PreconditionFailed|ConditionalRequestConflict/.test(errorCode(error)) || (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 412;
}

/**
 * The cluster's state bucket as the store of what cannot be found in the cloud: state files under
 * `state/` (encrypted by the bucket's default SSE-KMS with the cluster key, versioned), a
 * manifest of their hashes, and the run lock. Writes that must not race are conditional.
 */
export class StateBucket {
  readonly name: string;
  private readonly provider: AwsProvider;

  constructor(provider: AwsProvider) {
    this.provider = provider;
    this.name = bucketName(provider, 'state');
  }

  private get s3() {
    return this.provider.clients.s3;
  }

  async exists(): Promise<boolean> {
    try {
      await this.s3.send(new HeadBucketCommand({ Bucket: this.name }));
      return true;
    } catch (error) {
      if (isNotFound(error) || errorCode(error) === 'NotFound') return false;
      throw error;
    }
  }

  async manifest(): Promise<RemoteManifest> {
    const object = await this.read(MANIFEST_KEY);
    if (!object) return { files: new Map(), versions: new Map(), etag: undefined };
    const entries = Object.entries((JSON.parse(object.text) as { files?: Record<string, ManifestEntry> }).files ?? {});
    return {
      files: new Map(entries.map(([path, e]) => [path, e.sha256])),
      versions: new Map(entries.flatMap(([path, e]) => (e.version ? [[path, e.version] as const] : []))),
      etag: object.etag,
    };
  }

  /** Replaces the manifest only if nobody changed it since `etag` was read; false if somebody did. */
  async writeManifest(manifest: Pick<RemoteManifest, 'files' | 'versions'>, etag: string | undefined): Promise<boolean> {
    const files = Object.fromEntries(
      [...manifest.files].sort().map(([path, sha]) => {
        const version = manifest.versions.get(path);
        return [path, { sha256: sha, ...(version ? { version } : {}) }];
      }),
    );
    const body = `${JSON.stringify({ files }, null, 2)}\n`;
    return (await this.conditionalPut(MANIFEST_KEY, body, etag ? { IfMatch: etag } : { IfNoneMatch: '*' })) !== undefined;
  }

  /** A state file: the version the manifest names, when it names one. */
  async getFile(path: string, version?: string): Promise<string | undefined> {
    return (await this.read(STATE_PREFIX + path, version))?.text;
  }

  /** Stores a state file; the version S3 gave it (none when the bucket's versioning is off). */
  async putFile(path: string, text: string): Promise<string | undefined> {
    const result = await this.s3.send(new PutObjectCommand({ Bucket: this.name, Key: STATE_PREFIX + path, Body: text, ContentType: 'application/octet-stream' }));
    return result.VersionId && result.VersionId !== 'null' ? result.VersionId : undefined;
  }

  async removeFile(path: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.name, Key: STATE_PREFIX + path }));
  }

  /** Writes the lock object unless one exists; its ETag, or undefined when another run holds it. */
  async createLock(body: string): Promise<string | undefined> {
    return this.conditionalPut(LOCK_KEY, body, { IfNoneMatch: '*' });
  }

  /** Rewrites the lock we hold (its ETag); the new ETag, or undefined when it is no longer ours. */
  async renewLock(body: string, etag: string): Promise<string | undefined> {
    try {
      return await this.conditionalPut(LOCK_KEY, body, { IfMatch: etag });
    } catch (error) {
      // The lock object is gone (unlock removed it); a gone bucket (down) is not a lost lock.
      if (errorCode(error) === 'NoSuchKey') return undefined;
      throw error;
    }
  }

  async readLock(): Promise<{ text: string; etag: string | undefined; modified: Date | undefined } | undefined> {
    return this.read(LOCK_KEY);
  }

  /** Removes the lock, only the version `etag` names (when given); false when that is no longer there. */
  async deleteLock(etag?: string): Promise<boolean> {
    try {
      await this.s3.send(new DeleteObjectCommand({ Bucket: this.name, Key: LOCK_KEY, ...(etag ? { IfMatch: etag } : {}) }));
      return true;
    } catch (error) {
      if (isNotFound(error) || lostRace(error)) return false;
      throw error;
    }
  }

  private async read(key: string, version?: string): Promise<{ text: string; etag: string | undefined; modified: Date | undefined } | undefined> {
    try {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: this.name, Key: key, ...(version ? { VersionId: version } : {}) }));
      return { text: (await object.Body?.transformToString('utf8')) ?? '', etag: object.ETag, modified: object.LastModified };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  private async conditionalPut(key: string, body: string, condition: { IfMatch: string } | { IfNoneMatch: string }): Promise<string | undefined> {
    try {
      const result = await this.s3.send(new PutObjectCommand({ Bucket: this.name, Key: key, Body: body, ContentType: 'application/json', ...condition }));
      return result.ETag ?? '';
    } catch (error) {
      if (lostRace(error)) return undefined;
      throw error;
    }
  }
}
