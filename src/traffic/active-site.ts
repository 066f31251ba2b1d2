import type { HybridConfig, SiteName } from '../core/config/schema.ts';
import type { StateDir } from '../core/state.ts';

/** Where traffic goes, as the last failover left it: the state, not the config, is the truth. */
export const ACTIVE_SITE_FILE = 'traffic/active-site.json';

export interface ActiveSiteRecord {
  site: SiteName;
  /** When traffic moved there (ISO time). */
  since: string;
}

export async function readActiveSite(state: StateDir): Promise<ActiveSiteRecord | undefined> {
  const text = await state.read(ACTIVE_SITE_FILE);
  if (!text) return undefined;
  const record = JSON.parse(text) as Partial<ActiveSiteRecord>;
  if (record.site !== 'aws' && record.site !== 'onprem') throw new Error(`${state.path(ACTIVE_SITE_FILE)} names no site (aws or onprem); run hybridctl failover --to SITE to record one`);
  return { site: record.site, since: record.since ?? '' };
}

export async function writeActiveSite(state: StateDir, record: ActiveSiteRecord): Promise<void> {
  await state.write(ACTIVE_SITE_FILE, `${JSON.stringify(record, null, 2)}\n`);
}

/** The config as the sites should be now: service.activeSite is where the last failover moved traffic. */
export function withActiveSite(config: HybridConfig, site: SiteName): HybridConfig {
  return config.service.activeSite === site ? config : { ...config, service: { ...config.service, activeSite: site } };
}

/** What `up` and `plan` say when the config and the recorded active site disagree. */
export function disagreement(config: HybridConfig, record: ActiveSiteRecord | undefined): string | undefined {
  if (!record || record.site === config.service.activeSite) return undefined;
  return (
    `service.activeSite says ${config.service.activeSite}, but traffic goes to ${record.site} since the failover at ${record.since}; ` +
    `up keeps it there (run \`hybridctl failover --to ${config.service.activeSite}\` to move it back, or set service.activeSite: ${record.site})`
  );
}

/** The other site. */
export function otherSite(site: SiteName): SiteName {
  return site === 'aws' ? 'onprem' : 'aws';
}
