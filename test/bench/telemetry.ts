/**
 * npm run bench, telemetry part (issue 13); runnable alone: `node test/bench/telemetry.ts`
 * (after `npm run build`).
 *
 *   shipper     the real shipper (30 s windows, default step) against moto S3, Debian's Prometheus
 *               (the rendered config, scraping every 30 s) scraping the real readings service under
 *               the real load generator at its default rate, the kube test bed for the state
 *               snapshots: rows per second, CPU seconds (/proc/<pid>/stat) per 1,000 requests, idle
 *               against under load; logs in Parquet against the raw JSON lines of the same windows;
 *               peak RSS (VmHWM)
 *   lake query  `hybridctl data query` over a day of metrics, cold (empty cache) and warm: wall time,
 *               peak RSS (GNU time). The day is synthesized from the series the shipper wrote above,
 *               by the shipper's own encoder (service/internal/shipper/testdata/lakeday), 288 windows
 *               of 5 min at the default 15 s step, uploaded under the documented keys.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { type ResultPromise, execa } from 'execa';
import { parseConfig } from '../../src/core/config/load.ts';
import { prometheusConfig, siteLabel } from '../../src/telemetry/prometheus-config.ts';
import { ruleGroups } from '../../src/telemetry/rules.ts';
import { awsEnv, writeConfig } from '../support/cli.ts';
import { EXAMPLE } from '../support/config.ts';
import { startTestbed } from '../support/kube.ts';
import { HARNESS_KEY, type Moto, freePort, startMoto } from '../support/moto.ts';
import { CLI, ROOT } from '../support/paths.ts';
import { diesWithTests } from '../support/process.ts';
import { startPrometheus } from '../support/prometheus.ts';
import { buildServiceBinaries } from '../support/service-bin.ts';

const INTERVAL_S = 30;
const IDLE_WINDOWS = 6;
const LOAD_S = Number(process.env.BENCH_TELEMETRY_LOAD_S ?? 240);
/** The telemetry bucket of the example config in moto's account, where `hybridctl data` looks. */
const BUCKET = 'hctl-demo-telemetry-123456789012-eu-central-1';
const CLK_TCK = 100;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
const stamp = (ms: number) => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');

/** CPU seconds (user + system) of a process so far. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime, stime: fields 14 and 15 of stat
}

const peakRssKiB = (pid: number) => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);

async function listAll(s3: S3Client, prefix: string): Promise<{ key: string; size: number }[]> {
  const out: { key: string; size: number }[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, ContinuationToken: token }));
    out.push(...(page.Contents ?? []).map((o) => ({ key: o.Key ?? '', size: o.Size ?? 0 })));
    token = page.NextContinuationToken;
  } while (token);
  return out;
}

const getBytes = async (s3: S3Client, key: string) => (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToByteArray();

/** A series of the metrics table, with its samples in time order (strings: NaN and ±Inf survive JSON). */
interface Series {
  name: string;
  labels: string;
  counter: boolean;
  values: string[];
}

interface ShipperRun {
  lines: string[];
  series: Series[];
  seriesPerWindow: number;
  rowsPerWindow: number;
  metricsBytesPerRow: number;
}

