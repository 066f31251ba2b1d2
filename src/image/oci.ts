import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** OCI media types (image-spec v1.1). */
export const MEDIA = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { architecture: string; os: string };
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType: typeof MEDIA.index;
  manifests: Descriptor[];
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType: typeof MEDIA.manifest;
  config: Descriptor;
  layers: Descriptor[];
}

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Canonical JSON bytes of a document: what is stored and pushed is exactly what is hashed. */
export function jsonBlob(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

/** An OCI image layout on disk (`oci-layout`, `index.json`, `blobs/sha256/…`), as skopeo and registries read it. */
export class OciLayout {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  blobPath(digest: string): string {
    return join(this.dir, 'blobs', ...digest.split(':'));
  }

  async writeBlob(data: Buffer, mediaType: string, extra: Partial<Descriptor> = {}): Promise<Descriptor> {
    const digest = sha256(data);
    await mkdir(join(this.dir, 'blobs', 'sha256'), { recursive: true });
    await writeFile(this.blobPath(digest), data);
    return { mediaType, digest, size: data.length, ...extra };
  }

  readBlob(digest: string): Promise<Buffer> {
    return readFile(this.blobPath(digest));
  }

  async readJson<T>(digest: string): Promise<T> {
    return JSON.parse((await this.readBlob(digest)).toString('utf8')) as T;
  }

  /** Points the layout's index.json at one image index, named by tag. */
  async writeRoot(image: Descriptor, refName: string): Promise<void> {
    await writeFile(join(this.dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    const root = { schemaVersion: 2, mediaType: MEDIA.index, manifests: [{ ...image, annotations: { 'org.opencontainers.image.ref.name': refName } }] };
    await writeFile(join(this.dir, 'index.json'), JSON.stringify(root, null, 2));
  }

  async root(): Promise<Descriptor> {
    const index = JSON.parse(await readFile(join(this.dir, 'index.json'), 'utf8')) as ImageIndex;
    const image = index.manifests[0];
    if (!image) throw new Error(`${this.dir} holds no image`);
    return image;
  }
}
