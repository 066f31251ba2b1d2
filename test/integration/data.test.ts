import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { execa } from 'execa';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLOW_LOG_PREFIX } from '../../src/providers/aws/base-stack.ts';
import { FLOW_LOGS_FOLDER } from '../../src/telemetry/lake-schema.ts';
import { awsEnv, runCli, writeConfig } from '../support/cli.ts';
import { EXAMPLE } from '../support/config.ts';
import { clients } from '../support/inventory.ts';
import { parquetFiles } from '../support/lake.ts';
import { HARNESS_KEY, type Moto, startMoto } from '../support/moto.ts';
import { CLI, ROOT } from '../support/paths.ts';

/**
 * `hybridctl data` against a lake in moto S3 holding real Parquet files written per the
 * contract (by DuckDB, the way a writer of the contract would), for both sites and several
 * hours; the answers are checked against sums computed here from the same rows.
 */

const BUCKET = 'hctl-demo-telemetry-123456789012-eu-central-1';
const HOUR = 3_600_000;
const now = Date.now();
const floorHour = (t: number) => Math.floor(t / HOUR) * HOUR;
/** Three hours with data: one a day and more ago (outside --since 6h), two recent ones. */
const HOURS = [floorHour(now - 30 * HOUR), floorHour(now - 3 * HOUR), floorHour(now - HOUR)];
const SITES = ['aws', 'onprem'] as const;

const dt = (t: number) => new Date(t).toISOString().slice(0, 10);
const hh = (t: number) => new Date(t).toISOString().slice(11, 13);
const stamp = (t: number) => new Date(t).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
const sqlTime = (t: number) => new Date(t).toISOString().replace('T', ' ').replace('Z', '');
const keyOf = (signal: string, site: string, hour: number, ext = 'parquet') => `signal=${signal}/site=${site}/dt=${dt(hour)}/hour=${hh(hour)}/shipper-${site}-${stamp(hour)}.${ext}`;

/** Metric samples: value = (sample + 1) * hour index * (10 for on-prem, 1 for AWS). */
function metricRows(site: string, hourIndex: number, hour: number): unknown[][] {
  return [0, 1, 2, 3].map((i) => [1, site, `shipper-${site}`, sqlTime(hour + i * 15_000), 'http_requests_total', '{"code":"200","route":"/readings"}', (i + 1) * (hourIndex + 1) * (site === 'aws' ? 1 : 10)]);
}
const METRIC_COLUMNS: [string, string][] = [['schema_version', 'INTEGER'], ['site', 'VARCHAR'], ['shipper', 'VARCHAR'], ['ts', 'TIMESTAMP_MS'], ['name', 'VARCHAR'], ['labels', 'VARCHAR'], ['value', 'DOUBLE']];
const LOG_COLUMNS: [string, string][] = [
  ['schema_version', 'INTEGER'], ['site', 'VARCHAR'], ['shipper', 'VARCHAR'], ['ts', 'TIMESTAMPTZ'],
  ['source', 'VARCHAR'], ['node', 'VARCHAR'], ['namespace', 'VARCHAR'], ['pod', 'VARCHAR'], ['container', 'VARCHAR'], ['level', 'VARCHAR'], ['msg', 'VARCHAR'],
  ['request_id', 'VARCHAR'], ['route', 'VARCHAR'], ['status', 'INTEGER'], ['duration_ms', 'DOUBLE'], ['line', 'VARCHAR'], ['id', 'VARCHAR'],
];
/** Three request lines per site and hour (one a 500), and one Talos line without request fields. */
function logRows(site: string, hour: number): unknown[][] {
  const request = (i: number, status: number) => [1, site, `shipper-${site}`, `${sqlTime(hour + i * 1000)}+00`, 'service', 'n1', 'readings', 'readings-0', 'readings', 'info', 'request', `r${i}`, '/readings', status, 2.5 * (i + 1), '{"msg":"request"}', `id-${site}-${hour}-${i}`];
  return [request(0, 200), request(1, 200), request(2, 500), [1, site, `shipper-${site}`, `${sqlTime(hour)}+00`, 'talos', 'n1', '', '', '', 'info', 'kubelet started', null, null, null, null, '{}', `id-${site}-${hour}-t`]];
}
const FLOW_COLUMNS: [string, string][] = [
  ['version', 'INTEGER'], ['account_id', 'VARCHAR'], ['interface_id', 'VARCHAR'], ['srcaddr', 'VARCHAR'], ['dstaddr', 'VARCHAR'], ['srcport', 'INTEGER'], ['dstport', 'INTEGER'],
  ['protocol', 'INTEGER'], ['packets', 'BIGINT'], ['bytes', 'BIGINT'], ['start', 'BIGINT'], ['end', 'BIGINT'], ['action', 'VARCHAR'], ['log_status', 'VARCHAR'],
];
const flowHour = HOURS[2]!;
const FLOW_KEY = `${FLOW_LOGS_FOLDER}/AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=eu-central-1/year=${dt(flowHour).slice(0, 4)}/month=${dt(flowHour).slice(5, 7)}/day=${dt(flowHour).slice(8, 10)}/hour=${hh(flowHour)}/123456789012_vpcflowlogs_eu-central-1_fl-1_${stamp(flowHour)}_hash.log.parquet`;

