import type { HybridConfig } from '../core/config/schema.ts';
import type { ServiceEntry } from '../providers/aws/security-rules.ts';

/**
 * The service's public entry, or undefined when `up` builds none: traffic off, no service, or no
 * VPN (the load balancer reaches on-prem workers through it).
 */
export function serviceEntry(config: HybridConfig): ServiceEntry | undefined {
  if (!config.traffic.enabled || !config.service.enabled || !config.vpn.enabled) return undefined;
  return { publicPort: config.traffic.port, nodePort: config.service.nodePort };
}

/** Why there is no entry, for the plan's notes. */
export function noEntryReason(config: HybridConfig): string | undefined {
  // Only the VPN can be missing when the entry is asked for and there is a service to enter.
  if (serviceEntry(config) || !config.traffic.enabled || !config.service.enabled) return undefined;
  return 'no public entry for the service (traffic): it needs the VPN, which vpn.enabled turns off';
}

/** The on-prem workers: the load balancer's IP targets over the VPN. */
export function onpremWorkers(config: HybridConfig): string[] {
  return config.onprem.nodes.filter((n) => n.role === 'worker').map((n) => n.address);
}
