import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { create as createTar } from 'tar';
import { ActionError, UsageError } from '../core/errors.ts';
import { type Descriptor, type ImageIndex, type ImageManifest, MEDIA, OciLayout, jsonBlob, sha256 } from './oci.ts';

/** The sample service's source, shipped with hybridctl. */
export const SERVICE_DIR = fileURLToPath(new URL('../../service/', import.meta.url));

/** The image runs as this non-root user (distroless's "nonroot"). */
export const IMAGE_USER = '65532:65532';
const BINARIES = ['readings', 'loadgen', 'probe', 'shipper'];

export interface BuildOptions {
  platforms: readonly string[];
  /** The OCI layout to write. */
  out: string;
  /** The readable tag the layout names the image by. */
  tag: string;
  serviceDir?: string;
  report?: (message: string) => void;
}

export interface BuiltImage {
  layout: OciLayout;
  index: Descriptor;
  manifests: Descriptor[];
}

/**
 * Builds the service image without Docker: cross-compiles static binaries per platform, packs
 * them into one reproducible layer (fixed times and owners, so an unchanged service gives the
 * same digests), and writes an OCI layout with a manifest per platform and an index.
 */
export async function buildImage(options: BuildOptions): Promise<BuiltImage> {
  const serviceDir = options.serviceDir ?? SERVICE_DIR;
  await checkGo();
  const layout = new OciLayout(options.out);
  const manifests: Descriptor[] = [];
  for (const platform of options.platforms) {
    const [os, architecture] = platform.split('/') as [string, string];
    options.report?.(`compiling the service for ${platform}`);
    const rootfs = join(options.out, `rootfs-${os}-${architecture}`);
    await rm(rootfs, { recursive: true, force: true });
    await compile(serviceDir, os, architecture, rootfs);
    await addSystemFiles(rootfs);
    options.report?.(`packing the ${platform} layer`);
    const tar = await pack(rootfs);
    const layer = await layout.writeBlob(gzipSync(tar, { level: 9 }), MEDIA.layer);
    const config = await layout.writeBlob(jsonBlob(imageConfig(os, architecture, sha256(tar))), MEDIA.config);
    const manifest: ImageManifest = { schemaVersion: 2, mediaType: MEDIA.manifest, config, layers: [layer] };
    manifests.push(await layout.writeBlob(jsonBlob(manifest), MEDIA.manifest, { platform: { architecture, os } }));
    await rm(rootfs, { recursive: true, force: true });
  }
  const index: ImageIndex = { schemaVersion: 2, mediaType: MEDIA.index, manifests };
  const indexDescriptor = await layout.writeBlob(jsonBlob(index), MEDIA.index);
  await layout.writeRoot(indexDescriptor, options.tag);
  return { layout, index: indexDescriptor, manifests };
}

async function checkGo(): Promise<void> {
  const result = await execa('go', ['version'], { reject: false });
  if (result.exitCode !== 0) {
    throw new UsageError('hybridctl image build compiles the service with Go, and `go` was not found; install Go 1.26 or newer (or build service/Dockerfile with Docker)');
  }
}

async function compile(serviceDir: string, os: string, arch: string, rootfs: string): Promise<void> {
  const result = await execa(
    'go',
    ['build', '-trimpath', '-ldflags=-s -w -buildid=', '-o', `${rootfs}/`, ...BINARIES.map((b) => `./cmd/${b}`)],
    { cwd: serviceDir, env: { CGO_ENABLED: '0', GOOS: os, GOARCH: arch, GOFLAGS: '-mod=readonly' }, reject: false, all: true },
  );
  if (result.exitCode !== 0) throw new ActionError(`compiling the service for ${os}/${arch} failed:\n${result.all}`);
}

/** A passwd and group entry for the non-root user, and a /tmp, as distroless has them. */
async function addSystemFiles(rootfs: string): Promise<void> {
  await mkdir(join(rootfs, 'etc'), { recursive: true });
  await writeFile(join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n');
  await writeFile(join(rootfs, 'etc', 'group'), 'root:x:0:\nnonroot:x:65532:\n');
  await mkdir(join(rootfs, 'tmp'), { recursive: true });
  await chmod(join(rootfs, 'tmp'), 0o1777);
  for (const binary of BINARIES) await chmod(join(rootfs, binary), 0o755);
}

/** A tar of the root filesystem with fixed order, times and owners. */
async function pack(rootfs: string): Promise<Buffer> {
  const entries = ['etc/', 'etc/group', 'etc/passwd', ...BINARIES.slice().sort(), 'tmp/'];
  const stream = createTar({ cwd: rootfs, portable: true, mtime: new Date(0), noDirRecurse: true }, entries);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function imageConfig(os: string, architecture: string, diffId: string) {
  return {
    created: '1970-01-01T00:00:00Z',
    architecture,
    os,
    config: {
      User: IMAGE_USER,
      Entrypoint: ['/readings'],
      Env: ['PATH=/'],
      ExposedPorts: { '8080/tcp': {} },
      WorkingDir: '/',
      Labels: {
        'org.opencontainers.image.title': 'readings',
        'org.opencontainers.image.description': 'hybridctl sample service: sensor readings ingestion',
      },
    },
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created: '1970-01-01T00:00:00Z', created_by: 'hybridctl image build' }],
  };
}
