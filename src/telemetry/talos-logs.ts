import type { Patch } from '../talos/patches.ts';
import type { ConfigExtension } from '../talos/site.ts';
import { TALOS_LOG_NODE_PORT } from './shipper-manifests.ts';

/**
 * Every node sends Talos's own service logs (machined, kubelet, etcd, …) to the site's shipper:
 * JSON lines over TCP to the shipper's NodePort on the node's loopback, which kube-proxy forwards
 * wherever the shipper runs. Talos buffers and retries while nothing listens.
 */
export function talosLogsPatch(): Patch {
  return {
    source: 'hybridctl telemetry (Talos service logs to the shipper)',
    documents: [{ machine: { logging: { destinations: [{ endpoint: `tcp://127.0.0.1:${TALOS_LOG_NODE_PORT}/`, format: 'json_lines' }] } } }],
  };
}

/** A site's config extension with the logs patch added for every node. */
export function withTalosLogs(extension: ConfigExtension | undefined): ConfigExtension {
  return async (site, node, bundle) => [talosLogsPatch(), ...((await extension?.(site, node, bundle)) ?? [])];
}
