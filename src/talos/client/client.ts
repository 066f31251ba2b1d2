import { setTimeout as sleep } from 'node:timers/promises';
import { connect as tlsConnect, createSecureContext } from 'node:tls';
import { type Client, type ClientReadableStream, credentials, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { parse as parseYaml } from 'yaml';
import { parsePrivateKey, spkiFingerprint } from '../pki.ts';
import { extractFile } from './tar.ts';
import { TalosError, TalosUnreachableError, isUnavailable, talosError } from './errors.ts';
import {
  type ApplyConfigurationMessage,
  type ApplyMode,
  type DataMessage,
  type EtcdMembersMessage,
  type Messages,
  type NetworkDeviceStatsMessage,
  type NodeMetadata,
  type ResourceMessage,
  type ServiceListMessage,
  type VersionMessage,
  machineServiceClient,
  stateServiceClient,
} from './proto.ts';

export const TALOS_API_PORT = 50000;

/** How to talk to a node: maintenance mode (server-only TLS) or configured (mutual TLS with the talosconfig). */
export type TalosCredentials =
  | { mode: 'maintenance'; /** base64 SPKI SHA-256 of the server certificate to accept, as Talos prints it */ fingerprint?: string }
  | { mode: 'configured'; ca: string; crt: string; key: string };

export interface TalosClientOptions {
  /** Per-call deadline. */
  timeoutMs?: number;
  /** Nodes every call addresses through this endpoint (apid's `nodes` metadata), unless a call names others. */
  nodes?: string[];
}

/** A Talos resource read through COSI: its id, and its spec as Talos's YAML gives it. */
export interface TalosResource<Spec = Record<string, unknown>> {
  id: string;
  spec: Spec;
}

type Unary = (request: unknown, metadata: Metadata, options: { deadline: Date }, callback: (error: ServiceError | null, response: unknown) => void) => void;

/**
 * A Talos API client for one endpoint. Calls may address other nodes through it (apid's
 * `nodes` metadata); per-node errors inside a response become errors naming the node.
 */
export class TalosClient {
  readonly endpoint: string;
  readonly mode: TalosCredentials['mode'];
  private readonly creds: TalosCredentials;
  private readonly target: string;
  private readonly timeoutMs: number;
  private readonly defaultNodes: string[] | undefined;
  private channel: Promise<Client> | undefined;
  private state: Promise<Client> | undefined;

  constructor(endpoint: string, creds: TalosCredentials, options: TalosClientOptions = {}) {
    this.endpoint = endpoint;
    this.mode = creds.mode;
    this.creds = creds;
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.defaultNodes = options.nodes;
    this.target = endpoint.includes(':') && !endpoint.startsWith('[') ? endpoint : `${endpoint}:${TALOS_API_PORT}`;
  }

  close(): void {
    void this.state?.then((c) => c.close(), () => undefined);
    void this.channel?.then((c) => c.close(), () => undefined);
  }

  /** The gRPC channel, made on first use (a pinned maintenance key is checked first). */
  private client(): Promise<Client> {
    this.channel ??= (async () => {
      const Service = machineServiceClient();
      return new Service(this.target, await channelCredentials(this.creds, this.target, this.timeoutMs), {
        // One attempt per call: we retry ourselves, with messages that say what we wait for.
        'grpc.enable_retries': 0,
        'grpc.initial_reconnect_backoff_ms': 200,
        'grpc.max_reconnect_backoff_ms': 1000,
        // Nodes are addressed by IP, which TLS may not carry as a server name; we check the CA, not the name.
        'grpc.ssl_target_name_override': 'talos-node',
      });
    })();
    return this.channel;
  }

  /** COSI's State service on the same connection. */
  private stateClient(): Promise<Client> {
    this.state ??= this.client().then((machine) => {
      const Service = stateServiceClient();
      // The credentials are the shared channel's; these are never used.
      return new Service(this.target, credentials.createInsecure(), { channelOverride: machine.getChannel() });
    });
    return this.state;
  }

  /**
   * Every resource of a type in a namespace (`talosctl get`), on one node: this endpoint's node,
   * or `node` through it (apid's single-node `node` metadata, which is how COSI calls are routed).
   */
  async resources<Spec = Record<string, unknown>>(namespace: string, type: string, node?: string): Promise<TalosResource<Spec>[]> {
    const target = node ?? this.defaultNodes?.[0] ?? this.endpoint;
    const client = await this.stateClient().catch((error: unknown) => {
      throw talosError(target, error, this.mode);
    });
    const metadata = new Metadata();
    const routed = node ?? (this.defaultNodes?.length === 1 ? this.defaultNodes[0] : undefined);
    if (routed) metadata.add('node', routed);
    const list = (client as unknown as Record<string, (req: unknown, md: Metadata, opts: { deadline: Date }) => ClientReadableStream<{ resource?: ResourceMessage }>>).list;
    if (!list) throw new Error('List is not in the proto');
    const found: TalosResource<Spec>[] = [];
    await new Promise<void>((resolve, reject) => {
      const call = list.call(client, { namespace, type }, metadata, { deadline: this.deadline() });
      call.on('data', (message: { resource?: ResourceMessage }) => {
        const resource = message.resource;
        if (resource?.metadata) found.push({ id: resource.metadata.id, spec: (parseYaml(resource.spec?.yamlSpec ?? '') ?? {}) as Spec });
      });
      call.on('error', (error) => reject(talosError(target, error, this.mode)));
      call.on('end', () => resolve());
    });
    return found;
  }

  /** Interface counters of each node (/proc/net/dev). */
  async networkDeviceStats(nodes?: string[]): Promise<NetworkDeviceStatsMessage[]> {
    return this.unary<NetworkDeviceStatsMessage>('networkDeviceStats', {}, nodes);
  }

  async version(nodes?: string[]): Promise<VersionMessage[]> {
    return this.unary<VersionMessage>('version', {}, nodes);
  }

  async applyConfiguration(data: string, options: { mode: ApplyMode; dryRun?: boolean }, nodes?: string[]): Promise<ApplyConfigurationMessage[]> {
    return this.unary<ApplyConfigurationMessage>('applyConfiguration', { data: Buffer.from(data), mode: options.mode, dryRun: options.dryRun ?? false }, nodes);
  }

  async bootstrap(nodes?: string[]): Promise<void> {
    await this.unary('bootstrap', {}, nodes);
  }

  async etcdMembers(nodes?: string[]): Promise<EtcdMembersMessage[]> {
    return this.unary<EtcdMembersMessage>('etcdMemberList', { queryLocal: false }, nodes);
  }

  async services(nodes?: string[]): Promise<ServiceListMessage[]> {
    return this.unary<ServiceListMessage>('serviceList', {}, nodes);
  }

  async reboot(nodes?: string[]): Promise<void> {
    await this.unary('reboot', { mode: 'DEFAULT' }, nodes);
  }

  async reset(options: { graceful: boolean; reboot: boolean }, nodes?: string[]): Promise<void> {
    await this.unary('reset', { graceful: options.graceful, reboot: options.reboot, mode: 'SYSTEM_DISK' }, nodes);
  }

  /** The admin kubeconfig: Talos streams a gzip'd tar holding one file, `kubeconfig`. */
  async kubeconfig(node?: string): Promise<string> {
    const target = node ?? this.defaultNodes?.[0] ?? this.endpoint;
    const chunks: Buffer[] = [];
    const client = await this.client().catch((error: unknown) => {
      throw talosError(target, error, this.mode);
    });
    await new Promise<void>((resolve, reject) => {
      const call = (client as unknown as Record<string, (req: unknown, md: Metadata, opts: { deadline: Date }) => ClientReadableStream<DataMessage>>)
        .kubeconfig?.call(client, {}, this.metadata(node ? [node] : undefined), { deadline: this.deadline() });
      if (!call) return reject(new Error('Kubeconfig is not in the proto'));
      call.on('data', (message: DataMessage) => {
        if (message.metadata?.error) reject(nodeError(message.metadata, target));
        else chunks.push(Buffer.from(message.bytes));
      });
      call.on('error', (error) => reject(talosError(target, error, this.mode)));
      call.on('end', () => resolve());
    });
    const file = await extractFile(Buffer.concat(chunks), 'kubeconfig');
    if (!file) throw new TalosError(target, 'the Kubeconfig response holds no kubeconfig file');
    return file.toString('utf8');
  }

  /**
   * Repeats `call` while the node is unavailable (rebooting, still booting), with backoff, until
   * `timeoutMs`; `waitingFor` says what for, through `report`.
   */
  async whileUnavailable<T>(call: () => Promise<T>, timeoutMs: number, report?: (message: string) => void, waitingFor = 'the node to answer'): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (let delay = 250; ; delay = Math.min(delay * 2, 5_000)) {
      try {
        return await call();
      } catch (error) {
        if (!isUnavailable((error as TalosError).cause ?? error) || Date.now() + delay > deadline) throw error;
        report?.(`waiting for ${waitingFor}`);
        await sleep(delay);
      }
    }
  }

  private deadline(): Date {
    return new Date(Date.now() + this.timeoutMs);
  }

  private metadata(nodes: string[] | undefined): Metadata {
    const metadata = new Metadata();
    for (const node of nodes ?? this.defaultNodes ?? []) metadata.add('nodes', node);
    return metadata;
  }

  private async unary<T extends { metadata?: NodeMetadata }>(method: string, request: unknown, requested?: string[]): Promise<T[]> {
    const nodes = requested ?? this.defaultNodes;
    const target = nodes?.length === 1 ? (nodes[0] ?? this.endpoint) : this.endpoint;
    const client = await this.client().catch((error: unknown) => {
      throw talosError(target, error, this.mode);
    });
    const fn = (client as unknown as Record<string, Unary>)[method];
    if (!fn) throw new Error(`${method} is not in the proto`);
    const response = await new Promise<Messages<T>>((resolve, reject) => {
      fn.call(client, request, this.metadata(nodes), { deadline: this.deadline() }, (error, value) =>
        error ? reject(talosError(target, error, this.mode)) : resolve(value as Messages<T>),
      );
    });
    const failed = response.messages.find((m) => m.metadata?.error);
    if (failed?.metadata) throw nodeError(failed.metadata, target);
    return response.messages;
  }
}

