import type { SiteName } from '../core/config/schema.ts';
import type { ObserveContext } from '../core/engine/model.ts';
import type { StateDir } from '../core/state.ts';
import { TalosClient, type TalosCredentials } from './client/client.ts';
import type { Platform, Role } from './machine-config.ts';
import type { Patch } from './patches.ts';
import type { SecretsBundle } from './secrets.ts';

/** One Talos machine of a site. */
export interface TalosNode {
  /** Logical id: `node-<address>` on-prem, `controlplane-1`, `worker-2`… on AWS. */
  id: string;
  /** Where its Talos API answers (on AWS, the instance's private address). */
  address: string;
  role: Role;
  /** SPKI fingerprint to accept in maintenance mode (optional pinning). */
  fingerprint?: string;
}

/** How long to wait for the slow parts. */
export interface TalosTimeouts {
  /** How long a node that does not answer gets before `up` gives up on it. */
  reachMs: number;
  /** From applying a config (or launching an instance) to the node answering configured. */
  installMs: number;
  /** From bootstrap to every control plane being an etcd member with healthy services. */
  healthMs: number;
  /** A single call. */
  callMs: number;
  /** Finding out whether a node answers at all (plan and up start with this for every node). */
  probeMs: number;
}

/** Where a site's nodes are right now and how to reach them. */
export interface SiteView {
  /** The nodes that exist, with their addresses. */
  nodes: TalosNode[];
  /** The endpoint Talos calls go through, addressing nodes by `nodes` metadata (AWS: the load balancer); absent: each node directly. */
  via?: string;
  /** The Kubernetes API endpoint, `https://host:6443`. */
  endpoint: string;
}

/**
 * What the Talos kinds need from a site: its cluster name, where its secrets live, where its
 * nodes are, how to make each node's config, and how long things may take.
 */
export interface TalosSite {
  site: SiteName;
  platform: Platform;
  /** The Talos/Kubernetes cluster name: `<metadata.name>-<site>`. */
  clusterName: string;
  state: StateDir;
  /** A secrets.yaml the user brought (talos.secretsFiles); copied into the state directory once. */
  importSecretsFrom?: string;
  timeouts: TalosTimeouts;
  /** Physical hosts: once configured, a host is only ever spoken to with mutual TLS (see trust.ts). */
  trustOnFirstUse: boolean;
  /** Addresses the user reinstalled (`up --reinstall`): their next configuration is a first one again. */
  reinstall?: ReadonlySet<string>;
  /** Where the nodes are now (observing other kinds through ctx where the site needs to). */
  view(ctx: ObserveContext<TalosSite>): Promise<SiteView>;
  /** The full machine config for a node (defaults and user patches applied), as YAML. */
  configFor(node: Pick<TalosNode, 'address' | 'role' | 'id'>, bundle: SecretsBundle, endpoint: string): Promise<string>;
}

/**
 * Documents a layer above adds to some nodes' configs (the VPN's WireGuard link, say), applied
 * after hybridctl's defaults and before the user's patches. It may ask the node (its links).
 */
export type ConfigExtension = (site: TalosSite, node: Pick<TalosNode, 'address' | 'role' | 'id'>, bundle: SecretsBundle) => Promise<Patch[]>;

export function secretsFileName(site: SiteName): string {
  return `talos/${site}-secrets.yaml`;
}

export function kubeconfigFileName(site: SiteName): string {
  return `kubeconfig-${site}`;
}

export const TALOSCONFIG_FILE = 'talosconfig';

export function contextName(site: Pick<TalosSite, 'clusterName'>): string {
  return site.clusterName;
}

export interface ConnectOptions {
  /** Reach the node through this endpoint (`nodes` metadata) instead of directly. */
  via?: string | undefined;
  /** Use the short probe deadline. */
  probe?: boolean;
}

/** A client for one node: directly, or through `via` with the node named in `nodes` metadata. */
export function connect(node: Pick<TalosNode, 'address' | 'fingerprint'>, creds: TalosCredentials | 'maintenance', timeouts: TalosTimeouts, options: ConnectOptions = {}): TalosClient {
  const resolved: TalosCredentials = creds === 'maintenance' ? { mode: 'maintenance', ...(node.fingerprint ? { fingerprint: node.fingerprint } : {}) } : creds;
  const timeoutMs = options.probe ? timeouts.probeMs : timeouts.callMs;
  return options.via
    ? new TalosClient(options.via, resolved, { timeoutMs, nodes: [node.address] })
    : new TalosClient(node.address, resolved, { timeoutMs });
}

/** Runs fn with a client and always closes it. */
export async function withClient<T>(client: TalosClient, fn: (client: TalosClient) => Promise<T>): Promise<T> {
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}
