import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ResultPromise, execa } from 'execa';
import { freePort } from './moto.ts';
import { ROOT } from './paths.ts';

export const KUBE_TESTBED = `${ROOT}.cache/bin/kube-testbed`;

/**
 * Builds test/kube's kube-testbed: kube-apiserver, kube-controller-manager and kube-scheduler
 * from k8s.io/kubernetes, embedded etcd and kwok's node simulation, in one binary. The first
 * build compiles Kubernetes (minutes); the Go build cache makes later ones quick.
 */
export async function buildKubeTestbed(): Promise<void> {
  await execa('go', ['build', '-o', `${ROOT}.cache/bin/`, './cmd/kube-testbed'], { cwd: `${ROOT}test/kube`, stdio: 'inherit' });
}

/** One request the API server logged (audit level Metadata). */
export interface AuditEvent {
  verb: string;
  user: string;
  userAgent: string;
  resource: string;
  namespace: string;
  name: string;
  code: number;
}

export interface Testbed {
  /** `https://<listen>:<port>` */
  server: string;
  port: number;
  kubeconfigFile: string;
  kubeconfig: string;
  /** Requests made with the admin kubeconfig by hybridctl and kubectl (not the test bed's own set-up), oldest first. */
  adminRequests(): AuditEvent[];
  stop(): Promise<void>;
}

export interface TestbedOptions {
  cluster: string;
  /** The loopback address the API server binds. */
  listen: string;
  port?: number;
  /** Fake kubelets: `name:role`. */
  nodes: string[];
  /** More names in the serving certificate (a load balancer's DNS name). */
  sans?: string[];
}

const WRITES = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

export function isWrite(event: AuditEvent): boolean {
  return WRITES.has(event.verb);
}

/** Starts a real control plane with kwok nodes on loopback, with TLS and an admin kubeconfig; stopped by process id. */
export async function startTestbed(options: TestbedOptions): Promise<Testbed> {
  const dir = mkdtempSync(join(tmpdir(), 'hybridctl-kube-'));
  const port = options.port ?? (await freePort());
  const kubeconfigFile = join(dir, 'admin.kubeconfig');
  const auditLog = join(dir, 'audit.log');
  const args = [
    '--dir',
    join(dir, 'data'),
    '--listen',
    options.listen,
    '--port',
    String(port),
    '--cluster',
    options.cluster,
    ...options.nodes.flatMap((n) => ['--node', n]),
    ...(options.sans ?? []).flatMap((n) => ['--san', n]),
    '--kubeconfig-out',
    kubeconfigFile,
    '--audit-log',
    auditLog,
  ];
  const child: ResultPromise = execa(KUBE_TESTBED, args, { reject: false, stdin: 'ignore', stdout: 'pipe', stderr: { file: join(dir, 'testbed.log') }, buffer: false });
  let exited = false;
  void child.then(() => {
    exited = true;
  });
  const log = () => (existsSync(join(dir, 'testbed.log')) ? readFileSync(join(dir, 'testbed.log'), 'utf8').slice(-3000) : '');
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kube-testbed did not say ready in 120s: ${log()}`)), 120_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void child.then(() => {
      clearTimeout(timer);
      reject(new Error(`kube-testbed exited: ${log()}`));
    });
  });
  return {
    server: `https://${options.listen}:${port}`,
    port,
    kubeconfigFile,
    kubeconfig: readFileSync(kubeconfigFile, 'utf8'),
    adminRequests: () => readAudit(auditLog).filter((e) => e.user === 'admin' && !e.userAgent.startsWith('kube-testbed/')),
    async stop() {
      if (child.pid && !exited) process.kill(child.pid, 'SIGTERM');
      await Promise.race([child, sleep(10_000)]);
      if (!exited && child.pid) process.kill(child.pid, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function readAudit(file: string): AuditEvent[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line))
    .filter((e) => e.stage === 'ResponseComplete')
    .map((e) => ({
      verb: e.verb,
      user: e.user?.username ?? '',
      userAgent: e.userAgent ?? '',
      resource: e.objectRef?.resource ?? '',
      namespace: e.objectRef?.namespace ?? '',
      name: e.objectRef?.name ?? '',
      code: e.responseStatus?.code ?? 0,
    }));
}
