import type { SiteName } from '../core/config/schema.ts';
import { ActionError } from '../core/errors.ts';
import type { StateDir } from '../core/state.ts';
import type { TalosNode, TalosSite } from './site.ts';

/**
 * Trust on first use for physical hosts. A host in maintenance mode cannot prove who it is (its
 * certificate is self-signed), so the first configuration, CA keys included, goes to whatever
 * answers on its address. Once hybridctl has configured a host it is recorded here, and from then
 * on only mutual TLS with the cluster's CA will do: a recorded host that answers any other way
 * (wiped, or another machine on its address) gets nothing until the user says `--reinstall`.
 */
export function configuredFileName(site: SiteName): string {
  return `talos/${site}-configured.json`;
}

interface Record {
  nodes: { [address: string]: { since: string } };
}

async function read(state: StateDir, site: SiteName): Promise<Record> {
  const text = await state.read(configuredFileName(site));
  return text ? (JSON.parse(text) as Record) : { nodes: {} };
}

export async function configuredAddresses(state: StateDir, site: SiteName): Promise<Set<string>> {
  return new Set(Object.keys((await read(state, site)).nodes));
}

/** Records that the host answers with the cluster's identity (written only when it is new). */
export async function recordConfigured(site: Pick<TalosSite, 'state' | 'site'>, address: string): Promise<void> {
  if ((await configuredAddresses(site.state, site.site)).has(address)) return;
  await site.state.update(configuredFileName(site.site), (old) => {
    const record: Record = old ? (JSON.parse(old) as Record) : { nodes: {} };
    record.nodes[address] ??= { since: new Date().toISOString() };
    return `${JSON.stringify(record, null, 2)}\n`;
  });
}

/** `down` reset the host to maintenance mode on purpose: its next configuration is a first one again. */
export async function forgetConfigured(site: Pick<TalosSite, 'state' | 'site'>, address: string): Promise<void> {
  if (!(await configuredAddresses(site.state, site.site)).has(address)) return;
  await site.state.update(configuredFileName(site.site), (old) => {
    const record: Record = old ? (JSON.parse(old) as Record) : { nodes: {} };
    delete record.nodes[address];
    return `${JSON.stringify(record, null, 2)}\n`;
  });
}

/**
 * Throws when the host may not be spoken to without authentication: it is recorded as configured
 * and the user has not asked to reinstall it. `why` says what it answered instead.
 */
export async function refuseUnlessFirstUse(site: TalosSite, node: Pick<TalosNode, 'address'>, why: string): Promise<void> {
  if (!site.trustOnFirstUse || site.reinstall?.has(node.address)) return;
  if (!(await configuredAddresses(site.state, site.site)).has(node.address)) return;
  throw new ActionError(
    `Talos node ${node.address} was configured by hybridctl for this cluster, but ${why}: it may have been wiped and reinstalled, or another machine may answer on its address. ` +
      "hybridctl does not send the cluster's config (its CA keys included) to a machine it cannot verify",
    `if you reinstalled it yourself, run \`hybridctl up --reinstall ${node.address}\` (and pin it: set its onprem.nodes[].fingerprint to the one its console shows)`,
  );
}
