import { ActionError } from '../core/errors.ts';
import type { TalosCredentials } from './client/client.ts';
import { TalosConfiguredError, TalosForeignCaError, TalosUnreachableError } from './client/errors.ts';
import { type TalosNode, type TalosSite, connect, withClient } from './site.ts';
import { recordConfigured, refuseUnlessFirstUse } from './trust.ts';

/** What a node is, seen from here. */
export type NodeMode = 'maintenance' | 'configured' | 'unreachable';

export interface Probe {
  mode: NodeMode;
  version?: string;
}

/**
 * Finds out what a node is: configured with our CA (mutual TLS works), in maintenance mode
 * (server-only TLS works), or unreachable. A node configured by another CA is an error.
 */
export async function probeNode(site: TalosSite, node: TalosNode, creds: TalosCredentials | undefined, via?: string): Promise<Probe> {
  if (creds) {
    try {
      const [message] = await withClient(connect(node, creds, site.timeouts, { via, probe: true }), (c) => c.version());
      if (site.trustOnFirstUse) await recordConfigured(site, node.address);
      return { mode: 'configured', ...(message?.version?.tag ? { version: message.version.tag } : {}) };
    } catch (error) {
      if (error instanceof TalosUnreachableError) return { mode: 'unreachable' };
      if (!(error instanceof TalosForeignCaError)) throw error;
      // A maintenance-mode node's self-signed certificate also fails our CA: ask without one.
    }
  }
  try {
    const [message] = await withClient(connect(node, 'maintenance', site.timeouts, { via, probe: true }), (c) => c.version());
    // Maintenance mode proves nothing about the host: only one never configured (or reinstalled on purpose) is configured that way.
    await refuseUnlessFirstUse(site, node, creds ? "it now answers in maintenance mode, without this cluster's certificate" : "this cluster's Talos secrets are not here to verify it");
    return { mode: 'maintenance', ...(message?.version?.tag ? { version: message.version.tag } : {}) };
  } catch (error) {
    if (error instanceof TalosUnreachableError) return { mode: 'unreachable' };
    if (error instanceof TalosConfiguredError) throw configuredElsewhere(site, node, creds !== undefined);
    throw error;
  }
}

function configuredElsewhere(site: TalosSite, node: TalosNode, haveSecrets: boolean): ActionError {
  if (!haveSecrets) {
    return new ActionError(
      `Talos node ${node.address} is already configured, and hybridctl has no ${site.site} secrets bundle (${site.state.path('talos')}): ` +
        'it belongs to another cluster, or this cluster\'s secrets are lost',
      'if it is this cluster, restore the bundle (or point talos.secretsFiles at it): hybridctl never makes new secrets for configured nodes; ' +
        'otherwise reset the node to maintenance mode or take it out of the inventory',
    );
  }
  return new TalosForeignCaError(
    node.address,
    'is configured by another cluster (its certificate is not from this cluster\'s Talos CA)',
    'reset it to maintenance mode (talosctl reset with that cluster\'s talosconfig) or take it out of the inventory',
  );
}
