import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { freePort } from './moto.ts';
import { ROOT } from './paths.ts';
import { startReadyProcess } from './process.ts';

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
  /** When the API server received it (ms since the epoch, microsecond precision in the log). */
  at: number;
}

export interface Testbed {
  /** `https://<listen>:<port>` */
  server: string;
  port: number;
  kubeconfigFile: string;
  kubeconfig: string;
  /** `http://127.0.0.1:<port>/metrics` of the bed's etcd, when asked for. */
  etcdMetricsUrl?: string;
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
  /**
   * Pods with this label are run for real instead of by kwok: the container's command from the
   * image's root filesystem, in the network namespace of the node the pod is bound to.
   */
  exec?: { label: string; rootfs: string; netns: Record<string, string> };
  /**
   * Serve the nodes' kubelet API (kwok's server) so the pod log endpoint works: a pod's log is
   * the CRI-format file that a kwok `Logs` object of the pod's name names (see `podLogs`).
   * Only nodes whose name carries no address are reachable (theirs is `listen`).
   */
  kubeletApi?: boolean;
  /** Serve etcd's own /metrics (see `Testbed.etcdMetricsUrl`). */
  etcdMetrics?: boolean;
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
  const etcdMetricsPort = options.etcdMetrics ? await freePort() : undefined;
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
    ...(options.exec
      ? ['--exec-label', options.exec.label, '--exec-rootfs', options.exec.rootfs, ...Object.entries(options.exec.netns).flatMap(([node, ns]) => ['--exec-netns', `${node}=${ns}`])]
      : []),
    ...(options.kubeletApi ? ['--kubelet-port', String(await freePort())] : []),
    ...(etcdMetricsPort ? ['--etcd-metrics-port', String(etcdMetricsPort)] : []),
  ];
  const testbed = await startReadyProcess(KUBE_TESTBED, args, { log: join(dir, 'testbed.log'), dir, readyMs: 120_000, graceMs: 10_000 });
  return {
    server: `https://${options.listen}:${port}`,
    port,
    kubeconfigFile,
    kubeconfig: readFileSync(kubeconfigFile, 'utf8'),
    ...(etcdMetricsPort ? { etcdMetricsUrl: `http://127.0.0.1:${etcdMetricsPort}/metrics` } : {}),
    adminRequests: () => readAudit(auditLog).filter((e) => e.user === 'admin' && !e.userAgent.startsWith('kube-testbed/')),
    stop: () => testbed.stop(),
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
      at: Date.parse(e.requestReceivedTimestamp ?? ''),
    }));
}

/**
 * The kwok object that makes the test bed's kubelet API serve `file` as the log of `container`
 * in pod `namespace/pod` (apply it with kubectl).
 */
export function podLogs(namespace: string, pod: string, container: string, file: string): object {
  return { apiVersion: 'kwok.x-k8s.io/v1alpha1', kind: 'Logs', metadata: { name: pod, namespace }, spec: { logs: [{ containers: [container], logsFile: file }] } };
}

/** The readings service's namespace and a two-replica Deployment of it, as a kubectl List (kwok runs the pods). */
export function readingsWorkload(): object {
  return {
    apiVersion: 'v1',
    kind: 'List',
    items: [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'readings' } },
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'readings', namespace: 'readings' },
        spec: {
          replicas: 2,
          selector: { matchLabels: { 'app.kubernetes.io/name': 'readings' } },
          template: { metadata: { labels: { 'app.kubernetes.io/name': 'readings' } }, spec: { containers: [{ name: 'readings', image: 'readings:test' }] } },
        },
      },
    ],
  };
}
