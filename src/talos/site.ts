import type { SiteName } from '../core/config/schema.ts';
import type { StateDir } from '../core/state.ts';
import { TalosClient, type TalosCredentials } from './client/client.ts';
import type { Role } from './machine-config.ts';
import type { SecretsBundle } from './secrets.ts';

/** One Talos machine of a site, as the inventory (or the cloud) describes it. */
export interface TalosNode {
  /** Logical id: `node-<address>` on-prem. */
  id: string;
  /** Where its Talos API answers. */
  address: string;
  role: Role;
  /** SPKI fingerprint to accept in maintenance mode (optional pinning). */
  fingerprint?: string;
}

/** How long to wait for the slow parts, and how often the user hears about it. */
export interface TalosTimeouts {
  /** How long a node that does not answer gets before `up` gives up on it. */
  reachMs: number;
  /** From applying a config in maintenance mode to the node answering with our CA (install + reboot). */
  installMs: number;
  /** From bootstrap to every control plane being an etcd member with healthy services. */
  healthMs: number;
  /** A single call. */
  callMs: number;
  /** Finding out whether a node answers at all (plan and up start with this for every node). */
  probeMs: number;
}

/**
 * What the Talos kinds need from a site: its cluster name, where its secrets live, its nodes,
 * how to make each node's config, and how to reach the Talos API.
 */
export interface TalosSite {
  site: SiteName;
  /** The Talos/Kubernetes cluster name: `<metadata.name>-<site>`. */
  clusterName: string;
  state: StateDir;
  /** A secrets.yaml the user brought (talos.secretsFiles); copied into the state directory once. */
  importSecretsFrom?: string;
  nodes: TalosNode[];
  /** Endpoints a talosconfig context lists for this site. */
  talosEndpoints: string[];
  timeouts: TalosTimeouts;
  /** The full machine config for a node (defaults and user patches applied), as YAML. */
  configFor(node: TalosNode, bundle: SecretsBundle): Promise<string>;
}

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

export function connect(node: Pick<TalosNode, 'address' | 'fingerprint'>, creds: TalosCredentials | 'maintenance', timeouts: TalosTimeouts, probe = false): TalosClient {
  const resolved: TalosCredentials = creds === 'maintenance' ? { mode: 'maintenance', ...(node.fingerprint ? { fingerprint: node.fingerprint } : {}) } : creds;
  return new TalosClient(node.address, resolved, { timeoutMs: probe ? timeouts.probeMs : timeouts.callMs });
}

/** Runs fn with a client and always closes it. */
export async function withClient<T>(client: TalosClient, fn: (client: TalosClient) => Promise<T>): Promise<T> {
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}
