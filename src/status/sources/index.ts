import type { HybridConfig, SiteName } from '../../core/config/schema.ts';
import type { StateDir } from '../../core/state.ts';
import type { KubeSite } from '../../kube/object-kind.ts';
import type { AwsProvider } from '../../providers/aws/provider.ts';
import type { TalosSite } from '../../talos/site.ts';
import type { DataStatus, PanelKey, ServiceStatus, SiteStatus, TrafficStatus, VpnStatus } from '../model.ts';
import type { Source } from '../poller.ts';
import { dataSource } from './data.ts';
import { serviceSource } from './service.ts';
import { siteSource } from './site.ts';
import { TalosClients } from './talos-clients.ts';
import { trafficSource } from './traffic.ts';
import { vpnSource } from './vpn.ts';

/** What the sources read through: the sites as `up` builds them, and AWS when it can be asked. */
export interface StatusAccess {
  config: HybridConfig;
  state: StateDir;
  sites: Partial<Record<SiteName, TalosSite & KubeSite>>;
  /** Undefined without AWS credentials: what only AWS knows is shown as not available. */
  aws?: AwsProvider;
}

export type StatusSources = {
  aws: Source<SiteStatus>;
  onprem: Source<SiteStatus>;
  service: Source<ServiceStatus>;
  traffic: Source<TrafficStatus>;
  vpn: Source<VpnStatus>;
  data: Source<DataStatus>;
} & Record<PanelKey, Source<unknown>>;

const notSetUp = (why: string): Source<never> => async () => ({ unset: why });

/** The sources, and `close` for the connections they keep open between refreshes. */
export function statusSources(access: StatusAccess): { sources: StatusSources; close(): void } {
  const { config, state, sites, aws } = access;
  const talos = { aws: new TalosClients(), onprem: new TalosClients() };
  const sources = {
    aws: sites.aws ? siteSource(sites.aws, talos.aws) : notSetUp('no AWS credentials: the AWS site cannot be found'),
    onprem: sites.onprem ? siteSource(sites.onprem, talos.onprem) : notSetUp('no on-prem site'),
    service: serviceSource(config, state, sites),
    traffic: trafficSource(config, aws, sites),
    vpn: vpnSource(config, sites),
    data: dataSource(config, aws),
  };
  return { sources, close: () => Object.values(talos).forEach((pool) => pool.close()) };
}
