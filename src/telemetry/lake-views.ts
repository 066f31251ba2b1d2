import { COLUMNS, type ColumnType, type LakeSite, SHIPPED_SIGNALS, type Signal } from './lake-schema.ts';

/**
 * The SQL of the views `data query` answers from: one per signal, over the local copies of its
 * files, with the contract's columns and the partition columns `site`, `dt` (DATE) and `hour`
 * (INTEGER). A signal with no files is still a view, empty, with the same columns.
 */

const DUCKDB_TYPES: Record<ColumnType, string> = { int: 'INTEGER', bigint: 'BIGINT', string: 'VARCHAR', timestamp: 'TIMESTAMP', double: 'DOUBLE', boolean: 'BOOLEAN' };

export interface ViewFilter {
  sites: readonly LakeSite[];
  since?: Date;
}

export function viewSql(signal: Signal, files: readonly string[], filter: ViewFilter): string {
  const body = files.length === 0 ? emptySelect(signal) : signal === 'flows' ? flowsSelect(files) : shippedSelect(signal, files);
  return `CREATE OR REPLACE VIEW ${signal} AS SELECT * FROM (${body}) WHERE ${conditions(signal, filter)}`;
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;
const quoteText = (text: string) => `'${text.replaceAll("'", "''")}'`;
const fileList = (files: readonly string[]) => `[${files.map(quoteText).join(', ')}]`;

/** Timestamps are read as UTC wall-clock TIMESTAMP whether the writer marked them UTC-adjusted or not (the session's time zone is UTC). */
function storedColumns(signal: Signal): string[] {
  return COLUMNS[signal]
    .filter((c) => c.name !== 'site')
    .map((c) => (c.type === 'timestamp' ? `CAST(${quoteIdent(c.name)} AS TIMESTAMP) AS ${quoteIdent(c.name)}` : `CAST(${quoteIdent(c.name)} AS ${DUCKDB_TYPES[c.type]}) AS ${quoteIdent(c.name)}`));
}

/** Column order of every view: the contract's, with `site` where the contract puts it, then dt and hour. */
function ordered(signal: Signal, columns: string[], site: string): string[] {
  if (signal === 'flows') return [...columns, `${site} AS site`];
  const [schemaVersion, ...rest] = columns;
  return [schemaVersion!, `${site} AS site`, ...rest];
}

function shippedSelect(signal: Signal, files: readonly string[]): string {
  const columns = ordered(signal, storedColumns(signal), 'CAST(site AS VARCHAR)');
  return `SELECT ${columns.join(', ')}, dt, hour FROM read_parquet(${fileList(files)}, hive_partitioning = true, union_by_name = true, hive_types = {'site': VARCHAR, 'dt': DATE, 'hour': INTEGER})`;
}

function flowsSelect(files: readonly string[]): string {
  const columns = ordered('flows', storedColumns('flows'), "'aws'");
  return `SELECT ${columns.join(', ')}, make_date(year, month, day) AS dt, hour FROM read_parquet(${fileList(files)}, hive_partitioning = true, union_by_name = true, hive_types = {'year': INTEGER, 'month': INTEGER, 'day': INTEGER, 'hour': INTEGER})`;
}

function emptySelect(signal: Signal): string {
  const typed = COLUMNS[signal].filter((c) => c.name !== 'site').map((c) => `CAST(NULL AS ${DUCKDB_TYPES[c.type]}) AS ${quoteIdent(c.name)}`);
  return `SELECT ${ordered(signal, typed, 'CAST(NULL AS VARCHAR)').join(', ')}, CAST(NULL AS DATE) AS dt, CAST(NULL AS INTEGER) AS hour WHERE false`;
}

function conditions(signal: Signal, filter: ViewFilter): string {
  const out = [`site IN (${filter.sites.map(quoteText).join(', ')})`];
  if (filter.since) {
    // Flow records carry their window as Unix seconds, the shipper's rows a timestamp.
    out.push(signal === 'flows' ? `"end" >= ${Math.floor(filter.since.getTime() / 1000)}` : `ts >= TIMESTAMP ${quoteText(filter.since.toISOString().replace('T', ' ').replace('Z', ''))}`);
  }
  return out.join(' AND ');
}

/** The signals a query names (as whole words): only their partitions are fetched. */
export function signalsNamedIn(sql: string): Signal[] {
  return [...SHIPPED_SIGNALS, 'flows' as const].filter((signal) => new RegExp(`(^|[^A-Za-z0-9_$])${signal}($|[^A-Za-z0-9_$])`, 'i').test(sql));
}