/** A failure apid reports for one node; "could not reach it" (Unavailable) is the same as the node being unreachable. */
function nodeError(metadata: NodeMetadata, fallback: string): TalosError {
  const node = metadata.hostname || fallback;
  if (metadata.status?.code === status.UNAVAILABLE) {
    return new TalosUnreachableError(node, `not reachable through the endpoint: ${metadata.error}`, 'is the node running and booted?', status.UNAVAILABLE);
  }
  return new TalosError(node, metadata.error, undefined, metadata.status?.code);
}

async function channelCredentials(creds: TalosCredentials, target: string, timeoutMs: number) {
  if (creds.mode === 'configured') {
    // OpenSSL does not read Talos's "ED25519 PRIVATE KEY" PEM label; hand it PKCS#8.
    const key = parsePrivateKey(creds.key).export({ format: 'pem', type: 'pkcs8' });
    return credentials.createSsl(Buffer.from(creds.ca), Buffer.from(key), Buffer.from(creds.crt), {
      // Talos serves certificates for its addresses and SANs; we trust only our own CA, which is what matters.
      checkServerIdentity: () => undefined,
    });
  }
  if (!creds.fingerprint) {
    // Maintenance mode: the node has a self-signed certificate and nothing to check it against.
    return credentials.createSsl(null, null, null, { rejectUnauthorized: false, checkServerIdentity: () => undefined });
  }
  // Pinned: fetch the node's certificate, check its key, then trust exactly that certificate.
  const certificate = await peerCertificate(target, timeoutMs);
  const actual = spkiFingerprint(certificate);
  if (actual !== creds.fingerprint) {
    throw Object.assign(new Error(`the server key fingerprint ${actual} does not match the pinned ${creds.fingerprint}`), { code: -1 });
  }
  const pem = `-----BEGIN CERTIFICATE-----\n${certificate.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`;
  // The pinned certificate itself is the trust anchor, whoever issued it.
  return credentials.createFromSecureContext(createSecureContext({ ca: pem, allowPartialTrustChain: true }), { checkServerIdentity: () => undefined });
}

function peerCertificate(target: string, timeoutMs: number): Promise<Buffer> {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host, port, rejectUnauthorized: false, servername: 'talos-node', timeout: timeoutMs }, () => {
      resolve(socket.getPeerCertificate().raw);
      socket.end();
    });
    socket.on('timeout', () => socket.destroy(Object.assign(new Error('ETIMEDOUT'), { code: 'ETIMEDOUT' })));
    socket.on('error', (error) => reject(Object.assign(new Error(`No connection established: ${error.message}`), { code: 14, details: error.message })));
  });
}
