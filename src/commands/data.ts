import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HybridConfig } from '../core/config/schema.ts';
import { ActionError, UsageError } from '../core/errors.ts';
import { formatDuration } from '../output/terminal.ts';
import { formatAge, formatBytes, renderCsv, renderTable } from '../output/table.ts';
import { isNotFound } from '../providers/aws/errors.ts';
import { bucketName } from '../providers/aws/naming.ts';
import type { AwsProvider } from '../providers/aws/provider.ts';
import { connectAws } from '../providers/aws/session.ts';
import { queryAthena } from '../telemetry/athena-query.ts';
import { defaultCacheRoot, fetchToCache, lakeCacheDir } from '../telemetry/lake-cache.ts';
import { athenaWorkgroupName, glueDatabaseName } from '../telemetry/lake-catalog-names.ts';
import type { LakeScope } from '../telemetry/lake-keys.ts';
import { listDataFiles, summarize } from '../telemetry/lake-listing.ts';
import { type QueryResult, queryLocalFiles } from '../telemetry/lake-query.ts';
import { type LakeSite, SITES, type Signal } from '../telemetry/lake-schema.ts';
import { parseSince } from '../telemetry/lake-since.ts';
import { signalsNamedIn } from '../telemetry/lake-views.ts';
import { type GlobalOptions, awsSettings, interruptible } from './options.ts';

export interface DataQueryOptions extends GlobalOptions {
  engine: 'duckdb' | 'athena';
  since?: string;
  cacheDir?: string;
  refresh?: boolean;
  /** Commander's --no-cache: false when given. */
  cache: boolean;
}

interface Lake {
  provider: AwsProvider;
  bucket: string;
}

async function openLake(options: GlobalOptions, config: HybridConfig): Promise<Lake> {
  const session = await connectAws(config, {
    allowOffline: false,
    skipZones: true,
    ...awsSettings(options),
  });
  return { provider: session.provider, bucket: bucketName(session.provider, 'telemetry') };
}

/** A missing bucket is a cluster not built yet, not a failure of the read. */
async function reading<T>(lake: Lake, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (isNotFound(error)) throw new ActionError(`the telemetry bucket ${lake.bucket} does not exist`, '`hybridctl up` builds it; the shippers fill it');
    throw error;
  }
}

/** `data ls`: per signal and site, how many objects, how many bytes, how old the newest is. */
export async function runLs(options: GlobalOptions, config: HybridConfig): Promise<number> {
  const lake = await openLake(options, config);
  const summary = await reading(lake, () => summarize(lake.provider.clients.s3, lake.bucket));
  const now = Date.now();
  if (options.output === 'json') {
    const signals = summary.map((s) => ({
      signal: s.signal,
      site: s.site,
      objects: s.objects,
      bytes: s.bytes,
      newest: s.newest?.toISOString() ?? null,
      newestAgeSeconds: s.newest ? Math.round((now - s.newest.getTime()) / 1000) : null,
    }));
    process.stdout.write(`${JSON.stringify({ bucket: lake.bucket, signals }, null, 2)}\n`);
    return 0;
  }
  const rows = summary.map((s) => [s.signal, s.site, s.objects, formatBytes(s.bytes), s.newest ? `${formatAge(now - s.newest.getTime())} ago` : '-']);
  process.stdout.write(`s3://${lake.bucket}/\n\n${renderTable(['signal', 'site', 'objects', 'size', 'newest'], rows)}`);
  return 0;
}

/** `data query "SQL"`: DuckDB over local copies of the partitions the query needs, or Athena. */
export async function runQuery(sql: string, options: DataQueryOptions, config: HybridConfig): Promise<number> {
  if (!sql.trim()) throw new UsageError('data query: the SQL is empty (expected e.g. "SELECT count(*) FROM logs")');
  const since = options.since === undefined ? undefined : parseSince(options.since);
  const sites: LakeSite[] = options.site ? [options.site] : [...SITES];
  if (options.engine === 'athena' && (options.since !== undefined || options.site !== undefined))
    throw new UsageError('--since and --site apply to the local engine; with --engine athena, say it in the SQL (WHERE site = \'aws\' AND dt >= DATE \'2026-11-30\')');
  const lake = await openLake(options, config);
  const result = options.engine === 'athena' ? await athena(sql, options, config, lake) : await local(sql, options, lake, { sites, ...(since ? { since } : {}) });
  print(options, result);
  return 0;
}

async function local(sql: string, options: DataQueryOptions, lake: Lake, scope: LakeScope): Promise<QueryResult> {
  const signals: Signal[] = signalsNamedIn(sql);
  const s3 = lake.provider.clients.s3;
  const files = await reading(lake, () => listDataFiles(s3, lake.bucket, signals, scope, { account: lake.provider.account, region: lake.provider.region }));
  const throwaway = options.cache ? undefined : await mkdtemp(join(tmpdir(), 'hybridctl-lake-'));
  const dir = throwaway ?? lakeCacheDir(options.cacheDir ?? defaultCacheRoot(), lake.bucket);
  try {
    const started = Date.now();
    const fetched = await fetchToCache(s3, lake.bucket, files, dir, { ...(options.refresh ? { refresh: true } : {}) });
    if (fetched.fetched > 0 && options.output === 'text')
      process.stderr.write(`lake: fetched ${fetched.fetched} object(s) (${formatBytes(fetched.fetchedBytes)}) in ${formatDuration(Date.now() - started)}, ${fetched.reused} already in ${dir}\n`);
    const bySignal: Partial<Record<Signal, string[]>> = {};
    files.forEach((file, i) => (bySignal[file.partition.signal] ??= []).push(fetched.paths[i]!));
    return await queryLocalFiles(sql, bySignal, scope);
  } finally {
    if (throwaway) await rm(throwaway, { recursive: true, force: true });
  }
}

async function athena(sql: string, options: DataQueryOptions, config: HybridConfig, lake: Lake): Promise<QueryResult> {
  const interrupt = interruptible(process.stderr);
  try {
    return await queryAthena(lake.provider.clients.athena, {
      sql,
      workgroup: athenaWorkgroupName(config.metadata.name),
      database: glueDatabaseName(config.metadata.name),
      signal: interrupt.signal,
      progress: (state, elapsed, scanned) => process.stderr.write(`athena: ${state.toLowerCase()} for ${formatDuration(elapsed)}, ${formatBytes(scanned)} scanned\n`),
    });
  } finally {
    interrupt.dispose();
  }
}

function print(options: GlobalOptions, result: QueryResult): void {
  const names = result.columns.map((c) => c.name);
  const cells = result.rows.map((row) => names.map((n) => row[n]));
  if (options.output === 'json') process.stdout.write(`${JSON.stringify(result.rows, null, 2)}\n`);
  else if (options.output === 'csv') process.stdout.write(renderCsv(names, cells));
  else process.stdout.write(`${renderTable(names, cells)}(${result.rows.length} row${result.rows.length === 1 ? '' : 's'})\n`);
}