/** What the bucket holds, by key: the expected `data ls` is computed from it. */
const objects = new Map<string, Buffer>();

let moto: Moto;
let config: string;
const env = () => awsEnv(moto.endpoint);
const data = (args: string[], cacheDir?: string) => runCli(['data', ...args, '-c', config, ...(cacheDir ? ['--cache-dir', cacheDir] : [])], env());
const freshCache = () => mkdtempSync(join(tmpdir(), 'hybridctl-lake-cache-'));
/** The lake objects copied into a cache folder, as keys. */
const cachedKeys = (root: string) =>
  (readdirSync(join(root, 'lake', BUCKET), { recursive: true }) as string[]).filter((f) => f.endsWith('.parquet')).map((f) => relative('.', f)).sort();

beforeAll(async () => {
  moto = await startMoto();
  config = writeConfig(EXAMPLE);
  const s3 = clients(moto.endpoint, 'eu-central-1', HARNESS_KEY).s3;
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET, CreateBucketConfiguration: { LocationConstraint: 'eu-central-1' } }));

  const tables = [];
  for (const site of SITES)
    for (const [i, hour] of HOURS.entries()) {
      tables.push({ key: keyOf('metrics', site, hour), table: { columns: METRIC_COLUMNS, rows: metricRows(site, i, hour) } });
      tables.push({ key: keyOf('logs', site, hour), table: { columns: LOG_COLUMNS, rows: logRows(site, hour) } });
    }
  tables.push({
    key: FLOW_KEY,
    table: { columns: FLOW_COLUMNS, rows: [[2, '123456789012', 'eni-1', '10.0.1.5', '10.0.2.7', 443, 50000, 6, 10, 5000, flowHour / 1000, flowHour / 1000 + 60, 'ACCEPT', 'OK']] },
  });
  const files = await parquetFiles(tables.map((t) => t.table));
  tables.forEach((t, i) => objects.set(t.key, files[i]!));
  // The raw lines beside each logs file, and the shipper's watermark (not data, not counted).
  for (const site of SITES) for (const hour of HOURS) objects.set(keyOf('logs', site, hour, 'json.gz'), Buffer.from(`raw lines of ${site} ${hour}`));
  for (const [key, body] of objects) await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: '_shipper/site=aws/shipper-aws.json', Body: '{"schema_version":1,"shipped_until":"2026-11-30T00:00:00Z"}' }));
});
afterAll(async () => moto?.stop());

const metricsSum = (sites: readonly string[], hourIndexes: number[]) =>
  sites.reduce((sum, site) => sum + hourIndexes.reduce((s, i) => s + metricRows(site, i, HOURS[i]!).reduce((x, row) => x + (row[6] as number), 0), 0), 0);

