import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractFile } from '../../src/talos/client/tar.ts';
import { awsEnv, runCli, writeConfig } from '../support/cli.ts';
import { exampleWith } from '../support/config.ts';
import { freePort } from '../support/moto.ts';
import { type Registry, goEnv, startRegistry } from '../support/registry.ts';

/** `hybridctl image push` to a real registry (Debian's docker-registry), read back with skopeo. */
let registry: Registry;
let config: string;
let env: Record<string, string | undefined>;
/** The first push's image digest. */
let pushed: string;

beforeAll(async () => {
  registry = await startRegistry();
  config = writeConfig(
    exampleWith([
      'port: 51820',
      `port: 51820\nservice:\n  image:\n    registry: ${registry.url}\n    repository: team/readings\n    tag: v1\n    credentials: { usernameEnv: REGISTRY_USER, passwordEnv: REGISTRY_PASSWORD }`,
    ]),
  );
  env = awsEnv(undefined, { REGISTRY_USER: registry.username, REGISTRY_PASSWORD: registry.password, ...(await goEnv()) });
});
afterAll(async () => registry?.stop());

const skopeo = async (...args: string[]) => String((await execa('skopeo', args)).stdout);
const ref = (tag: string) => `docker://${registry.host}/team/readings:${tag}`;

describe('hybridctl image push', () => {
  it('pushes a multi-platform image that an independent client reads back and runs', { timeout: 300_000 }, async () => {
    const push = await runCli(['image', 'push', '-c', config, '-o', 'json'], env);
    expect(push.code, push.stderr).toBe(0);
    const result = JSON.parse(push.stdout);
    pushed = result.digest;
    expect(result.reference).toBe(`${registry.host}/team/readings@${result.digest}`);
    expect(result.uploadedBlobs).toBe(4);

    const index = JSON.parse(await skopeo('inspect', '--raw', ...registry.skopeoFlags(''), ref('v1')));
    expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(index.manifests.map((m: { platform: { architecture: string } }) => m.platform.architecture).sort()).toEqual(['amd64', 'arm64']);
    const tags = JSON.parse(await skopeo('list-tags', ...registry.skopeoFlags(''), `docker://${registry.host}/team/readings`)).Tags;
    expect(tags.sort()).toEqual([`sha-${result.digest.slice(7, 19)}`, 'v1'].sort());

    for (const arch of ['amd64', 'arm64']) {
      const configBlob = JSON.parse(await skopeo('inspect', '--config', '--override-arch', arch, '--override-os', 'linux', ...registry.skopeoFlags(''), ref('v1')));
      expect(configBlob.architecture).toBe(arch);
      expect(configBlob.config.User).toBe('65532:65532');
      expect(configBlob.config.Entrypoint).toEqual(['/readings']);
    }

    // Copy out with skopeo into an OCI layout, unpack the amd64 layer, and run the binary.
    const out = mkdtempSync(join(tmpdir(), 'hybridctl-copy-'));
    await skopeo('copy', '--override-arch', 'amd64', ...registry.skopeoFlags('src'), ref('v1'), `oci:${out}:v1`);
    const layoutIndex = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8'));
    const blob = (digest: string) => readFileSync(join(out, 'blobs', ...digest.split(':')));
    const manifest = JSON.parse(blob(layoutIndex.manifests[0].digest).toString());
    const layer = blob(manifest.layers[0].digest);
    const binary = await extractFile(layer, 'readings');
    expect(binary?.length).toBeGreaterThan(1_000_000);
    const path = join(out, 'readings');
    writeFileSync(path, binary ?? Buffer.alloc(0));
    chmodSync(path, 0o755);
    const port = await freePort();
    const server = execa(path, [], { env: { SITE: 'onprem', NODE_NAME: 'test-node', LISTEN_ADDR: `127.0.0.1:${port}`, DRAIN_DELAY: '0s' }, reject: false });
    try {
      let health = '';
      for (let i = 0; i < 50 && health !== 'ok'; i++) {
        health = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.text(), () => '');
        if (health.trim() !== 'ok') await new Promise((r) => setTimeout(r, 100));
        health = health.trim();
      }
      expect(health).toBe('ok');
      const response = await fetch(`http://127.0.0.1:${port}/api/readings/summary`);
      expect(response.headers.get('x-site')).toBe('onprem');
    } finally {
      server.kill('SIGTERM');
      await server;
    }
  });

  it('uploads nothing when the image has not changed', { timeout: 300_000 }, async () => {
    const again = await runCli(['image', 'push', '-c', config, '-o', 'json'], env);
    expect(again.code, again.stderr).toBe(0);
    // The same digest (the build is reproducible), and nothing sent that the registry has.
    expect(JSON.parse(again.stdout)).toMatchObject({ digest: pushed, uploadedBlobs: 0, pushedManifests: 0 });
  });

  it('says why when the registry refuses the credentials', { timeout: 300_000 }, async () => {
    const result = await runCli(['image', 'push', '-c', config], { ...env, REGISTRY_PASSWORD: 'wrong' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/HTTP 401/);
    expect(result.stderr).toContain('refused the credentials');
  });

  it('asks for the credentials it is told to use', async () => {
    const result = await runCli(['image', 'push', '-c', config], { ...env, REGISTRY_PASSWORD: undefined });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('service.image.credentials: set REGISTRY_USER and REGISTRY_PASSWORD');
  });
});
