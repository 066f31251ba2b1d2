import { ActionError } from '../core/errors.ts';
import { adminCredentials } from '../talos/credentials.ts';
import { probeNode } from '../talos/probe.ts';
import type { SecretsBundle } from '../talos/secrets.ts';
import { type TalosNode, type TalosSite, connect, withClient } from '../talos/site.ts';
import type { NodeNetwork } from './documents.ts';

interface AddressSpec {
  address?: string;
  linkName?: string;
  layer?: string;
}

/**
 * The link that carries a node's address, and the links DHCP addressed, as Talos reports them
 * (`talosctl get addressspecs`): the merged address specs name the link and the layer each
 * address came from (`operator` is DHCP).
 */
export async function nodeNetwork(site: TalosSite, node: Pick<TalosNode, 'address' | 'fingerprint'>, bundle: SecretsBundle): Promise<NodeNetwork> {
  const creds = await adminCredentials(bundle);
  const probe = await probeNode(site, { id: node.address, role: 'worker', ...node }, creds);
  if (probe.mode === 'unreachable') throw new ActionError(`Talos node ${node.address}: does not answer, so hybridctl cannot tell which of its links carries ${node.address}`, 'is it running?');
  const specs = await withClient(connect(node, probe.mode === 'configured' ? creds : 'maintenance', site.timeouts), (c) =>
    c.resources<AddressSpec>('network', 'AddressSpecs.net.talos.dev'),
  );
  const own = specs.find((s) => s.spec.address?.split('/')[0] === node.address && s.spec.linkName);
  if (!own?.spec.linkName) {
    throw new ActionError(
      `Talos node ${node.address}: none of its links carries ${node.address} (links with addresses: ${specs.map((s) => `${s.spec.linkName} ${s.spec.address}`).join(', ') || 'none'})`,
      'the inventory address must be the node\'s own address on the on-prem network',
    );
  }
  const dhcpLinks = [...new Set(specs.filter((s) => s.spec.layer === 'operator' && s.spec.linkName).map((s) => s.spec.linkName as string))].sort();
  return { link: own.spec.linkName, dhcpLinks };
}
