import type { HybridConfig } from '../../core/config/schema.ts';
import { type Node, type Refs, type Val, isUnknown } from '../../core/engine/model.ts';
import { BOOTSTRAP_ID, etcdBootstrapKind } from '../../talos/kinds/bootstrap.ts';
import { KUBECONFIG_ID, kubeconfigKind } from '../../talos/kinds/kubeconfig.ts';
import { talosNodeKind } from '../../talos/kinds/node.ts';
import { SECRETS_ID, readSiteBundle, talosSecretsKind } from '../../talos/kinds/secrets.ts';
import { TALOSCONFIG_ID, talosconfigKind } from '../../talos/kinds/talosconfig.ts';
import type { Role } from '../../talos/machine-config.ts';
import { instanceKind, nodeTags } from './kinds/instance.ts';
import { lbTargetsKind, targetsIdFor } from './kinds/lb-targets.ts';
import { listenerKind } from './kinds/listener.ts';
import { loadBalancerKind, loadBalancerName } from './kinds/load-balancer.ts';
import { targetGroupKind } from './kinds/target-group.ts';
import { NLB_SG_ID } from './base-stack.ts';
import { nameOf, tagsFor } from './naming.ts';
import { layoutSubnets } from './network-plan.ts';
import { KUBE_API_PORT, TALOS_API_PORT } from './security-rules.ts';
import type { NodeImages } from './talos-image.ts';
import { type AwsSite, LOAD_BALANCER_ID, kubernetesEndpoint, talosNodeId } from './talos-site.ts';

type SiteNode = Node<AwsSite>;

const LISTENERS = [
  { id: 'kubernetes', port: KUBE_API_PORT },
  { id: 'talos', port: TALOS_API_PORT },
] as const;

/** The load balancer's DNS name, through which Talos calls reach the nodes. */
export function balancerName(refs: Refs): Val {
  return refs.get(LOAD_BALANCER_ID, 'dnsName');
}

/** The Kubernetes API endpoint: the load balancer. */
export function balancerEndpoint(refs: Refs): Val {
  const name = balancerName(refs);
  return isUnknown(name) ? name : kubernetesEndpoint(name);
}

/** An instance's user-data: its machine config, made at launch from the site's bundle and the endpoint. */
export function launchConfig(site: AwsSite, talosId: string, role: Role, endpoint: Val): () => Promise<string> {
  return async () => {
    const bundle = (await readSiteBundle(site))?.bundle;
    if (!bundle) throw new Error('the aws secrets bundle is missing');
    return site.configFor({ id: talosId, address: '', role }, bundle, endpoint as string);
  };
}

/** `controlplane-1`, `worker-3`: a node's logical id, its role and index. */
export function instanceId(role: Role, index: number): string {
  return `${role}-${index}`;
}

/**
 * The Talos cluster on EC2: a load balancer for the Kubernetes and Talos APIs, the instances
 * spread across the zones, each node configured, etcd bootstrapped once, the access files.
 * Nodes are numbered; lowering a count removes the highest numbers.
 */