describe('hybridctl data ls', () => {
  it('counts objects and bytes per signal and site as the bucket holds them', async () => {
    const result = await data(['ls', '-o', 'json']);
    expect(result.code, result.stderr).toBe(0);
    const listed = JSON.parse(result.stdout) as { bucket: string; signals: { signal: string; site: string; objects: number; bytes: number; newestAgeSeconds: number | null }[] };
    expect(listed.bucket).toBe(BUCKET);
    const expected = (prefix: string) => {
      const keys = [...objects.keys()].filter((k) => k.startsWith(prefix));
      return { objects: keys.length, bytes: keys.reduce((s, k) => s + objects.get(k)!.length, 0) };
    };
    const bySignal = Object.fromEntries(listed.signals.map((s) => [`${s.signal}/${s.site}`, s]));
    for (const site of SITES) {
      expect(bySignal[`metrics/${site}`]).toMatchObject(expected(`signal=metrics/site=${site}/`));
      expect(bySignal[`logs/${site}`]).toMatchObject({ ...expected(`signal=logs/site=${site}/`), objects: 6 });
      expect(bySignal[`states/${site}`]).toMatchObject({ objects: 0, bytes: 0, newestAgeSeconds: null });
    }
    expect(bySignal['flows/aws']).toMatchObject({ ...expected(`${FLOW_LOGS_FOLDER}/`), objects: 1 });
    expect(bySignal['metrics/aws']?.newestAgeSeconds).toBeGreaterThanOrEqual(0);
    expect(bySignal['metrics/aws']?.newestAgeSeconds).toBeLessThan(600);
  });

  it('prints a table for people', async () => {
    const result = await data(['ls']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`s3://${BUCKET}/`);
    expect(result.stdout).toMatch(/^metrics\s+aws\s+3\s+\S+ \w+\s+\d+[smhd] ago$/m);
    expect(result.stdout).toMatch(/^states\s+onprem\s+0\s+0 B\s+-$/m);
  });
});

