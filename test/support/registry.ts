import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { get } from 'node:https';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ResultPromise, execa } from 'execa';
import { freePort } from './moto.ts';
import { diesWithTests } from './process.ts';
import { CA_CERT, SERVER_CERT, SERVER_KEY } from './tls.ts';

export interface Registry {
  /** `https://127.0.0.1:<port>` */
  url: string;
  host: string;
  username: string;
  password: string;
  /** skopeo's flags for this registry: our CA and the credentials. */
  skopeoFlags(prefix: 'src' | 'dest' | ''): string[];
  stop(): Promise<void>;
}

/** The Go environment `image build`/`image push` compile the service with (the CLI's test env is otherwise minimal). */
export async function goEnv(): Promise<Record<string, string>> {
  const go = await execa('go', ['env', 'GOCACHE', 'GOMODCACHE', 'GOPATH']);
  const [GOCACHE = '', GOMODCACHE = '', GOPATH = ''] = String(go.stdout).split('\n');
  return { GOCACHE, GOMODCACHE, GOPATH, GOFLAGS: '-mod=mod' };
}

/**
 * Debian's docker-registry (CNCF distribution) on loopback, over TLS with the test CA's
 * certificate and with htpasswd authentication, started and stopped by process id.
 */
export async function startRegistry(): Promise<Registry> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'hybridctl-registry-'));
  const username = 'pusher';
  const password = 'correct-horse-battery';
  await execa('htpasswd', ['-Bbc', join(dir, 'htpasswd'), username, password]);
  const certs = join(dir, 'certs');
  mkdirSync(certs);
  copyFileSync(CA_CERT, join(certs, 'ca.crt'));
  writeFileSync(
    join(dir, 'config.yml'),
    [
      'version: 0.1',
      'log: { level: warn }',
      `storage: { filesystem: { rootdirectory: ${join(dir, 'data')} }, delete: { enabled: true } }`,
      `http: { addr: "127.0.0.1:${port}", tls: { certificate: ${SERVER_CERT}, key: ${SERVER_KEY} } }`,
      `auth: { htpasswd: { realm: hybridctl-test, path: ${join(dir, 'htpasswd')} } }`,
      '',
    ].join('\n'),
  );
  const child: ResultPromise = execa(...diesWithTests('docker-registry', ['serve', join(dir, 'config.yml')]), { reject: false, stdin: 'ignore', stdout: 'ignore', stderr: { file: join(dir, 'registry.log') } });
  let exited = false;
  void child.then(() => {
    exited = true;
  });
  const url = `https://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (exited) throw new Error(`docker-registry exited: ${readFileSync(join(dir, 'registry.log'), 'utf8')}`);
    const up = await answersUnauthorized(`${url}/v2/`);
    if (up) break;
    if (Date.now() > deadline) throw new Error('docker-registry did not start');
    await sleep(100);
  }
  return {
    url,
    host: `127.0.0.1:${port}`,
    username,
    password,
    skopeoFlags(prefix) {
      const p = prefix ? `--${prefix}-` : '--';
      return [`${p}cert-dir=${certs}`, `${p}creds=${username}:${password}`];
    },
    async stop() {
      if (child.pid && !exited) process.kill(child.pid, 'SIGTERM');
      await Promise.race([child, sleep(5_000)]);
      if (child.pid && !exited) process.kill(child.pid, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The registry answers 401 to an anonymous /v2/ once it serves; the CA is given here, so this works before NODE_EXTRA_CA_CERTS is set. */
function answersUnauthorized(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    get(url, { ca: readFileSync(CA_CERT) }, (res) => {
      res.resume();
      resolve(res.statusCode === 401);
    }).on('error', () => resolve(false));
  });
}

/**
 * The root filesystem of a pushed image for this machine's architecture, read back from the
 * registry with skopeo and unpacked into `dir` (what a container runtime would run).
 */
export async function unpackImage(registry: Registry, ref: string, dir: string): Promise<string> {
  const layout = mkdtempSync(join(tmpdir(), 'hybridctl-unpack-'));
  await execa('skopeo', ['copy', '--override-arch', process.arch === 'arm64' ? 'arm64' : 'amd64', ...registry.skopeoFlags('src'), `docker://${ref}`, `oci:${layout}:image`]);
  const blob = (digest: string) => join(layout, 'blobs', ...digest.split(':'));
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8'));
  const manifest = JSON.parse(readFileSync(blob(index.manifests[0].digest), 'utf8'));
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  // The image's user (not root) must be able to enter it, as it can a container's root.
  chmodSync(dir, 0o755);
  for (const layer of manifest.layers) await execa('tar', ['-xzf', blob(layer.digest), '-C', dir]);
  rmSync(layout, { recursive: true, force: true });
  return dir;
}
