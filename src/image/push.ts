import { ActionError } from '../core/errors.ts';
import { type Descriptor, type ImageIndex, type ImageManifest, MEDIA, type OciLayout } from './oci.ts';

export interface RegistryTarget {
  /** `https://host[:port]`. */
  url: string;
  repository: string;
  credentials?: { username: string; password: string };
}

export interface PushResult {
  /** `host/repository@sha256:…`: how deployments refer to the image. */
  reference: string;
  digest: string;
  uploadedBlobs: number;
  skippedBlobs: number;
  pushedManifests: number;
}

/**
 * Pushes an OCI layout over the distribution API: blobs the registry has are skipped (HEAD),
 * others uploaded in one PUT; platform manifests go by digest, the index by each tag. Pushing an
 * unchanged image uploads nothing.
 */
export async function pushImage(layout: OciLayout, target: RegistryTarget, tags: readonly string[], report?: (m: string) => void): Promise<PushResult> {
  const client = new RegistryClient(target);
  const root = await layout.root();
  const index = await layout.readJson<ImageIndex>(root.digest);
  const result: PushResult = { reference: `${new URL(target.url).host}/${target.repository}@${root.digest}`, digest: root.digest, uploadedBlobs: 0, skippedBlobs: 0, pushedManifests: 0 };

  for (const entry of index.manifests) {
    const manifest = await layout.readJson<ImageManifest>(entry.digest);
    for (const blob of [manifest.config, ...manifest.layers]) {
      if (await client.hasBlob(blob.digest)) {
        result.skippedBlobs++;
        continue;
      }
      report?.(`uploading ${blob.digest.slice(7, 19)} (${Math.round(blob.size / 1024)} KiB)`);
      await client.uploadBlob(blob, await layout.readBlob(blob.digest));
      result.uploadedBlobs++;
    }
    if ((await client.manifestDigest(entry.digest)) !== entry.digest) {
      await client.putManifest(entry.digest, entry, await layout.readBlob(entry.digest));
      result.pushedManifests++;
    }
  }
  const indexBytes = await layout.readBlob(root.digest);
  for (const tag of tags) {
    const current = await client.manifestDigest(tag);
    if (current === root.digest) continue;
    report?.(`tagging ${tag}`);
    await client.putManifest(tag, { mediaType: MEDIA.index, digest: root.digest, size: indexBytes.length }, indexBytes, current);
    result.pushedManifests++;
  }
  return result;
}

/** A small distribution API client with Basic and Bearer (token service) authentication. */
export class RegistryClient {
  private readonly base: string;
  private readonly target: RegistryTarget;
  private authorization: string | undefined;

  constructor(target: RegistryTarget) {
    this.target = target;
    this.base = `${target.url.replace(/\/$/, '')}/v2/${target.repository}`;
  }

  /** Whether the registry has a blob; an answer that is neither yes nor no is an error, not a reason to upload again. */
  async hasBlob(digest: string): Promise<boolean> {
    const response = await this.request('HEAD', `${this.base}/blobs/${digest}`);
    await this.expect(response, [200, 404], `look up ${digest}`);
    return response.status === 200;
  }

  async uploadBlob(blob: Descriptor, data: Buffer): Promise<void> {
    const start = await this.request('POST', `${this.base}/blobs/uploads/`, { 'Content-Length': '0' });
    await this.expect(start, [202], `start uploading ${blob.digest}`);
    const location = new URL(start.headers.get('location') ?? '', this.target.url);
    location.searchParams.set('digest', blob.digest);
    const done = await this.request('PUT', location.toString(), { 'Content-Type': 'application/octet-stream', 'Content-Length': String(data.length) }, data);
    await this.expect(done, [201], `upload ${blob.digest}`);
  }

  /** The digest a tag or digest reference names in the registry, or undefined. */
  async manifestDigest(reference: string): Promise<string | undefined> {
    const response = await this.request('HEAD', `${this.base}/manifests/${reference}`, { Accept: `${MEDIA.index}, ${MEDIA.manifest}` });
    if (response.status === 404) return undefined;
    await this.expect(response, [200], `look up ${reference}`);
    return response.headers.get('docker-content-digest') ?? undefined;
  }

  async putManifest(reference: string, descriptor: Descriptor, data: Buffer, replacing?: string): Promise<void> {
    const response = await this.request('PUT', `${this.base}/manifests/${reference}`, { 'Content-Type': descriptor.mediaType }, data);
    if (response.status === 400 && replacing && /TAG_INVALID|ImageTagAlreadyExists|immutable/i.test(await response.clone().text())) {
      throw new ActionError(
        `${this.target.repository}:${reference} already names another image (${replacing}) and the repository's tags are immutable`,
        'set service.image.tag (or --tag) to a new tag; the image is also tagged by its content digest',
      );
    }
    await this.expect(response, [201], `put manifest ${reference}`);
  }

  private async expect(response: Response, statuses: number[], what: string): Promise<void> {
    if (statuses.includes(response.status)) return;
    const body = (await response.text()).slice(0, 500);
    const hint =
      response.status === 401 || response.status === 403
        ? 'the registry refused the credentials (for ECR, the identity needs ecr:GetAuthorizationToken and push permissions on the repository)'
        : undefined;
    throw new ActionError(`registry ${this.target.url}: ${what} failed with HTTP ${response.status}: ${body}`, hint);
  }

  /** Sends a request, answering an authentication challenge once. */
  private async request(method: string, url: string, headers: Record<string, string> = {}, body?: Buffer): Promise<Response> {
    const send = () =>
      fetch(url, {
        method,
        headers: { ...headers, ...(this.authorization ? { Authorization: this.authorization } : {}) },
        ...(body ? { body } : {}),
        redirect: 'follow',
      }).catch((error: unknown) => {
        throw new ActionError(`cannot reach the registry at ${this.target.url}: ${(error as Error).cause ?? (error as Error).message}`, 'check service.image.registry and the network');
      });
    let response = await send();
    if (response.status === 401 && !this.authorization) {
      this.authorization = await this.authenticate(response.headers.get('www-authenticate') ?? '');
      response = await send();
    }
    return response;
  }

  private async authenticate(challenge: string): Promise<string> {
    const credentials = this.target.credentials;
    const basic = credentials ? `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}` : undefined;
    if (/^Basic/i.test(challenge)) {
      if (!basic) throw new ActionError(`registry ${this.target.url} wants a user name and password`, 'set service.image.credentials (usernameEnv, passwordEnv)');
      return basic;
    }
    const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (!params.realm) throw new ActionError(`registry ${this.target.url} sent an authentication challenge hybridctl does not understand: ${challenge}`);
    const tokenUrl = new URL(params.realm);
    if (params.service) tokenUrl.searchParams.set('service', params.service);
    tokenUrl.searchParams.set('scope', `repository:${this.target.repository}:pull,push`);
    const response = await fetch(tokenUrl, { headers: basic ? { Authorization: basic } : {} });
    if (!response.ok) throw new ActionError(`registry token service ${tokenUrl.origin} refused: HTTP ${response.status}`);
    const token = (await response.json()) as { token?: string; access_token?: string };
    return `Bearer ${token.token ?? token.access_token ?? ''}`;
  }
}
