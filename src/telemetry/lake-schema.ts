/**
 * The data lake's tables as the contract (docs/DATA.md, issue 13) defines them: the shipper
 * writes them, `hybridctl data` and the Glue catalog read them. One list of columns serves the
 * local engine (DuckDB) and the catalog (Hive types), so the two cannot disagree.
 */

import { LAKE_SIGNALS } from '../providers/aws/lake-grants.ts';

export const SITES = ['aws', 'onprem'] as const;
export type LakeSite = (typeof SITES)[number];

/** The shipper's signals (what its grants cover); `flows` are VPC flow logs, written by AWS. */
export const SHIPPED_SIGNALS = LAKE_SIGNALS;
export const SIGNALS = [...SHIPPED_SIGNALS, 'flows'] as const;
export type ShippedSignal = (typeof SHIPPED_SIGNALS)[number];
export type Signal = (typeof SIGNALS)[number];

export type ColumnType = 'int' | 'bigint' | 'string' | 'timestamp' | 'double' | 'boolean';

export interface Column {
  name: string;
  type: ColumnType;
}

const column = (name: string, type: ColumnType): Column => ({ name, type });

const COMMON: Column[] = [column('schema_version', 'int'), column('site', 'string'), column('shipper', 'string')];

/** The columns stored in each signal's Parquet files (the partition columns come from the path). */
export const COLUMNS: Record<Signal, readonly Column[]> = {
  metrics: [...COMMON, column('ts', 'timestamp'), column('name', 'string'), column('labels', 'string'), column('value', 'double')],
  logs: [
    ...COMMON,
    column('ts', 'timestamp'),
    ...['source', 'node', 'namespace', 'pod', 'container', 'level', 'msg', 'request_id', 'route'].map((n) => column(n, 'string')),
    column('status', 'int'),
    column('duration_ms', 'double'),
    column('line', 'string'),
    column('id', 'string'),
  ],
  states: [
    ...COMMON,
    column('ts', 'timestamp'),
    ...['kind', 'namespace', 'name', 'status'].map((n) => column(n, 'string')),
    column('ready', 'boolean'),
    column('detail', 'string'),
  ],
  // The default VPC flow log record format, as AWS writes it in Parquet.
  flows: [
    column('version', 'int'),
    ...['account_id', 'interface_id', 'srcaddr', 'dstaddr'].map((n) => column(n, 'string')),
    column('srcport', 'int'),
    column('dstport', 'int'),
    column('protocol', 'int'),
    column('packets', 'bigint'),
    column('bytes', 'bigint'),
    column('start', 'bigint'),
    column('end', 'bigint'),
    column('action', 'string'),
    column('log_status', 'string'),
  ],
};

/** Where the VPC's flow logs go in the telemetry bucket (base-stack's FLOW_LOG_PREFIX, without slashes). */
export const FLOW_LOGS_FOLDER = 'vpc-flow-logs';

/** The `schema_version` the readers here understand. */
export const SCHEMA_VERSION = 1;