export function nodeStack(config: HybridConfig, site: AwsSite, zones: readonly string[], images: NodeImages): SiteNode[] {
  const tags = (id: string) => tagsFor(site, id);
  const layout = layoutSubnets(config.aws.vpc.cidr, zones);
  const sortedZones = layout.map((z) => z.letter);
  const nodes: SiteNode[] = [];
  const add = <Spec>(id: string, kind: SiteNode['kind'], dependsOn: string[], spec: (refs: Refs) => Spec) => nodes.push({ id, kind, dependsOn, spec });

  // The load balancer, in its group from the base layer (open to admins only).
  add(LOAD_BALANCER_ID, loadBalancerKind, [NLB_SG_ID, ...layout.map((z) => `subnet-public-${z.letter}`)], (refs) => ({
    name: loadBalancerName(config.metadata.name),
    subnetIds: layout.map((z) => refs.get(`subnet-public-${z.letter}`, 'subnetId')),
    securityGroupIds: [refs.get(NLB_SG_ID, 'groupId')],
    tags: tags(LOAD_BALANCER_ID),
  }));
  for (const l of LISTENERS) {
    add(`tg-${l.id}`, targetGroupKind, ['vpc'], (refs) => ({ name: nameOf(config.metadata.name, l.id), port: l.port, vpcId: refs.get('vpc', 'vpcId'), tags: tags(`tg-${l.id}`) }));
    add(`listener-${l.id}`, listenerKind, [LOAD_BALANCER_ID, `tg-${l.id}`], (refs) => ({
      loadBalancerArn: refs.get(LOAD_BALANCER_ID, 'arn'),
      port: l.port,
      targetGroupArn: refs.get(`tg-${l.id}`, 'arn'),
      tags: tags(`listener-${l.id}`),
    }));
  }

  // Secrets first: the instances carry machine configs made from them.
  add(SECRETS_ID, talosSecretsKind, [], () => ({ importFrom: site.importSecretsFrom }));

  const roles = [
    { role: 'controlplane' as const, group: config.aws.controlPlane, sg: 'sg-controlplane', ami: images.controlplane },
    { role: 'worker' as const, group: config.aws.workers, sg: 'sg-workers', ami: images.worker },
  ];
  const ids: Record<Role, string[]> = { controlplane: [], worker: [] };
  for (const { role, group, sg, ami } of roles) {
    for (let index = 1; index <= group.count; index++) {
      const id = instanceId(role, index);
      const letter = sortedZones[(index - 1) % sortedZones.length] ?? 'a';
      const zone = layout.find((z) => z.letter === letter)?.zone ?? '';
      ids[role].push(id);
      add(id, instanceKind, [`subnet-private-${letter}`, sg, 'node-profile', 'kms-key', SECRETS_ID, LOAD_BALANCER_ID], (refs) => ({
          role,
          index,
          zone,
          subnetId: refs.get(`subnet-private-${letter}`, 'subnetId'),
          securityGroupIds: [refs.get(sg, 'groupId')],
          instanceProfileArn: refs.get('node-profile', 'arn'),
          amiId: ami,
          instanceType: group.instanceType,
          diskGiB: group.diskGiB,
          kmsKeyArn: refs.get('kms-key', 'arn'),
          userData: launchConfig(site, talosNodeId(id), role, balancerEndpoint(refs)),
          tags: { ...tags(id), ...nodeTags(role, index) },
      }));
      add(talosNodeId(id), talosNodeKind, [id, SECRETS_ID, 'listener-talos', targetsIdFor('tg-talos')], (refs) => ({
        address: refs.get(id, 'privateIp'),
        role,
        clusterId: refs.get(SECRETS_ID, 'clusterId'),
        endpoint: balancerEndpoint(refs),
        via: balancerName(refs),
      }));
    }
  }

  for (const l of LISTENERS) {
    add(targetsIdFor(`tg-${l.id}`), lbTargetsKind, [`tg-${l.id}`, ...ids.controlplane], (refs) => ({
      targetGroupArn: refs.get(`tg-${l.id}`, 'arn'),
      targets: ids.controlplane.map((id) => ({ id: refs.get(id, 'instanceId') })),
    }));
  }

  const controlPlaneNodes = ids.controlplane.map(talosNodeId);
  const allNodes = [...controlPlaneNodes, ...ids.worker.map(talosNodeId)];
  const first = ids.controlplane[0] ?? '';
  const addresses = (refs: Refs, list: string[]) => list.map((id) => refs.get(id, 'privateIp'));
  add(TALOSCONFIG_ID, talosconfigKind, [SECRETS_ID, LOAD_BALANCER_ID, ...ids.controlplane, ...ids.worker], (refs) => ({
    clusterId: refs.get(SECRETS_ID, 'clusterId'),
    endpoints: [balancerName(refs)],
    nodes: addresses(refs, [...ids.controlplane, ...ids.worker]),
  }));
  add(BOOTSTRAP_ID, etcdBootstrapKind, controlPlaneNodes, (refs) => ({
    node: refs.get(first, 'privateIp'),
    controlPlanes: addresses(refs, ids.controlplane),
    via: balancerName(refs),
  }));
  add(KUBECONFIG_ID, kubeconfigKind, [BOOTSTRAP_ID, ...allNodes], (refs) => ({
    node: refs.get(first, 'privateIp'),
    controlPlanes: addresses(refs, ids.controlplane),
    endpoint: balancerEndpoint(refs),
    via: balancerName(refs),
  }));
  return nodes;
}
