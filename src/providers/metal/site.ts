import type { HybridConfig } from '../../core/config/schema.ts';
import { defaultKubernetesVersion } from '../../core/config/talos-versions.ts';
import type { StateDir } from '../../core/state.ts';
import { type KubeOptions, kubeSite } from '../../kube/access.ts';
import type { KubeSite } from '../../kube/object-kind.ts';
import { machineConfig } from '../../talos/machine-config.ts';
import { finishedConfig, patchLoader } from '../../talos/patches.ts';
import { type ConfigExtension, type TalosNode, type TalosSite, type TalosTimeouts, kubeconfigFileName } from '../../talos/site.ts';

/** The on-prem site knows its nodes and their addresses up front, from the inventory. */
export interface OnpremSite extends TalosSite, KubeSite {
  site: 'onprem';
  nodes: TalosNode[];
  talosEndpoints: string[];
}

/** The id of an inventory node: its address, which is how the inventory names it. */
export function onpremNodeId(address: string): string {
  return `node-${address}`;
}

/** The on-prem site: physical hosts from `onprem.nodes`, configured over the Talos API. `reinstall`: hosts the user wiped on purpose. */
export function onpremSite(config: HybridConfig, state: StateDir, kube: KubeOptions = {}, extend?: ConfigExtension, reinstall: ReadonlySet<string> = new Set()): OnpremSite {
  const t = config.talos.timeouts;
  const timeouts: TalosTimeouts = { reachMs: t.reachSeconds * 1000, installMs: t.installSeconds * 1000, healthMs: t.healthSeconds * 1000, callMs: 15_000, probeMs: 5_000 };
  const endpoint = config.onprem.controlPlaneEndpoint;
  const endpointHost = new URL(endpoint).hostname;
  const kubernetesVersion = config.talos.kubernetesVersion ?? defaultKubernetesVersion(config.talos.version);
  const nodes: TalosNode[] = config.onprem.nodes.map((n) => ({
    id: onpremNodeId(n.address),
    address: n.address,
    role: n.role,
    ...(n.fingerprint ? { fingerprint: n.fingerprint } : {}),
  }));
  const patch = patchLoader();

  const site: OnpremSite = {
    ...kubeSite('onprem', config.metadata.name, state, kubeconfigFileName('onprem'), config.service.rolloutSeconds, kube),
    site: 'onprem',
    platform: 'metal',
    clusterName: `${config.metadata.name}-onprem`,
    state,
    ...(config.talos.secretsFiles.onprem ? { importSecretsFrom: config.talos.secretsFiles.onprem } : {}),
    nodes,
    talosEndpoints: nodes.filter((n) => n.role === 'controlplane').map((n) => n.address),
    timeouts,
    trustOnFirstUse: true,
    reinstall,
    async view() {
      return { nodes, endpoint };
    },
    async configFor(node, bundle) {
      const inventory = config.onprem.nodes.find((n) => n.address === node.address);
      const documents = machineConfig({
        bundle,
        clusterName: `${config.metadata.name}-onprem`,
        endpoint,
        role: node.role,
        platform: 'metal',
        talosVersion: config.talos.version,
        kubernetesVersion,
        podSubnet: config.kubernetes.onprem.podSubnet,
        serviceSubnet: config.kubernetes.onprem.serviceSubnet,
        certSANs: [...new Set([endpointHost, node.address])],
        ...(inventory?.installDisk ? { installDisk: inventory.installDisk } : {}),
        ...(inventory?.hostname ? { hostname: inventory.hostname } : {}),
      });
      const files = config.talos.patches.filter((p) => (p.site ?? 'onprem') === 'onprem' && (p.role ?? node.role) === node.role).map((p) => p.file);
      return finishedConfig(documents, node.role, files, patch, extend?.(site, node, bundle));
    },
  };
  return site;
}
