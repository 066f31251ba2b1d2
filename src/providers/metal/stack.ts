import type { HybridConfig } from '../../core/config/schema.ts';
import type { Node, Refs } from '../../core/engine/model.ts';
import { BOOTSTRAP_ID, etcdBootstrapKind } from '../../talos/kinds/bootstrap.ts';
import { KUBECONFIG_ID, kubeconfigKind } from '../../talos/kinds/kubeconfig.ts';
import { talosNodeKind } from '../../talos/kinds/node.ts';
import { SECRETS_ID, talosSecretsKind } from '../../talos/kinds/secrets.ts';
import { TALOSCONFIG_ID, talosconfigKind } from '../../talos/kinds/talosconfig.ts';
import type { TalosSite } from '../../talos/site.ts';
import type { OnpremSite } from './site.ts';

/**
 * The on-prem site's steps as engine nodes: secrets, then each host configured, then etcd
 * bootstrapped once, then the kubeconfig; `down` walks it back (resetting the hosts).
 */
export function onpremStack(config: HybridConfig, site: OnpremSite): Node<TalosSite>[] {
  const controlPlanes = site.nodes.filter((n) => n.role === 'controlplane');
  const first = controlPlanes[0]?.address ?? '';
  const endpoint = config.onprem.controlPlaneEndpoint;
  const members = controlPlanes.map((n) => n.address);
  const clusterId = (refs: Refs) => refs.get(SECRETS_ID, 'clusterId');
  return [
    { id: SECRETS_ID, kind: talosSecretsKind, dependsOn: [], spec: () => ({ importFrom: site.importSecretsFrom }) },
    {
      id: TALOSCONFIG_ID,
      kind: talosconfigKind,
      dependsOn: [SECRETS_ID],
      spec: (refs) => ({ clusterId: clusterId(refs), endpoints: site.talosEndpoints, nodes: site.nodes.map((n) => n.address) }),
    },
    ...site.nodes.map((node) => ({
      id: node.id,
      kind: talosNodeKind,
      dependsOn: [SECRETS_ID],
      spec: (refs: Refs) => ({
        address: node.address,
        role: node.role,
        clusterId: clusterId(refs),
        endpoint,
        via: undefined,
        ...(node.fingerprint ? { fingerprint: node.fingerprint } : {}),
      }),
    })),
    { id: BOOTSTRAP_ID, kind: etcdBootstrapKind, dependsOn: controlPlanes.map((n) => n.id), spec: () => ({ node: first, controlPlanes: members, via: undefined }) },
    {
      id: KUBECONFIG_ID,
      kind: kubeconfigKind,
      dependsOn: [BOOTSTRAP_ID, ...site.nodes.map((n) => n.id)],
      spec: () => ({ node: first, controlPlanes: members, endpoint, via: undefined }),
    },
  ] as Node<TalosSite>[];
}
