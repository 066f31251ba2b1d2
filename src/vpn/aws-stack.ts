import type { HybridConfig } from '../core/config/schema.ts';
import type { Node, Refs } from '../core/engine/model.ts';
import { associationIdFor, eipAssociationKind } from '../providers/aws/kinds/eip-association.ts';
import { elasticIpKind } from '../providers/aws/kinds/elastic-ip.ts';
import { instanceKind, nodeTags } from '../providers/aws/kinds/instance.ts';
import { targetsIdFor } from '../providers/aws/kinds/lb-targets.ts';
import { rulesIdFor, securityGroupRulesKind } from '../providers/aws/kinds/security-group-rules.ts';
import { securityGroupKind } from '../providers/aws/kinds/security-group.ts';
import { vpcRouteId, vpcRouteKind } from '../providers/aws/kinds/vpc-route.ts';
import { nameOf, tagsFor } from '../providers/aws/naming.ts';
import { layoutSubnets } from '../providers/aws/network-plan.ts';
import { balancerEndpoint, balancerName, launchConfig } from '../providers/aws/node-stack.ts';
import { vpnGatewayIngress } from '../providers/aws/security-rules.ts';
import type { NodeImages } from '../providers/aws/talos-image.ts';
import { type AwsSite, LOAD_BALANCER_ID, talosNodeId } from '../providers/aws/talos-site.ts';
import { talosNodeKind } from '../talos/kinds/node.ts';
import { SECRETS_ID } from '../talos/kinds/secrets.ts';
import { VPN_KEYS_ID, vpnKeysKind } from './kinds/keys.ts';
import type { VpnPlan } from './plan.ts';

export const GATEWAY_ID = 'vpn-gateway';
export const GATEWAY_EIP_ID = 'vpn-eip';
export const GATEWAY_SG_ID = 'sg-vpn-gateway';
/** The gateway's Talos node, as the AWS site's view names it. */
export const GATEWAY_TALOS_ID = talosNodeId(GATEWAY_ID);

/**
 * The AWS end of the VPN: a Talos instance in the first zone's public subnet with an Elastic IP,
 * routing for the site (source/destination check off), in its own security group that accepts
 * the VPN port from the on-prem public address only, and a cluster member (the worker group)
 * so that it joins the cluster and forwards to the workers. Every route table of the VPC sends
 * the on-prem network (and the tunnel's range) to its network interface.
 */
export function vpnAwsStack(config: HybridConfig, plan: VpnPlan, site: AwsSite, zones: readonly string[], images: NodeImages): Node<AwsSite>[] {
  const tags = (id: string) => tagsFor(site, id);
  const layout = layoutSubnets(config.aws.vpc.cidr, zones);
  const first = layout[0]?.letter ?? 'a';
  const gateway = config.vpn.awsGateway;
  const nodes: Node<AwsSite>[] = [];
  const add = <Spec>(id: string, kind: Node<AwsSite>['kind'], dependsOn: string[], spec: (refs: Refs) => Spec) => nodes.push({ id, kind, dependsOn, spec });

  add(VPN_KEYS_ID, vpnKeysKind, [], () => ({}));
  add(GATEWAY_SG_ID, securityGroupKind, ['vpc'], (refs) => ({
    vpcId: refs.get('vpc', 'vpcId'),
    groupName: nameOf(config.metadata.name, GATEWAY_SG_ID),
    description: `hybridctl ${config.metadata.name}: site-to-site VPN gateway`,
    tags: tags(GATEWAY_SG_ID),
  }));
  add(rulesIdFor(GATEWAY_SG_ID), securityGroupRulesKind, [GATEWAY_SG_ID], (refs) => ({ groupId: refs.get(GATEWAY_SG_ID, 'groupId'), rules: vpnGatewayIngress(config) }));
  add(GATEWAY_EIP_ID, elasticIpKind, [], () => ({ tags: tags(GATEWAY_EIP_ID) }));

  add(GATEWAY_ID, instanceKind, [`subnet-public-${first}`, GATEWAY_SG_ID, 'sg-workers', 'node-profile', 'kms-key', SECRETS_ID, LOAD_BALANCER_ID, VPN_KEYS_ID], (refs) => ({
    role: 'gateway',
    index: 1,
    zone: layout[0]?.zone ?? '',
    subnetId: refs.get(`subnet-public-${first}`, 'subnetId'),
    securityGroupIds: [refs.get(GATEWAY_SG_ID, 'groupId'), refs.get('sg-workers', 'groupId')],
    instanceProfileArn: refs.get('node-profile', 'arn'),
    amiId: images.gateway,
    instanceType: gateway.instanceType,
    diskGiB: gateway.diskGiB,
    kmsKeyArn: refs.get('kms-key', 'arn'),
    userData: launchConfig(site, GATEWAY_TALOS_ID, 'worker', balancerEndpoint(refs)),
    sourceDestCheck: false,
    tags: { ...tags(GATEWAY_ID), ...nodeTags('gateway', 1) },
  }));
  add(associationIdFor(GATEWAY_EIP_ID), eipAssociationKind, [GATEWAY_EIP_ID, GATEWAY_ID], (refs) => ({
    allocationId: refs.get(GATEWAY_EIP_ID, 'allocationId'),
    instanceId: refs.get(GATEWAY_ID, 'instanceId'),
    publicIp: refs.get(GATEWAY_EIP_ID, 'publicIp'),
    privateIp: refs.get(GATEWAY_ID, 'privateIp'),
  }));
  add(GATEWAY_TALOS_ID, talosNodeKind, [GATEWAY_ID, SECRETS_ID, 'listener-talos', targetsIdFor('tg-talos'), VPN_KEYS_ID], (refs) => ({
    address: refs.get(GATEWAY_ID, 'privateIp'),
    role: 'worker',
    clusterId: refs.get(SECRETS_ID, 'clusterId'),
    endpoint: balancerEndpoint(refs),
    via: balancerName(refs),
  }));

  const tables = ['routes-public', ...layout.map((z) => `routes-private-${z.letter}`)];
  for (const table of tables) {
    for (const destination of plan.viaAwsGateway) {
      add(vpcRouteId(table, destination), vpcRouteKind, [table, GATEWAY_ID], (refs) => ({
        routeTableId: refs.get(table, 'routeTableId'),
        destination,
        networkInterfaceId: refs.get(GATEWAY_ID, 'networkInterfaceId'),
      }));
    }
  }
  return nodes;
}
