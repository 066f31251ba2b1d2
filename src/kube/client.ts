import { type RequestOptions, request as httpsRequest } from 'node:https';
import {
  ApiException,
  CoreV1Api,
  KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
  type CoreV1Event,
  type V1Node,
  type V1Pod,
} from '@kubernetes/client-node';
import { ActionError } from '../core/errors.ts';

/** The field manager hybridctl applies as: `kubectl get … --show-managed-fields` shows it. */
export const FIELD_MANAGER = 'hybridctl';

export type KubeObject = KubernetesObject & { apiVersion: string; kind: string; metadata: NonNullable<KubernetesObject['metadata']> & { name: string } };

/** A cluster's API, as the site's admin kubeconfig reaches it. */
export class KubeClient {
  readonly site: string;
  readonly server: string;
  private readonly objects: KubernetesObjectApi;
  private readonly core: CoreV1Api;
  private readonly config: KubeConfig;
  /** API discovery, one request per group version however many calls start at once. */
  private readonly discovery = new Map<string, Promise<unknown>>();

  constructor(site: string, kubeconfig: string) {
    const config = new KubeConfig();
    config.loadFromString(kubeconfig);
    this.config = config;
    this.site = site;
    this.server = config.getCurrentCluster()?.server ?? '';
    this.objects = KubernetesObjectApi.makeApiClient(config);
    this.core = config.makeApiClient(CoreV1Api);
  }

  /** Server-side apply as hybridctl; `force` takes fields over from other managers. */
  async apply<T extends KubeObject>(object: T, force = false): Promise<T> {
    return this.call(`apply ${describe(object)}`, async () => {
      await this.discover(object.apiVersion, object.kind);
      return this.objects.patch(object, undefined, undefined, FIELD_MANAGER, force, PatchStrategy.ServerSideApply);
    }) as Promise<T>;
  }

  async get<T extends KubeObject>(object: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>): Promise<T | undefined> {
    try {
      await this.discover(object.apiVersion, object.kind);
      return (await this.objects.read(object as never)) as T;
    } catch (error) {
      if (error instanceof ApiException && error.code === 404) return undefined;
      throw this.failure(`read ${describe(object)}`, error);
    }
  }

  /** Objects of a kind carrying these labels, in every namespace. */
  async list<T extends KubeObject>(apiVersion: string, kind: string, labelSelector: string): Promise<T[]> {
    const result = await this.call(`list ${kind}`, async () => {
      await this.discover(apiVersion, kind);
      return this.objects.list(apiVersion, kind, undefined, undefined, undefined, undefined, undefined, labelSelector);
    });
    return (result.items as T[]).map((item) => ({ ...item, apiVersion, kind }));
  }

  async delete(object: KubeObject): Promise<void> {
    try {
      await this.discover(object.apiVersion, object.kind);
      await this.objects.delete(object, undefined, undefined, undefined, undefined, 'Background');
    } catch (error) {
      if (error instanceof ApiException && error.code === 404) return;
      throw this.failure(`delete ${describe(object)}`, error);
    }
  }

  async nodes(): Promise<V1Node[]> {
    return (await this.call('list nodes', () => this.core.listNode())).items;
  }

  async pods(namespace: string, labelSelector?: string): Promise<V1Pod[]> {
    return (await this.call(`list pods in ${namespace}`, () => this.core.listNamespacedPod({ namespace, ...(labelSelector ? { labelSelector } : {}) }))).items;
  }

  /** Events about one object, newest last. */
  async events(namespace: string, name: string): Promise<CoreV1Event[]> {
    const list = await this.call(`list events in ${namespace}`, () => this.core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` }));
    return list.items.sort((a, b) => String(a.lastTimestamp ?? a.eventTime ?? '').localeCompare(String(b.lastTimestamp ?? b.eventTime ?? '')));
  }

  /**
   * GET through the API server's proxy to a Service (`…/services/NAME:PORT/proxy/PATH`), as
   * `kubectl get --raw` does: how Prometheus is read from outside the cluster. The body, as text.
   */
  async proxyGet(namespace: string, service: string, pathAndQuery: string, signal?: AbortSignal): Promise<string> {
    const url = new URL(`${this.server}/api/v1/namespaces/${namespace}/services/${service}/proxy/${pathAndQuery.replace(/^\//, '')}`);
    const options: RequestOptions = { method: 'GET', hostname: url.hostname, port: url.port || 443, path: `${url.pathname}${url.search}`, headers: {}, ...(signal ? { signal } : {}) };
    await this.config.applyToHTTPSOptions(options);
    return this.call(`GET service ${namespace}/${service}`, async () => {
      const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpsRequest(options, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        });
        req.on('error', reject);
        req.end();
      });
      if (status < 200 || status >= 300) throw new KubeError(this.site, `GET service ${namespace}/${service}/${pathAndQuery.split('?')[0]}: ${status} ${body.slice(0, 200).trim()}`, status);
      return body;
    });
  }

  private discover(apiVersion: string, kind: string): Promise<unknown> {
    let pending = this.discovery.get(apiVersion);
    if (!pending) {
      // resource() fills the library's per-group-version cache; it is protected, but calls racing to fill it each fetch it.
      pending = (this.objects as unknown as { resource(apiVersion: string, kind: string): Promise<unknown> }).resource(apiVersion, kind);
      this.discovery.set(apiVersion, pending);
      pending.catch(() => this.discovery.delete(apiVersion));
    }
    return pending;
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw this.failure(what, error);
    }
  }

  failure(what: string, error: unknown): KubeError {
    if (error instanceof KubeError) return error;
    if (error instanceof ApiException) {
      const body = typeof error.body === 'string' ? safeJson(error.body) : error.body;
      const message = (body as { message?: string } | undefined)?.message ?? error.message;
      return new KubeError(this.site, `${what}: ${message}`, error.code, body);
    }
    const cause = (error as { cause?: { code?: string } }).cause;
    const code = cause?.code ?? (error as { code?: string }).code ?? '';
    return new KubeError(
      this.site,
      `${what}: cannot reach the Kubernetes API at ${this.server} (${code || (error as Error).message})`,
      undefined,
      undefined,
      `is the ${this.site} cluster up, and can this machine reach ${this.server}? (\`hybridctl status\`, or kubectl with the kubeconfig from \`hybridctl kubeconfig\`)`,
    );
  }
}

/** Whether the node's kubelet reports it Ready. */
export function nodeReady(node: V1Node): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** The address the node's kubelet reports as its InternalIP (a Talos node's own address). */
export function nodeAddress(node: V1Node): string | undefined {
  return node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
}

/** A Kubernetes API failure, naming the site. */
export class KubeError extends ActionError {
  override name = 'KubeError';
  readonly status: number | undefined;
  readonly body: unknown;
  constructor(site: string, message: string, status?: number, body?: unknown, hint?: string) {
    super(`${site} cluster: ${message}`, hint);
    this.status = status;
    this.body = body;
  }
}

export function describe(object: Pick<KubeObject, 'kind' | 'metadata'>): string {
  return `${object.kind} ${object.metadata.namespace ? `${object.metadata.namespace}/` : ''}${object.metadata.name}`;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text };
  }
}
