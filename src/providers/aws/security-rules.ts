import type { HybridConfig } from '../../core/config/schema.ts';
import type { Val } from '../../core/engine/model.ts';
import type { IngressRule } from './kinds/security-group-rules.ts';

export const TALOS_API_PORT = 50000;
export const KUBE_API_PORT = 6443;

interface Groups {
  controlPlane: Val;
  workers: Val;
}

/** A port the other site reaches over the VPN (the service's NodePort, say), from the on-prem network. */
export interface CrossSitePort {
  protocol: 'tcp' | 'udp';
  port: number;
  /** What it is for, shown in the plan and on the rule. */
  what: string;
}

/**
 * Who may reach the nodes. Cluster members trust each other fully (etcd, trustd, kubelet and
 * the pod network stay inside the cluster); the Talos and Kubernetes APIs on control planes are
 * open to adminCidrs and to the load balancer's subnets; workers accept from the on-prem network
 * only the ports cross-site traffic needs. Nothing else comes in from the internet.
 */
export function controlPlaneIngress(config: HybridConfig, groups: Groups, loadBalancerCidrs: readonly string[]): IngressRule[] {
  const apiSources = [
    ...config.aws.adminCidrs.map((cidr) => ({ cidr, who: 'admins' })),
    ...loadBalancerCidrs.map((cidr) => ({ cidr, who: 'load balancer subnet' })),
  ];
  return [
    ...memberRules(groups),
    ...apiSources.flatMap(({ cidr, who }) => [
      { protocol: 'tcp', fromPort: TALOS_API_PORT, toPort: TALOS_API_PORT, cidr, description: `Talos API from ${who}` },
      { protocol: 'tcp', fromPort: KUBE_API_PORT, toPort: KUBE_API_PORT, cidr, description: `Kubernetes API from ${who}` },
    ]),
  ];
}

export function workerIngress(config: HybridConfig, groups: Groups, crossSite: readonly CrossSitePort[] = []): IngressRule[] {
  const fromOnprem = crossSite.map((p) => ({ protocol: p.protocol, fromPort: p.port, toPort: p.port, cidr: config.onprem.cidr, description: `${p.what} from on-prem, over the VPN` }));
  return [...memberRules(groups), ...fromOnprem];
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

