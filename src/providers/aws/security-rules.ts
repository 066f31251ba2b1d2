import type { HybridConfig } from '../../core/config/schema.ts';
import type { Val } from '../../core/engine/model.ts';
import type { IngressRule } from './kinds/security-group-rules.ts';

export const TALOS_API_PORT = 50000;
export const KUBE_API_PORT = 6443;

interface Groups {
  controlPlane: Val;
  workers: Val;
}

/** The API ports the load balancer forwards to the control planes, and what each is for. */
export const API_PORTS = [
  { port: TALOS_API_PORT, what: 'Talos API' },
  { port: KUBE_API_PORT, what: 'Kubernetes API' },
] as const;

/** A port the other site reaches over the VPN (the service's NodePort, say), from the on-prem network. */
export interface CrossSitePort {
  protocol: 'tcp' | 'udp';
  port: number;
  /** What it is for, shown in the plan and on the rule. */
  what: string;
}

/** A port of the nodes that a security group of a layer above reaches (Managed Grafana's, the Prometheus NodePort). */
export interface ReaderPort {
  /** The node that makes the group (output groupId). */
  groupNode: string;
  port: number;
  what: string;
}

/** The service's public entry on the load balancer: its listener port, and the NodePort it forwards to. */
export interface ServiceEntry {
  publicPort: number;
  nodePort: number;
}

/**
 * Who may reach the nodes. Cluster members trust each other fully (etcd, trustd, kubelet and
 * the pod network stay inside the cluster); the Talos and Kubernetes APIs on control planes are
 * open to the load balancer's security group only (admins come in through the load balancer,
 * whose group admits adminCidrs); workers accept from the on-prem network only the ports
 * cross-site traffic needs. Nothing else comes in from the internet, and nothing in a public
 * subnet reaches the control planes' APIs unless it is the load balancer or a cluster member.
 */
export function controlPlaneIngress(groups: Groups & { loadBalancer: Val }): IngressRule[] {
  return [
    ...memberRules(groups),
    ...API_PORTS.map(({ port, what }) => ({ protocol: 'tcp', fromPort: port, toPort: port, groupId: groups.loadBalancer, description: `${what} through the load balancer` })),
  ];
}

/** The load balancer admits the admins on the API ports, and everyone on the service's public port when it has one. */
export function loadBalancerIngress(config: HybridConfig, entry?: ServiceEntry): IngressRule[] {
  const admins = config.aws.adminCidrs.flatMap((cidr) => API_PORTS.map(({ port, what }) => ({ protocol: 'tcp', fromPort: port, toPort: port, cidr, description: `${what} from admins` })));
  const service = entry ? [{ protocol: 'tcp', fromPort: entry.publicPort, toPort: entry.publicPort, cidr: '0.0.0.0/0', description: 'the service, public' }] : [];
  return [...admins, ...service];
}

/**
 * Workers (and the VPN gateway, which carries the worker group too) take the service's NodePort
 * from the load balancer: its connections and health checks to AWS workers, and to on-prem
 * workers through the gateway.
 */
export function workerIngress(config: HybridConfig, groups: Groups & { loadBalancer: Val }, crossSite: readonly CrossSitePort[] = [], entry?: ServiceEntry): IngressRule[] {
  const fromOnprem = crossSite.map((p) => ({ protocol: p.protocol, fromPort: p.port, toPort: p.port, cidr: config.onprem.cidr, description: `${p.what} from on-prem, over the VPN` }));
  const fromBalancer = entry ? [{ protocol: 'tcp', fromPort: entry.nodePort, toPort: entry.nodePort, groupId: groups.loadBalancer, description: 'the service through the load balancer' }] : [];
  return [...memberRules(groups), ...fromOnprem, ...fromBalancer];
}

/** The VPN gateway accepts the VPN port from the on-prem site's public address, and nothing else from outside. */
export function vpnGatewayIngress(config: HybridConfig): IngressRule[] {
  return [{ protocol: 'udp', fromPort: config.vpn.port, toPort: config.vpn.port, cidr: `${config.onprem.publicEndpoint}/32`, description: 'site-to-site VPN from on-prem' }];
}

function memberRules(groups: Groups): IngressRule[] {
  return [
    { protocol: '-1', groupId: groups.controlPlane, description: 'cluster members: control planes' },
    { protocol: '-1', groupId: groups.workers, description: 'cluster members: workers' },
  ];
}