describe('hybridctl data query', () => {
  const TOTALS = "SELECT site, sum(value) AS total, count(*) AS samples FROM metrics GROUP BY site ORDER BY site";

  it('answers known sums over both sites and every hour, as JSON, CSV and a table', async () => {
    const cache = freshCache();
    const json = await data(['query', TOTALS, '-o', 'json'], cache);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([
      { site: 'aws', total: metricsSum(['aws'], [0, 1, 2]), samples: 12 },
      { site: 'onprem', total: metricsSum(['onprem'], [0, 1, 2]), samples: 12 },
    ]);

    const csv = await data(['query', TOTALS, '-o', 'csv'], cache);
    expect(csv.code, csv.stderr).toBe(0);
    // RFC 4180 line ends (the runner strips the last \n).
    expect(csv.stdout.replace(/\r$/, '')).toBe(`site,total,samples\r\naws,${metricsSum(['aws'], [0, 1, 2])},12\r\nonprem,${metricsSum(['onprem'], [0, 1, 2])},12`);

    const table = await data(['query', TOTALS], cache);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout.split('\n').slice(0, 4)).toEqual([
      'site    total  samples',
      '------  -----  -------',
      `aws     ${String(metricsSum(['aws'], [0, 1, 2])).padStart(5)}       12`,
      `onprem  ${String(metricsSum(['onprem'], [0, 1, 2])).padStart(5)}       12`,
    ]);
    expect(table.stdout).toContain('(2 rows)');
  });

  it('reads the logs with the contract columns and the partition columns', async () => {
    const result = await data(
      ['query', "SELECT site, count(*) FILTER (WHERE msg = 'request') AS requests, count(*) FILTER (WHERE status >= 500) AS errors, sum(duration_ms) AS ms, count(DISTINCT dt || '/' || hour) AS hours, min(typeof(ts)) AS ts_type, min(typeof(dt)) AS dt_type FROM logs GROUP BY site ORDER BY site", '-o', 'json'],
      freshCache(),
    );
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(SITES.map((site) => ({ site, requests: 9, errors: 3, ms: 45, hours: 3, ts_type: 'TIMESTAMP', dt_type: 'DATE' })));
  });

  it('fetches only the partitions --site and --since keep, and filters the rows by them', async () => {
    const cache = freshCache();
    const result = await data(['query', TOTALS, '--site', 'aws', '--since', '6h', '-o', 'json'], cache);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([{ site: 'aws', total: metricsSum(['aws'], [1, 2]), samples: 8 }]);
    // Only the metrics the query names, of AWS, of the last six hours.
    expect(cachedKeys(cache)).toEqual([keyOf('metrics', 'aws', HOURS[1]!), keyOf('metrics', 'aws', HOURS[2]!)].sort());

    const iso = await data(['query', 'SELECT count(*) AS n, min(ts) AS first FROM logs', '--since', new Date(HOURS[2]!).toISOString(), '-o', 'json'], cache);
    expect(iso.code, iso.stderr).toBe(0);
    expect(JSON.parse(iso.stdout)).toEqual([{ n: 8, first: sqlTime(HOURS[2]!).replace('.000', '') }]);
  });

  it('fetches nothing again for a second query over the same partitions', async () => {
    const cache = freshCache();
    await moto.record();
    const first = await data(['query', TOTALS], cache);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/fetched 6 object/);
    const gets = async () => (await moto.calls()).filter((c) => c.service === 's3' && c.operation === 'GetObject');
    expect(await gets()).toHaveLength(6);

    await moto.record();
    const second = await data(['query', TOTALS], cache);
    expect(second.stdout).toBe(first.stdout);
    expect(second.stderr).not.toMatch(/fetched/);
    expect(await gets()).toEqual([]);
    // A reader: S3 listings and the caller's identity, nothing else (no EC2 zone lookup, no writes).
    const calls = await moto.calls();
    expect(calls.filter((c) => c.mutating)).toEqual([]);
    expect(new Set(calls.map((c) => c.service))).toEqual(new Set(['s3', 'sts']));

    await moto.record();
    await data(['query', TOTALS, '--refresh'], cache);
    expect(await gets()).toHaveLength(6);
  });

  it('answers from a signal with no files, with its columns, and from the flow logs', async () => {
    const cache = freshCache();
    const states = await data(['query', 'SELECT count(*) AS n, count(ready) AS ready, max(detail) AS detail FROM states', '-o', 'json'], cache);
    expect(states.code, states.stderr).toBe(0);
    expect(JSON.parse(states.stdout)).toEqual([{ n: 0, ready: 0, detail: null }]);

    const flows = await data(['query', "SELECT site, sum(bytes) AS bytes, min(dt) = DATE '" + dt(flowHour) + "' AS same_day, min(hour) AS hour FROM flows GROUP BY site", '-o', 'json'], cache);
    expect(flows.code, flows.stderr).toBe(0);
    expect(JSON.parse(flows.stdout)).toEqual([{ site: 'aws', bytes: 5000, same_day: true, hour: Number(hh(flowHour)) }]);
    const none = await data(['query', 'SELECT count(*) AS n FROM flows', '--site', 'onprem', '-o', 'json'], cache);
    expect(JSON.parse(none.stdout)).toEqual([{ n: 0 }]);
  });

  it('with --no-cache keeps no copies', async () => {
    const root = freshCache();
    const result = await runCli(['data', 'query', 'SELECT count(*) AS n FROM metrics', '--no-cache', '-o', 'json', '-c', config], { ...env(), HYBRIDCTL_CACHE_DIR: root });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([{ n: 24 }]);
    expect(readdirSync(root)).toEqual([]);
  });

  it('refuses bad SQL and bad flags with exit 2, naming the problem', async () => {
    const bad = await data(['query', 'SELEC count(*) FROM metrics'], freshCache());
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('not valid SQL');
    expect(bad.stderr).toContain('syntax error at or near "SELEC"');
    expect(bad.stderr).not.toMatch(/\n\s+at /);

    const unknown = await data(['query', 'SELECT nope FROM metrics'], freshCache());
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/Binder Error.*nope/s);

    const since = await data(['query', 'SELECT 1', '--since', 'yesterday']);
    expect(since.code).toBe(2);
    expect(since.stderr).toContain('--since: "yesterday"');

    const csvElsewhere = await data(['ls', '-o', 'csv']);
    expect(csvElsewhere.code).toBe(2);
    expect(csvElsewhere.stderr).toContain('-o csv');
  });

  it('teaches itself in --help without loading DuckDB or the AWS SDK', async () => {
    const trace = join(mkdtempSync(join(tmpdir(), 'hybridctl-trace-')), 'imports.txt');
    const result = await execa(process.execPath, ['--import', `${ROOT}test/support/trace-imports.mjs`, CLI, 'data', 'query', '--help'], {
      env: { ...env(), TRACE_IMPORTS_FILE: trace },
      extendEnv: false,
      reject: false,
    });
    expect(result.exitCode).toBe(0);
    for (const text of ['--since', '--site', '--engine', 'Examples:', '.cache/hybridctl/lake/<bucket>/', 'metrics, logs, states, flows']) expect(result.stdout).toContain(text);
    const loaded = readFileSync(trace, 'utf8');
    expect(loaded).not.toContain('@duckdb');
    expect(loaded).not.toContain('@aws-sdk');
  });

  it('names the flow log folder as the base stack does', () => {
    expect(FLOW_LOG_PREFIX).toBe(`/${FLOW_LOGS_FOLDER}/`);
  });
});
