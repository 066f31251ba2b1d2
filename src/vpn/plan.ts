import type { HybridConfig } from '../core/config/schema.ts';
import { hostAt, prefixLength } from '../core/net/cidr.ts';

/** The Talos link name of the tunnel on both gateways. */
export const LINK_NAME = 'wg-hybrid';
/** WireGuard's own default: 1500 less the outer IPv4, UDP and WireGuard headers. */
export const TUNNEL_MTU = 1420;
/** How often the on-prem side sends a keepalive: it keeps the on-prem NAT open and the AWS side's learned endpoint fresh. */
export const KEEPALIVE_SECONDS = 25;
/**
 * WireGuard's own session lifetime: a peer whose latest handshake is older than this has no
 * usable session (REJECT_AFTER_TIME), so the tunnel carries nothing until the next handshake.
 */
export const SESSION_SECONDS = 180;

/** One end of the tunnel. */
export interface TunnelEnd {
  /** Its address on the tunnel, with the tunnel's prefix (10.255.255.253/30). */
  address: string;
  /** What it accepts from its peer and routes into the tunnel: the other site's network and the peer's tunnel address. */
  allowedIps: string[];
  /** Routes through the tunnel: the other site's network. */
  routes: string[];
}

/** Everything both gateways must agree on, from the config alone. */
export interface VpnPlan {
  port: number;
  vpcCidr: string;
  onpremCidr: string;
  /** The on-prem node that runs the VPN; the other on-prem nodes reach the VPC through it. */
  onpremGateway: string;
  /** The on-prem site's public address: the only source the AWS gateway accepts the VPN port from. */
  onpremPublicAddress: string;
  tunnelCidr: string;
  /** What the VPC routes to the AWS gateway, and the other on-prem nodes to the on-prem gateway: the other site, and the tunnel (a gateway's own traffic comes from its tunnel address). */
  viaAwsGateway: string[];
  viaOnpremGateway: string[];
  aws: TunnelEnd;
  onprem: TunnelEnd;
}

/** The VPN's addressing, or undefined when the config turns the VPN off. */
export function vpnPlan(config: HybridConfig): VpnPlan | undefined {
  const vpn = config.vpn;
  if (!vpn.enabled || !vpn.onpremGateway) return undefined;
  const prefix = prefixLength(vpn.tunnelCidr);
  const awsAddress = hostAt(vpn.tunnelCidr, 1);
  const onpremAddress = hostAt(vpn.tunnelCidr, 2);
  return {
    port: vpn.port,
    vpcCidr: config.aws.vpc.cidr,
    onpremCidr: config.onprem.cidr,
    onpremGateway: vpn.onpremGateway,
    onpremPublicAddress: config.onprem.publicEndpoint,
    tunnelCidr: vpn.tunnelCidr,
    viaAwsGateway: [config.onprem.cidr, vpn.tunnelCidr],
    viaOnpremGateway: [config.aws.vpc.cidr, vpn.tunnelCidr],
    aws: { address: `${awsAddress}/${prefix}`, allowedIps: [config.onprem.cidr, `${onpremAddress}/32`], routes: [config.onprem.cidr] },
    onprem: { address: `${onpremAddress}/${prefix}`, allowedIps: [config.aws.vpc.cidr, `${awsAddress}/32`], routes: [config.aws.vpc.cidr] },
  };
}

/** The routes a router on the on-prem LAN needs so that hosts that are not Talos nodes reach the VPC. */
export function routerRoutes(plan: VpnPlan): string[] {
  return plan.viaOnpremGateway.map((cidr) => `${cidr} via ${plan.onpremGateway}`);
}
