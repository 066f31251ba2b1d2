import type { ConfigDocument } from '../talos/machine-config.ts';
import type { Patch } from '../talos/patches.ts';
import { KEEPALIVE_SECONDS, LINK_NAME, TUNNEL_MTU, type TunnelEnd, type VpnPlan } from './plan.ts';

/** Marks the gateways as Kubernetes nodes: `aws` or `onprem`. */
export const GATEWAY_LABEL = 'hybridctl.dev/vpn-gateway';
/** Keeps workloads off the AWS gateway: it forwards the site's traffic and nothing else. */
export const GATEWAY_TAINT = 'hybridctl.dev/vpn-gateway';

/**
 * Talos runs DHCP on its own only while a config has no network document at all: the tunnel or a
 * route would end it (machinery's Container.RunDefaultDHCPOperators), so every link that has
 * its address from DHCP asks for DHCP explicitly. AWS images boot with `net.ifnames=0`: their
 * one link is eth0.
 */
const AWS_PRIMARY_LINK = 'eth0';

/** A gateway's own private key and its peer's public key. */
export interface GatewayKeys {
  privateKey: string;
  peerPublicKey: string;
}

/**
 * The AWS gateway: a worker that takes no workloads, with the tunnel link. Its peer has no
 * endpoint: it learns the on-prem address from the on-prem side's handshake.
 */
export function awsGatewayPatch(plan: VpnPlan, keys: GatewayKeys): Patch {
  return {
    source: 'hybridctl VPN (AWS gateway)',
    documents: [
      {
        machine: {
          nodeTaints: { [GATEWAY_TAINT]: 'true:NoSchedule' },
          nodeLabels: { [GATEWAY_LABEL]: 'aws', 'node.kubernetes.io/exclude-from-external-load-balancers': '' },
        },
      },
      wireguardConfig(plan.aws, plan.port, keys),
      dhcp(AWS_PRIMARY_LINK),
    ],
  };
}

/**
 * The on-prem gateway dials the AWS gateway's Elastic IP and keeps the path open with
 * keepalives, so the on-prem edge needs no inbound port forward. Without a known endpoint (the
 * AWS side does not exist yet) it waits for the AWS side to call, which it never will.
 */
export function onpremGatewayPatch(plan: VpnPlan, keys: GatewayKeys, awsPublicIp: string | undefined, network: NodeNetwork): Patch {
  return {
    source: 'hybridctl VPN (on-prem gateway)',
    documents: [
      { machine: { nodeLabels: { [GATEWAY_LABEL]: 'onprem' } } },
      wireguardConfig(plan.onprem, plan.port, keys, awsPublicIp ? { endpoint: `${awsPublicIp}:${plan.port}`, keepaliveSeconds: KEEPALIVE_SECONDS } : undefined),
      ...network.dhcpLinks.map(dhcp),
    ],
  };
}

/** An on-prem node's links as Talos reports them. */
export interface NodeNetwork {
  /** The link that carries the node's inventory address. */
  link: string;
  /** Every link whose address came from DHCP: they keep DHCP once the node has a network document. */
  dhcpLinks: string[];
}

/** Another on-prem node reaches the VPC through the on-prem gateway, on the link that carries its address. */
export function routedNodePatch(plan: VpnPlan, network: NodeNetwork): Patch {
  return {
    source: 'hybridctl VPN (route to the VPC)',
    documents: [
      { apiVersion: 'v1alpha1', kind: 'LinkConfig', name: network.link, routes: plan.viaOnpremGateway.map((destination) => ({ destination, gateway: plan.onpremGateway })) },
      ...network.dhcpLinks.map(dhcp),
    ],
  };
}

function dhcp(link: string): ConfigDocument {
  return { apiVersion: 'v1alpha1', kind: 'DHCPv4Config', name: link };
}

function wireguardConfig(end: TunnelEnd, port: number, keys: GatewayKeys, dial?: { endpoint: string; keepaliveSeconds: number }): ConfigDocument {
  return {
    apiVersion: 'v1alpha1',
    kind: 'WireguardConfig',
    name: LINK_NAME,
    privateKey: keys.privateKey,
    listenPort: port,
    peers: [
      {
        publicKey: keys.peerPublicKey,
        ...(dial ? { endpoint: dial.endpoint, persistentKeepaliveInterval: `${dial.keepaliveSeconds}s` } : {}),
        allowedIPs: end.allowedIps,
      },
    ],
    mtu: TUNNEL_MTU,
    addresses: [{ address: end.address }],
    routes: end.routes.map((destination) => ({ destination })),
  };
}
