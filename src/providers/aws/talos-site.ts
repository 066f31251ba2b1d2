import type { HybridConfig } from '../../core/config/schema.ts';
import { defaultKubernetesVersion } from '../../core/config/talos-versions.ts';
import type { StateDir } from '../../core/state.ts';
import { type KubeOptions, kubeSite } from '../../kube/access.ts';
import type { KubeSite } from '../../kube/object-kind.ts';
import { machineConfig } from '../../talos/machine-config.ts';
import { finishedConfig, patchLoader } from '../../talos/patches.ts';
import { type ConfigExtension, type SiteView, type TalosSite, kubeconfigFileName } from '../../talos/site.ts';
import { instanceKind } from './kinds/instance.ts';
import { loadBalancerKind } from './kinds/load-balancer.ts';
import type { AwsProvider } from './provider.ts';

/** The AWS site is all three: AWS resources, a Talos cluster reached through its load balancer, and that cluster's Kubernetes API. */
export interface AwsSite extends AwsProvider, TalosSite, KubeSite {
  site: 'aws';
}

export const LOAD_BALANCER_ID = 'nlb';

/** The Talos node of an instance: `controlplane-1` → `talos-controlplane-1`. */
export function talosNodeId(instanceId: string): string {
  return `talos-${instanceId}`;
}

export function kubernetesEndpoint(dnsName: string): string {
  return `https://${dnsName}:6443`;
}

export function awsSite(config: HybridConfig, provider: AwsProvider, state: StateDir, kube: KubeOptions = {}, extend?: ConfigExtension): AwsSite {
  const t = config.talos.timeouts;
  const kubernetesVersion = config.talos.kubernetesVersion ?? defaultKubernetesVersion(config.talos.version);
  const patch = patchLoader();
  const site: AwsSite = {
    ...provider,
    ...kubeSite('aws', config.metadata.name, state, kubeconfigFileName('aws'), config.service.rolloutSeconds, kube),
    site: 'aws',
    platform: 'cloud',
    clusterName: `${config.metadata.name}-aws`,
    state,
    ...(config.talos.secretsFiles.aws ? { importSecretsFrom: config.talos.secretsFiles.aws } : {}),
    // A new instance boots Talos from its image: give it as long as an on-prem install.
    timeouts: { reachMs: t.installSeconds * 1000, installMs: t.installSeconds * 1000, healthMs: t.healthSeconds * 1000, callMs: 15_000, probeMs: 5_000 },
    // An instance gets its config from EC2 user-data at boot, never over an unauthenticated Talos connection.
    trustOnFirstUse: false,

    /** Running instances by their private addresses, reached through the load balancer's Talos listener. */
    async view(ctx): Promise<SiteView> {
      const [instances, balancers] = await Promise.all([ctx.observe(instanceKind as never), ctx.observe(loadBalancerKind as never)]);
      const lb = (balancers as Awaited<ReturnType<typeof loadBalancerKind.observe>>).find((b) => b.id === LOAD_BALANCER_ID);
      if (!lb) return { nodes: [], endpoint: '' };
      const nodes = (instances as Awaited<ReturnType<typeof instanceKind.observe>>)
        .filter((i) => i.state.status === 'running' && i.state.privateIp)
        .map((i) => ({ id: talosNodeId(i.id), address: i.state.privateIp, role: i.state.role === 'controlplane' ? ('controlplane' as const) : ('worker' as const) }))
        .sort((a, b) => a.id.localeCompare(b.id, undefined, { numeric: true }));
      return { nodes, via: lb.state.dnsName, endpoint: kubernetesEndpoint(lb.state.dnsName) };
    },

    async configFor(node, bundle, endpoint) {
      const documents = machineConfig({
        bundle,
        clusterName: `${config.metadata.name}-aws`,
        endpoint,
        role: node.role,
        platform: 'cloud',
        talosVersion: config.talos.version,
        kubernetesVersion,
        podSubnet: config.kubernetes.aws.podSubnet,
        serviceSubnet: config.kubernetes.aws.serviceSubnet,
        certSANs: [new URL(endpoint).hostname],
      });
      const files = config.talos.patches.filter((p) => (p.site ?? 'aws') === 'aws' && (p.role ?? node.role) === node.role).map((p) => p.file);
      return finishedConfig(documents, node.role, files, patch, extend?.(site, node, bundle));
    },
  };
  return site;
}
