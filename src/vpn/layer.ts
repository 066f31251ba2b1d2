import type { HybridConfig } from '../core/config/schema.ts';
import type { Node } from '../core/engine/model.ts';
import type { StateDir } from '../core/state.ts';
import type { AwsProvider } from '../providers/aws/provider.ts';
import type { CrossSitePort } from '../providers/aws/security-rules.ts';
import type { NodeImages } from '../providers/aws/talos-image.ts';
import type { AwsSite } from '../providers/aws/talos-site.ts';
import { onpremNodeId } from '../providers/metal/site.ts';
import type { ConfigExtension } from '../talos/site.ts';
import { type AwsPeer, awsPeer } from './aws-peer.ts';
import { GATEWAY_EIP_ID, GATEWAY_ID, GATEWAY_SG_ID, GATEWAY_TALOS_ID, vpnAwsStack } from './aws-stack.ts';
import { awsGatewayPatch, onpremGatewayPatch, routedNodePatch } from './documents.ts';
import { readAllGatewayKeys } from './key-store.ts';
import { AWS_GATEWAY_ID, awsGatewayKind } from './kinds/aws-gateway.ts';
import { VPN_KEYS_ID, vpnKeysKind } from './kinds/keys.ts';
import { nodeNetwork } from './node-network.ts';
import { type VpnPlan, routerRoutes, vpnPlan } from './plan.ts';

/** What the VPN adds to each site, for pipeline.ts to compose. */
export interface VpnLayer {
  plan: VpnPlan;
  /** Where the AWS gateway is, for the on-prem side. */
  peer: AwsPeer;
  /** What the AWS workers accept from the on-prem network. */
  crossSite: CrossSitePort[];
  /** The AWS gateway's WireGuard link. */
  awsExtension: ConfigExtension;
  /** The on-prem gateway's WireGuard link; the other nodes' route to the VPC. */
  onpremExtension: ConfigExtension;
  awsNodes(site: AwsSite, zones: readonly string[], images: NodeImages): Node<AwsSite>[];
  /** The on-prem nodes, and the extra dependencies of the on-prem gateway's own node. */
  onpremNodes(options: { awsInRun: boolean }): { nodes: Node<unknown>[]; gateway: { id: string; dependsOn: string[] } };
  notes(): Promise<{ aws: string[]; onprem: string[] }>;
}

export interface VpnLayerOptions {
  /** AWS, when it can be asked in this run (the on-prem gateway dials the AWS gateway's address). */
  aws?: AwsProvider;
  /** `talos gen`: a node that cannot be asked for its links gets no VPN documents, and a note says so. */
  onUnreadableLink?: (address: string, error: unknown) => void;
}

/** The VPN between the sites, or undefined when the config turns it off. */
export function vpnLayer(config: HybridConfig, state: StateDir, options: VpnLayerOptions = {}): VpnLayer | undefined {
  const plan = vpnPlan(config);
  if (!plan) return undefined;
  const peer = awsPeer(options.aws, state, GATEWAY_EIP_ID);

  const awsExtension: ConfigExtension = async (_site, node) => {
    const keys = await readAllGatewayKeys(state);
    if (node.id !== GATEWAY_TALOS_ID || !keys) return [];
    return [awsGatewayPatch(plan, { privateKey: keys.aws.privateKey, peerPublicKey: keys.onprem.publicKey })];
  };

  const onpremExtension: ConfigExtension = async (site, node, bundle) => {
    let network;
    try {
      network = await nodeNetwork(site, node, bundle);
    } catch (error) {
      if (!options.onUnreadableLink) throw error;
      options.onUnreadableLink(node.address, error);
      return [];
    }
    if (node.address !== plan.onpremGateway) return [routedNodePatch(plan, network)];
    const keys = await readAllGatewayKeys(state);
    if (!keys) return [];
    const aws = await peer.read();
    return [onpremGatewayPatch(plan, { privateKey: keys.onprem.privateKey, peerPublicKey: keys.aws.publicKey }, aws?.publicIp, network)];
  };

  return {
    plan,
    peer,
    crossSite: [{ protocol: 'tcp', port: config.service.nodePort, what: 'the readings service NodePort' }],
    awsExtension,
    onpremExtension,
    awsNodes: (site, zones, images) => vpnAwsStack(config, plan, site, zones, images),
    onpremNodes: ({ awsInRun }) => ({
      nodes: [
        { id: VPN_KEYS_ID, kind: vpnKeysKind, dependsOn: [], spec: () => ({}) },
        { id: AWS_GATEWAY_ID, kind: awsGatewayKind(peer, { awsInRun, timeoutMs: config.talos.timeouts.installSeconds * 1000 }), dependsOn: [], spec: () => ({}) },
      ] as Node<unknown>[],
      gateway: { id: onpremNodeId(plan.onpremGateway), dependsOn: [VPN_KEYS_ID, AWS_GATEWAY_ID] },
    }),
    async notes() {
      const keys = await readAllGatewayKeys(state);
      const shown = keys ? [`VPN gateway public keys: aws ${keys.aws.publicKey}, on-prem ${keys.onprem.publicKey}`] : [];
      return {
        aws: shown,
        onprem: [...shown, `hosts on ${plan.onpremCidr} that are not Talos nodes reach the VPC once the on-prem router has the routes ${routerRoutes(plan).join(' and ')}`],
      };
    },
  };
}

const VPN_KINDS = new Set(['wireguard-keys', 'vpn-peer', 'vpc-route', 'eip-association']);
const VPN_IDS = new Set([GATEWAY_ID, GATEWAY_EIP_ID, GATEWAY_SG_ID, `${GATEWAY_SG_ID}-ingress`, GATEWAY_TALOS_ID]);

/** A change that may alter what crosses the tunnel: `up` then proves traffic still crosses. On-prem, any node's config may carry the tunnel or its route. */
export function touchesVpn(change: { site: string; kind: string; id: string }): boolean {
  return VPN_KINDS.has(change.kind) || VPN_IDS.has(change.id) || (change.site === 'onprem' && change.kind === 'talos-node');
}
