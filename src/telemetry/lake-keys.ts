import { FLOW_LOGS_FOLDER, type LakeSite, SITES, type Signal } from './lake-schema.ts';

/**
 * Object keys of the data lake: what partition a key is in, and which prefixes to list for a
 * question about some sites since some time. Keys per the contract:
 * `signal=<s>/site=<site>/dt=YYYY-MM-DD/hour=HH/<file>` and, for flow logs,
 * `vpc-flow-logs/AWSLogs/aws-account-id=<a>/aws-service=vpcflowlogs/aws-region=<r>/year=YYYY/month=MM/day=DD/hour=HH/<file>`.
 */

export interface Partition {
  signal: Signal;
  site: LakeSite;
  /** YYYY-MM-DD, UTC. */
  dt: string;
  hour: number;
}

/** Which part of the lake a question is about. */
export interface LakeScope {
  sites: readonly LakeSite[];
  /** Only partitions whose hour ends after this instant. */
  since?: Date;
}

/** Where the flow logs of one account and region are, when known (prunes the listing to days). */
export interface FlowLogOrigin {
  account: string;
  region: string;
}

const SHIPPED_KEY = /^signal=(metrics|logs|states)\/site=(aws|onprem)\/dt=(\d{4}-\d{2}-\d{2})\/hour=(\d{2})\/[^/]+$/;
const FLOW_KEY = new RegExp(`^${FLOW_LOGS_FOLDER}/AWSLogs/aws-account-id=[^/]+/aws-service=vpcflowlogs/aws-region=[^/]+/year=(\\d{4})/month=(\\d{2})/day=(\\d{2})/hour=(\\d{2})/[^/]+$`);

/** The partition of a data file's key; undefined for anything else (watermarks, raw `.json.gz` lines, folders). */
export function partitionOf(key: string): Partition | undefined {
  if (!key.endsWith('.parquet')) return undefined;
  const shipped = SHIPPED_KEY.exec(key);
  if (shipped) return { signal: shipped[1] as Signal, site: shipped[2] as LakeSite, dt: shipped[3]!, hour: Number(shipped[4]) };
  const flow = FLOW_KEY.exec(key);
  if (flow) return { signal: 'flows', site: 'aws', dt: `${flow[1]}-${flow[2]}-${flow[3]}`, hour: Number(flow[4]) };
  return undefined;
}

/** Which site's objects a key holds, data or not (for `data ls`): flow logs are the AWS site's. */
export function siteOfKey(key: string): { signal: Signal; site: LakeSite } | undefined {
  const shipped = /^signal=(metrics|logs|states)\/site=(aws|onprem)\//.exec(key);
  if (shipped) return { signal: shipped[1] as Signal, site: shipped[2] as LakeSite };
  if (key.startsWith(`${FLOW_LOGS_FOLDER}/AWSLogs/`)) return { signal: 'flows', site: 'aws' };
  return undefined;
}

export function inScope(partition: Partition, scope: LakeScope): boolean {
  if (!scope.sites.includes(partition.site)) return false;
  if (!scope.since) return true;
  const hourEnd = Date.parse(`${partition.dt}T${String(partition.hour).padStart(2, '0')}:00:00Z`) + 3_600_000;
  return hourEnd > scope.since.getTime();
}

/** Beyond this many days a listing per day costs more calls than listing the whole site once. */
const MAX_DAYS_LISTED_ONE_BY_ONE = 31;

/** The key prefixes to list for one signal: per site, and per day when `since` is recent. */
export function prefixesFor(signal: Signal, scope: LakeScope, flowOrigin?: FlowLogOrigin, now = new Date()): string[] {
  const days = scope.since ? daysBetween(scope.since, now) : undefined;
  const byDay = days !== undefined && days.length <= MAX_DAYS_LISTED_ONE_BY_ONE;
  if (signal === 'flows') {
    if (!scope.sites.includes('aws')) return [];
    const root = `${FLOW_LOGS_FOLDER}/AWSLogs/`;
    if (!byDay || !flowOrigin) return [root];
    const origin = `${root}aws-account-id=${flowOrigin.account}/aws-service=vpcflowlogs/aws-region=${flowOrigin.region}/`;
    return days!.map((d) => `${origin}year=${d.slice(0, 4)}/month=${d.slice(5, 7)}/day=${d.slice(8, 10)}/`);
  }
  return SITES.filter((site) => scope.sites.includes(site)).flatMap((site) => {
    const root = `signal=${signal}/site=${site}/`;
    return byDay ? days!.map((d) => `${root}dt=${d}/`) : [root];
  });
}

/** Every UTC date from `from`'s to `to`'s, as YYYY-MM-DD. */
function daysBetween(from: Date, to: Date): string[] {
  const out: string[] = [];
  const last = to.toISOString().slice(0, 10);
  for (let day = new Date(`${from.toISOString().slice(0, 10)}T00:00:00Z`); ; day = new Date(day.getTime() + 86_400_000)) {
    const text = day.toISOString().slice(0, 10);
    if (text > last) break;
    out.push(text);
    if (out.length > MAX_DAYS_LISTED_ONE_BY_ONE) break;
  }
  return out;
}
