import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ResultPromise, execa } from 'execa';
import { PYTHON, ROOT } from './paths.ts';
import { diesWithTests } from './process.ts';
import { CA_CERT, SERVER_CERT, SERVER_KEY } from './tls.ts';

/** One AWS call as moto received it. */
export interface RecordedCall {
  service: string;
  operation: string;
  mutating: boolean;
  /** S3 object requests: the object's key. */
  key?: string;
}

/**
 * The calls that change the cluster: mutating ones other than the run lock's own (every command
 * that may change anything creates and removes `locks/run.json` in the state bucket).
 */
export function changingCalls(calls: readonly RecordedCall[]): RecordedCall[] {
  return calls.filter((c) => c.mutating && !(c.service === 's3' && c.key === 'locks/run.json'));
}

/** The access key test harnesses (not the CLI) use, so their own reads are not counted. */
export const HARNESS_KEY = 'harness';

export interface Moto {
  endpoint: string;
  port: number;
  /** Forget every resource (POST /moto-api/reset) and the recording. */
  reset(): Promise<void>;
  /** Start (or restart) recording requests. */
  record(): Promise<void>;
  /** The calls made since record(). */
  calls(): Promise<RecordedCall[]>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Starts moto_server (with our small extension, test/moto/server.py) on a free loopback port,
 * speaking TLS with the test CA's certificate unless `tls: false`.
 */
export async function startMoto(options: { env?: Record<string, string>; tls?: boolean } = {}): Promise<Moto> {
  const tls = options.tls ?? true;
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'hybridctl-moto-'));
  const recording = join(dir, 'recording.jsonl');
  writeFileSync(recording, '');
  const tlsArgs = tls ? ['-c', SERVER_CERT, '-k', SERVER_KEY] : [];
  const child: ResultPromise = execa(...diesWithTests(PYTHON, [`${ROOT}test/moto/server.py`, '-H', '127.0.0.1', '-p', String(port), ...tlsArgs]), {
    env: { MOTO_RECORDER_FILEPATH: recording, ...options.env },
    reject: false,
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: { file: join(dir, 'moto.log') },
  });
  let exited = false;
  void child.then(() => {
    exited = true;
  });
  const endpoint = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  await waitUntilUp(endpoint, () => exited, join(dir, 'moto.log'));
  const api = (path: string) => call(`${endpoint}/moto-api/${path}`, 'POST');
  return {
    endpoint,
    port,
    async reset() {
      await api('reset');
      await api('recorder/stop-recording');
      await api('recorder/reset-recording');
    },
    async record() {
      await api('recorder/reset-recording');
      await api('recorder/start-recording');
    },
    async calls() {
      return readFileSync(recording, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as RawEntry)
        .filter((entry) => !new RegExp(`Credential=${HARNESS_KEY}/`).test(Object.entries(entry.headers).find(([k]) => k.toLowerCase() === 'authorization')?.[1] ?? ''))
        .map(classify);
    },
    async stop() {
      // Stopped by its process id, as the test setup started it.
      if (child.pid) process.kill(child.pid, 'SIGTERM');
      await Promise.race([child, sleep(5000)]);
      if (!exited && child.pid) process.kill(child.pid, 'SIGKILL');
      if (!process.env.KEEP_TEST_LOGS) rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitUntilUp(endpoint: string, exited: () => boolean, log: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (exited()) throw new Error(`moto_server exited early: ${readFileSync(log, 'utf8').slice(-2000)}`);
    try {
      if ((await call(`${endpoint}/moto-api/data.json`, 'GET')).status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error('moto_server did not start within 60s');
}

/** A request to moto's own API; trusts the test CA itself, whatever the process was started with. */
async function call(url: string, method: string): Promise<{ status: number; body: string }> {
  if (url.startsWith('http:')) {
    const response = await fetch(url, { method });
    return { status: response.status, body: await response.text() };
  }
  return new Promise((resolve, reject) => {
    const req = request(url, { method, ca: readFileSync(CA_CERT) }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

interface RawEntry {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | null;
  body_encoded: boolean;
}

const S3_READS = new Set(['GET', 'HEAD']);
/** S3 bucket sub-resources by the name of their API call (the SDK only sends x-id for some). */
const S3_SUBRESOURCES: Record<string, string> = {
  tagging: 'BucketTagging',
  encryption: 'BucketEncryption',
  versioning: 'BucketVersioning',
  policy: 'BucketPolicy',
  lifecycle: 'BucketLifecycleConfiguration',
  publicAccessBlock: 'PublicAccessBlock',
  versions: 'ObjectVersions',
  delete: 'Objects',
};
const S3_VERBS: Record<string, string> = { GET: 'Get', PUT: 'Put', DELETE: 'Delete', POST: 'Delete', HEAD: 'Head' };

/** Route 53's REST calls by method and path (its API has neither Action nor X-Amz-Target). */
const ROUTE53_CALLS: [string, RegExp, string][] = [
  ['POST', /^\/2013-04-01\/healthcheck$/, 'CreateHealthCheck'],
  ['GET', /^\/2013-04-01\/healthcheck$/, 'ListHealthChecks'],
  ['POST', /^\/2013-04-01\/healthcheck\/[^/]+$/, 'UpdateHealthCheck'],
  ['DELETE', /^\/2013-04-01\/healthcheck\/[^/]+$/, 'DeleteHealthCheck'],
  ['POST', /^\/2013-04-01\/tags\/healthcheck$/, 'ListTagsForResources'],
  ['POST', /^\/2013-04-01\/tags\/healthcheck\/[^/]+$/, 'ChangeTagsForResource'],
  ['GET', /^\/2013-04-01\/hostedzone\/[^/]+\/rrset\/?$/, 'ListResourceRecordSets'],
  ['POST', /^\/2013-04-01\/hostedzone\/[^/]+\/rrset\/?$/, 'ChangeResourceRecordSets'],
  ['GET', /^\/2013-04-01\/change\/[^/]+$/, 'GetChange'],
];

export function route53Operation(method: string, path: string): string {
  return ROUTE53_CALLS.find(([m, p]) => m === method && p.test(path))?.[2] ?? `${method} ${path}`;
}

/** Names a recorded request: query-protocol Action, JSON X-Amz-Target, Route 53's REST paths, or S3 REST method and sub-resource. */
export function classify(entry: RawEntry): RecordedCall {
  const headers = Object.fromEntries(Object.entries(entry.headers).map(([k, v]) => [k.toLowerCase(), v]));
  const service = /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(headers.authorization ?? '')?.[1] ?? 'unknown';
  const target = headers['x-amz-target'];
  if (target) {
    const operation = target.split('.').pop() ?? target;
    return { service, operation, mutating: !/^(Describe|Get|List)/.test(operation) };
  }
  const body = entry.body_encoded ? Buffer.from(entry.body ?? '', 'base64').toString('utf8') : (entry.body ?? '');
  const action = new URLSearchParams(body).get('Action') ?? new URL(entry.url, 'http://x').searchParams.get('Action');
  if (action) return { service, operation: action, mutating: !/^(Describe|Get|List)/.test(action) };
  const url = new URL(entry.url, 'http://x');
  if (service === 'route53') {
    const operation = route53Operation(entry.method, url.pathname);
    return { service, operation, mutating: !/^(Get|List)/.test(operation) };
  }
  const sub = [...url.searchParams.keys()].find((k) => k in S3_SUBRESOURCES);
  const named = sub ? `${sub === 'versions' ? 'List' : S3_VERBS[entry.method]}${S3_SUBRESOURCES[sub]}` : undefined;
  const path = url.pathname.split('/').filter(Boolean);
  const listing = url.searchParams.get('list-type') === '2' ? 'ListObjectsV2' : undefined;
  const operation = url.searchParams.get('x-id') ?? named ?? listing ?? `${entry.method} ${path.length > 1 ? 'object' : 'bucket'}`;
  const key = !sub && path.length > 1 ? decodeURIComponent(path.slice(1).join('/')) : undefined;
  return { service, operation, mutating: !S3_READS.has(entry.method), ...(key ? { key } : {}) };
}
