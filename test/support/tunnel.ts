import type { ConfigDocument } from '../../src/talos/machine-config.ts';
import { awsGatewayPatch, onpremGatewayPatch } from '../../src/vpn/documents.ts';
import { generateKeyPair } from '../../src/vpn/keys.ts';
import type { VpnPlan } from '../../src/vpn/plan.ts';
import type { Netns } from './netns.ts';
import { bringUp } from './wireguard.ts';

/** The AWS gateway's Elastic IP and the on-prem edge's public address, on the veth that stands for the internet. */
export const EIP = '3.120.15.9';
export const ONPREM_PUBLIC = '198.51.100.7';
export const ONPREM_NODE = '192.168.10.21';

/**
 * The two gateways as hybridctl renders them, in namespaces of `net` joined by a veth that stands
 * for the internet, each brought up with exactly its WireguardConfig document (wireguard-go and
 * wg). `wrongPeerKey` gives the on-prem side a key the AWS side does not have.
 */
export async function renderedTunnel(net: Netns, plan: VpnPlan, options: { wrongPeerKey?: boolean } = {}) {
  const aws = await net.add('aws');
  const onprem = await net.add('onprem');
  await net.link({ ns: aws, address: EIP, peer: ONPREM_PUBLIC }, { ns: onprem, address: ONPREM_PUBLIC, peer: EIP });
  await net.run(onprem, 'ip', ['addr', 'add', `${ONPREM_NODE}/24`, 'dev', 'lo']);
  const keys = { aws: generateKeyPair(), onprem: generateKeyPair() };
  const awsDoc = awsGatewayPatch(plan, { privateKey: keys.aws.privateKey, peerPublicKey: keys.onprem.publicKey }).documents[1] as ConfigDocument;
  const peerKey = options.wrongPeerKey ? generateKeyPair().publicKey : keys.aws.publicKey;
  const onpremDoc = onpremGatewayPatch(plan, { privateKey: keys.onprem.privateKey, peerPublicKey: peerKey }, EIP, { link: 'eth0', dhcpLinks: [] }).documents[1] as ConfigDocument;
  const names = { aws: `${net.prefix}-wa`, onprem: `${net.prefix}-wo` };
  const started = performance.now();
  await Promise.all([bringUp(net, aws, names.aws, awsDoc), bringUp(net, onprem, names.onprem, onpremDoc)]);
  return { aws, onprem, names, keys, started };
}