async function shipperRun(moto: Moto, s3: S3Client, dir: string): Promise<ShipperRun> {
  const bin = await buildServiceBinaries();
  const stops: (() => Promise<unknown>)[] = [];
  try {
    const bed = await startTestbed({ cluster: 'lake-bench', listen: '127.0.0.1', nodes: ['bench-cp-1:controlplane', 'bench-worker-1:worker'] });
    stops.push(() => bed.stop());
    const manifest = join(dir, 'readings.json');
    const labels = { 'app.kubernetes.io/name': 'readings' };
    writeFileSync(manifest, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'readings' } },
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'readings', namespace: 'readings' },
        spec: { replicas: 2, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'readings', image: 'readings:bench' }] } } } },
    ] }));
    await execa('kubectl', ['--kubeconfig', bed.kubeconfigFile, 'apply', '-f', manifest]);

    const port = await freePort();
    const serviceLog = join(dir, 'readings.log');
    const service = execa(...diesWithTests(`${bin}/readings`, []), { env: { SITE: 'aws', NODE_NAME: 'bench', LISTEN_ADDR: `127.0.0.1:${port}`, DRAIN_DELAY: '0s' }, reject: false, stdout: { file: serviceLog }, stderr: 'ignore' });
    stops.push(async () => (service.kill('SIGTERM'), await service));
    for (let i = 0; i < 100 && !(await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false)); i++) await sleep(100);

    // The AWS site's rendered config and rules as they are (30 s scrapes), with the service as its one target.
    const config = parseConfig(EXAMPLE);
    const rendered = prometheusConfig(config, 'aws') as Record<string, unknown>;
    const prometheus = await startPrometheus(
      { ...rendered, scrape_configs: [{ job_name: 'readings', static_configs: [{ targets: [`127.0.0.1:${port}`] }], relabel_configs: [siteLabel('aws')] }] },
      { rules: { groups: ruleGroups(config) } },
    );
    stops.push(() => prometheus.stop());

    const metricsPort = await freePort();
    const shipper: ResultPromise = execa(...diesWithTests(`${bin}/shipper`, []), {
      env: {
        PATH: process.env.PATH ?? '', HOME: dir, SHIPPER_SITE: 'aws', SHIPPER_BUCKET: BUCKET, SHIPPER_INTERVAL: `${INTERVAL_S}s`, SHIPPER_LAG: '10s',
        SHIPPER_PROMETHEUS: prometheus.url, SHIPPER_LOG_FILE: serviceLog, SHIPPER_STATE_NAMESPACES: 'readings,kube-system', SHIPPER_LISTEN: `127.0.0.1:${metricsPort}`,
        SHIPPER_SPOOL: join(dir, 'spool'), KUBECONFIG: bed.kubeconfigFile, AWS_ENDPOINT_URL: moto.endpoint, AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'shipper', AWS_SECRET_ACCESS_KEY: 'shipper-secret', AWS_EC2_METADATA_DISABLED: 'true',
      },
      extendEnv: false, reject: false, stdin: 'ignore', stdout: { file: join(dir, 'shipper.log') }, stderr: 'pipe',
    });
    stops.push(async () => (shipper.kill('SIGTERM'), await shipper));
    const pid = shipper.pid!;

    const watermark = async () => {
      const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: '_shipper/site=aws/shipper-aws.json' })).catch(() => undefined);
      return got?.Body ? Date.parse((JSON.parse(await got.Body.transformToString()) as { shipped_until: string }).shipped_until) : 0;
    };
    /** Waits until the watermark reaches `until` (ms), then reads the shipper's CPU and rows at once: it is idle between windows. */
    const mark = async (until: number) => {
      let at = await watermark();
      for (const deadline = Math.max(Date.now(), until) + 60_000; at < until; at = await watermark()) {
        if (Date.now() > deadline) throw new Error(`the shipper's watermark did not reach ${new Date(until).toISOString()} (logs in ${dir})`);
        await sleep(200);
      }
      const text = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((r) => r.text());
      const rows = [...text.matchAll(/^shipper_rows_total\{signal="(\w+)"\} (\S+)$/gm)].reduce((sum, m) => sum + Number(m[2]), 0);
      const errors = [...text.matchAll(/^shipper_errors_total\{[^}]*\} (\S+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
      return { at, cpu: cpuSeconds(pid), rows, errors, wall: performance.now() };
    };

    // Idle: the service scraped by Prometheus, no load; then the load generator with every default (20 requests/s).
    const first = await mark(1);
    const idleEnd = await mark(first.at + IDLE_WINDOWS * INTERVAL_S * 1000);
    const load = await execa(`${bin}/loadgen`, [], { env: { TARGET: `http://127.0.0.1:${port}`, DURATION: `${LOAD_S}s` }, reject: false });
    const loadEnd = Date.now();
    const report = JSON.parse(String(load.stdout).trim().split('\n').pop() ?? '{}') as { requests: number; errors: number; rate: number };
    const loaded = await mark(Math.floor(loadEnd / 1000 / INTERVAL_S) * INTERVAL_S * 1000 + INTERVAL_S * 1000);
    const peak = peakRssKiB(pid);

    const idle = { windows: (idleEnd.at - first.at) / (INTERVAL_S * 1000), cpu: idleEnd.cpu - first.cpu, rows: idleEnd.rows - first.rows };
    const busy = { windows: (loaded.at - idleEnd.at) / (INTERVAL_S * 1000), cpu: loaded.cpu - idleEnd.cpu, rows: loaded.rows - idleEnd.rows, s: (loaded.wall - idleEnd.wall) / 1000 };
    const idlePerWindow = idle.cpu / idle.windows;
    const perKilo = (cpu: number) => `${((cpu / report.requests) * 1e6).toFixed(0)} ms`;

    // The objects of the windows under load.
    const inLoad = (key: string) => {
      const s = /-(\d{8}T\d{6}Z)\./.exec(key)?.[1] ?? '';
      return s >= stamp(idleEnd.at) && s < stamp(loaded.at);
    };
    const logs = (await listAll(s3, 'signal=logs/')).filter((o) => inLoad(o.key));
    const parquet = logs.filter((o) => o.key.endsWith('.parquet')).reduce((n, o) => n + o.size, 0);
    const gz = logs.filter((o) => o.key.endsWith('.json.gz'));
    let gzBytes = 0;
    let rawBytes = 0;
    let logRows = 0;
    for (const o of gz) {
      const raw = gunzipSync(await getBytes(s3, o.key));
      gzBytes += o.size;
      rawBytes += raw.length;
      logRows += raw.toString('utf8').split('\n').filter(Boolean).length;
    }
    const serviceBytes = readFileSync(serviceLog).length;
    const logsLocal = join(dir, 'logs');
    mkdirSync(logsLocal);
    for (const o of logs.filter((o) => o.key.endsWith('.parquet'))) writeFileSync(join(logsLocal, basename(o.key)), await getBytes(s3, o.key));

    // The metrics of the same windows: the series the shipper writes, and their shape per window.
    const metricsObjects = (await listAll(s3, 'signal=metrics/')).filter((o) => inLoad(o.key));
    const local = join(dir, 'metrics');
    mkdirSync(local);
    for (const o of metricsObjects) writeFileSync(join(local, basename(o.key)), await getBytes(s3, o.key));
    const db = await (await DuckDBInstance.create(':memory:')).connect();
    const glob = `'${local}/*.parquet'`;
    const perWindow = (await db.runAndReadAll(`SELECT filename, count(*) AS n, count(DISTINCT (name, labels)) AS s FROM read_parquet(${glob}, filename = true) GROUP BY filename ORDER BY filename`)).getRowObjectsJS();
    const last = perWindow.at(-2) ?? perWindow.at(-1)!; // the last window wholly under load
    const series = (await db.runAndReadAll(`SELECT name, labels, list(value ORDER BY ts) AS values FROM read_parquet(${glob}) GROUP BY name, labels ORDER BY name, labels`)).getRowObjectsJS().map((r) => ({
      name: String(r.name),
      labels: String(r.labels),
      counter: /_(total|count|sum)$/.test(String(r.name)),
      values: (r.values as number[]).map(String),
    }));
    const byColumn = (await db.runAndReadAll(`SELECT path_in_schema AS c, sum(total_compressed_size) AS b FROM parquet_metadata('${logsLocal}/*.parquet') GROUP BY c ORDER BY b DESC`)).getRowObjectsJS();
    const columnBytes = byColumn.reduce((n, r) => n + Number(r.b), 0);
    const metricsBytes = metricsObjects.reduce((n, o) => n + o.size, 0);
    const metricsRows = Number((await db.runAndReadAll(`SELECT count(*) AS n FROM read_parquet(${glob})`)).getRowObjectsJS()[0]!.n);

    const lines = [
      '',
      `Shipper: ${INTERVAL_S} s windows, step 15 s (its default), lag 10 s; Prometheus ${String((await execa('prometheus', ['--version'])).stdout).split('\n')[0]} with the rendered AWS config (30 s scrapes) and rules; ` +
        `the load generator with every default (20 requests/s on 4 connections, 30% GET summary, 5% invalid POSTs, the rest POSTed readings over 50 sensors; ${report.rate.toFixed(1)} requests/s measured, ${report.requests} requests, ${report.errors} errors, over ${LOAD_S} s); states from the kube test bed (2 nodes, 2 pods). ` +
        `Shipper errors: ${loaded.errors}.`,
      '',
      '| shipper | windows | rows | rows/s (wall) | rows per CPU second | CPU | CPU per window | CPU per 1,000 requests |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      `| idle (no load) | ${idle.windows} | ${idle.rows} | ${(idle.rows / ((idleEnd.wall - first.wall) / 1000)).toFixed(1)} | ${(idle.rows / idle.cpu).toFixed(0)} | ${idle.cpu.toFixed(2)} s | ${(idlePerWindow * 1000).toFixed(0)} ms | |`,
      `| under load | ${busy.windows} | ${busy.rows} | ${(busy.rows / busy.s).toFixed(1)} | ${(busy.rows / busy.cpu).toFixed(0)} | ${busy.cpu.toFixed(2)} s | ${((busy.cpu / busy.windows) * 1000).toFixed(0)} ms | ${perKilo(busy.cpu)} (${perKilo(busy.cpu - busy.windows * idlePerWindow)} above idle) |`,
      '',
      `Peak RSS of the shipper (VmHWM): ${(peak / 1024).toFixed(1)} MiB.`,
      '',
      `Logs of the ${busy.windows} windows under load (${logRows} lines; the service's own stdout over the whole run: ${kib(serviceBytes)}):`,
      '',
      '| format | bytes | bytes per line | against Parquet |',
      '| --- | ---: | ---: | ---: |',
      `| Parquet (zstd) | ${kib(parquet)} | ${(parquet / logRows).toFixed(1)} | 1.00 |`,
      `| raw JSON lines, .json.gz | ${kib(gzBytes)} | ${(gzBytes / logRows).toFixed(1)} | ${(gzBytes / parquet).toFixed(2)} |`,
      `| raw JSON lines, uncompressed | ${kib(rawBytes)} | ${(rawBytes / logRows).toFixed(1)} | ${(rawBytes / parquet).toFixed(2)} |`,
      '',
      `The logs Parquet by column (compressed column chunks, ${kib(columnBytes)} of the ${kib(parquet)}): ${byColumn.slice(0, 5).map((r) => `${r.c} ${((Number(r.b) / columnBytes) * 100).toFixed(0)}%`).join(', ')}, the other ${byColumn.length - 5} columns ${((byColumn.slice(5).reduce((n, r) => n + Number(r.b), 0) / columnBytes) * 100).toFixed(0)}%.`,
      '',
      `Metrics of the same windows: ${metricsRows} rows in ${kib(metricsBytes)} of Parquet (${(metricsBytes / metricsRows).toFixed(1)} bytes per row); ` +
        `the last window wholly under load: ${last.s} series, ${last.n} rows (${(Number(last.n) / Number(last.s)).toFixed(2)} samples per series).`,
    ];
    return { lines, series, seriesPerWindow: Number(last.s), rowsPerWindow: Number(last.n), metricsBytesPerRow: metricsBytes / metricsRows };
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  }
}

