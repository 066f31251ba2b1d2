import type { SiteName } from '../core/config/schema.ts';

/** One source's latest reading: its value, or why there is none, and when the last good one came. */
export interface Reading<T> {
  value?: T;
  /** The source failed this time (the value, if any, is the last good one). */
  error?: string;
  /** What this shows does not exist (yet): why. */
  unset?: string;
  /** When the value was read. */
  lastGoodAt?: string;
}

export interface NodeRow {
  name: string;
  address: string;
  role: 'controlplane' | 'worker';
  /** Kubernetes's Ready condition; null when Kubernetes does not know the node. */
  ready: boolean | null;
  /** Talos's machine stage (running, booting, …); undefined when Talos did not answer. */
  stage?: string;
  services?: { running: number; total: number; unhealthy: string[] };
  /** A member of etcd (control planes). */
  etcd?: boolean;
  /** Why Talos could not be asked about this node. */
  talosError?: string;
}

export interface SiteStatus {
  nodes: NodeRow[];
  /** etcd's member count, as the first control plane reports it. */
  etcdMembers?: number;
  /** Certificates of the access files that expire within 30 days. */
  expiring: { file: string; expiresAt: string }[];
}

export interface PodRow {
  name: string;
  node: string;
  ready: boolean;
}

export interface SiteService {
  ready: number;
  desired: number;
  /** The image running, digest first when pinned by one. */
  image: string;
  pods: PodRow[];
}

export interface ServiceStatus {
  active: SiteName;
  sites: Partial<Record<SiteName, SiteService | { error: string }>>;
  lastFailover?: { to: SiteName; at: string; seconds?: number; failedRequests?: number };
}

export interface TrafficStatus {
  /** The load balancer's targets per site: healthy of all. */
  targets: Partial<Record<SiteName, { healthy: number; total: number }>>;
  /** Requests/s, 5xx share and p99 (s) per site, from Prometheus's recording rules. */
  rate: Partial<Record<SiteName, number>>;
  errorRatio: Partial<Record<SiteName, number>>;
  p99: Partial<Record<SiteName, number>>;
  /** Requests/s over the last minutes, oldest first. */
  history: Partial<Record<SiteName, number[]>>;
  /** A part that could not be read (the load balancer, Prometheus), and why. */
  missing: string[];
}

export interface GatewayRow {
  site: SiteName;
  address: string;
  state?: string;
  rxBytes?: number;
  txBytes?: number;
  /** Since the last handshake (from Prometheus's WireGuard exporter), seconds. */
  handshakeAgeS?: number;
  error?: string;
}

export interface VpnStatus {
  gateways: GatewayRow[];
}

export interface LakeRow {
  signal: string;
  site: string;
  objects: number;
  newestAgeS?: number;
}

export interface DataStatus {
  bucket: string;
  rows: LakeRow[];
}

/** Everything `status` shows, as one frame (also its `-o json`). */
export interface StatusFrame {
  cluster: string;
  at: string;
  sites: Record<SiteName, Reading<SiteStatus>>;
  service: Reading<ServiceStatus>;
  traffic: Reading<TrafficStatus>;
  vpn: Reading<VpnStatus>;
  data: Reading<DataStatus>;
}

export type PanelKey = 'aws' | 'onprem' | 'service' | 'traffic' | 'vpn' | 'data';
export const PANELS: readonly PanelKey[] = ['aws', 'onprem', 'service', 'traffic', 'vpn', 'data'];