/** One `hybridctl data query` under GNU time: wall time and peak RSS (its maximum resident set size). */
async function query(sql: string, cacheDir: string, config: string, endpoint: string): Promise<{ ms: number; rssKiB: number; out: string }> {
  const env = awsEnv(endpoint, { HYBRIDCTL_CACHE_DIR: cacheDir });
  const started = performance.now();
  const result = await execa('/usr/bin/time', ['-f', '%M', process.execPath, CLI, 'data', 'query', '-c', config, '-o', 'json', sql], { env, extendEnv: false, reject: false });
  const ms = performance.now() - started;
  if (result.exitCode !== 0) throw new Error(`hybridctl data query failed: ${result.stderr}`);
  return { ms, rssKiB: Number(String(result.stderr).trim().split('\n').pop()), out: String(result.stdout) };
}

async function lakeQueryRun(moto: Moto, s3: S3Client, dir: string, run: ShipperRun, rounds: number): Promise<string[]> {
  await moto.reset();
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  const day = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
  const out = join(dir, 'day');
  await execa('go', ['run', './internal/shipper/testdata/lakeday', '-day', day, '-out', out], { cwd: `${ROOT}service`, input: JSON.stringify(run.series) });
  const files = (await readdir(out, { recursive: true, withFileTypes: true })).filter((f) => f.isFile()).map((f) => join(f.parentPath, f.name));
  let bytes = 0;
  for (let i = 0; i < files.length; i += 16) {
    await Promise.all(files.slice(i, i + 16).map(async (file) => {
      const body = readFileSync(file);
      bytes += body.length;
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: relative(out, file), Body: body }));
    }));
  }
  const config = writeConfig(EXAMPLE);
  const queries = {
    'count(*)': `SELECT count(*) AS n, count(DISTINCT (name, labels)) AS series FROM metrics WHERE dt = DATE '${day}'`,
    'requests per minute (docs/DATA.md)': `WITH s AS (SELECT site, labels, ts, value, value - lag(value) OVER (PARTITION BY site, labels ORDER BY ts) AS delta FROM metrics WHERE name = 'http_requests_total' AND dt = DATE '${day}' AND json_extract_string(labels, '$.route') LIKE '/api/%') SELECT site, time_bucket(INTERVAL 1 MINUTE, ts) AS minute, sum(CASE WHEN delta < 0 THEN value ELSE delta END) AS requests FROM s WHERE delta IS NOT NULL GROUP BY ALL ORDER BY minute, site`,
  };
  const samples: Record<string, { ms: number[]; rss: number[] }> = {};
  let answer = '';
  for (let round = 0; round < rounds; round++) {
    for (const [name, sql] of Object.entries(queries)) {
      const cache = mkdtempSync(join(tmpdir(), 'hybridctl-bench-cache-'));
      const cold = await query(sql, cache, config, moto.endpoint);
      const warm = await query(sql, cache, config, moto.endpoint);
      rmSync(cache, { recursive: true, force: true });
      for (const [kind, s] of [['cold', cold], ['warm', warm]] as const) {
        const entry = (samples[`${name}|${kind}`] ??= { ms: [], rss: [] });
        entry.ms.push(s.ms);
        entry.rss.push(s.rssKiB);
      }
      if (name === 'count(*)') answer = cold.out;
    }
  }
  const counted = (JSON.parse(answer) as { n: number; series: number }[])[0]!;
  return [
    '',
    `Lake query: a synthesized day (${day}) of one site's metrics: the ${run.series.length} series the shipper wrote above (${run.seriesPerWindow} in its last window under load), ` +
      `their samples repeated over 288 windows of 5 min at the 15 s step (20 samples per series per window), written by the shipper's own encoder and uploaded to moto under the documented keys: ` +
      `${files.length} files, ${(bytes / 2 ** 20).toFixed(2)} MiB (${(bytes / counted.n).toFixed(1)} bytes per row; ${counted.n / files.length} rows per file where the real 30 s files above hold ${run.rowsPerWindow}, whose footer makes their ${run.metricsBytesPerRow.toFixed(1)} bytes per row), ` +
      `${counted.n} rows (\`count(*)\` answered ${counted.n} rows, ${counted.series} series). Cold: a fresh HYBRIDCTL_CACHE_DIR, every object fetched from moto; warm: the same query again on the filled cache. Median of ${rounds} rounds, cold and warm alternating; peak RSS is GNU time's maximum resident set size of the CLI process (DuckDB runs in it).`,
    '',
    '| query over the day | cold: wall | cold: peak RSS | warm: wall | warm: peak RSS |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...Object.keys(queries).map((name) => {
      const [c, w] = [samples[`${name}|cold`]!, samples[`${name}|warm`]!];
      return `| ${name} | ${Math.round(median(c.ms))} ms | ${Math.round(median(c.rss) / 1024)} MiB | ${Math.round(median(w.ms))} ms | ${Math.round(median(w.rss) / 1024)} MiB |`;
    }),
  ];
}

export async function telemetryReport(rounds = 3): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'hybridctl-bench-telemetry-'));
  const moto = await startMoto({ tls: false });
  try {
    const s3 = new S3Client({ endpoint: moto.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: HARNESS_KEY, secretAccessKey: 'x' } });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const run = await shipperRun(moto, s3, dir);
    return [...run.lines, ...(await lakeQueryRun(moto, s3, dir, run, rounds))];
  } finally {
    await moto.stop();
    if (!process.env.KEEP_TEST_LOGS) rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${(await telemetryReport(Number(process.env.BENCH_ROUNDS ?? 3))).join('\n')}\n`);
}
