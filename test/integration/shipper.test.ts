import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { type ResultPromise, execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config/load.ts';
import { prometheusConfig, siteLabel } from '../../src/telemetry/prometheus-config.ts';
import { ruleGroups } from '../../src/telemetry/rules.ts';
import { awsEnv, runCli } from '../support/cli.ts';
import { EXAMPLE } from '../support/config.ts';
import { writeCriLog } from '../support/cri-log.ts';
import { type Testbed, podLogs, readingsWorkload, startTestbed } from '../support/kube.ts';
import { type LoadReport, startLoadgen } from '../support/loadgen.ts';
import { shipperPeersEnv } from '../support/lake.ts';
import { HARNESS_KEY, type Moto, freePort, startMoto } from '../support/moto.ts';
import { diesWithTests } from '../support/process.ts';
import { type Prometheus, startPrometheus } from '../support/prometheus.ts';
import { SERVICE_BIN } from '../support/service-bin.ts';

/**
 * The telemetry shipper (service/cmd/shipper) against real peers: moto's S3, Debian's
 * Prometheus scraping the real readings service under the real load generator, the test
 * bed's kube-apiserver for state snapshots, and Talos-format lines over TCP. Every object is
 * read back with DuckDB; the shipper is SIGKILLed mid-run and restarted.
 *
 * The service's logs reach the shipper as in a cluster: from the API server's pod log endpoint,
 * which the test bed's kube-apiserver proxies to the node's kubelet API (kwok's server and the
 * kubelet's CRI log reader). The readings process runs beside the bed, so its stdout is written
 * in the CRI log format as a container runtime would, and named as the log of one of the
 * Deployment's pods (the other replica served nothing and logged nothing).
 */
const INTERVAL_S = 10;
/** The telemetry bucket's name for the example config in moto's account, so `hybridctl data` finds it. */
const BUCKET = 'hctl-demo-telemetry-123456789012-eu-central-1';
const SHIPPER = 'shipper-aws';
const stops: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
});

const windowStart = (ms: number) => Math.floor(ms / 1000 / INTERVAL_S) * INTERVAL_S * 1000;

/** A Talos json_lines line, as Talos's sender marshals a log event (plus an extraTags node). */
function talosLine(msg: string, service: string, at: Date): string {
  return JSON.stringify({ msg, 'talos-level': 'info', 'talos-service': service, 'talos-time': at.toISOString().replace('Z', '123456Z'), node: 'cp-1' });
}

async function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => {
      socket.end();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

async function sendTcp(port: number, lines: string[]): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => socket.end(lines.map((l) => `${l}\n`).join(''), resolve));
    socket.on('error', reject);
  });
}

describe('the shipper, against moto S3, Prometheus, the service under load and the kube test bed', () => {
  let moto: Moto;
  let s3: S3Client;
  let prometheus: Prometheus;
  let testbed: Testbed;
  let dir: string;
  let serviceLog: string;
  let servedPods: { name: string; node: string }[] = [];
  let load: { stop(): Promise<LoadReport> };
  let report: LoadReport;
  let loadStart: number;
  let loadEnd: number;
  let firstWindow: number;
  let talosPort: number;
  let shipperEnv: Record<string, string>;
  let shipper: ResultPromise | undefined;
  let restarts = 0;
  const db = { conn: undefined as unknown as Awaited<ReturnType<Awaited<ReturnType<typeof DuckDBInstance.create>>['connect']>> };

  const startShipper = (): ResultPromise => {
    const child = execa(...diesWithTests(`${SERVICE_BIN}/shipper`, []), {
      env: shipperEnv,
      reject: false,
      stdin: 'ignore',
      stdout: { file: join(dir, `shipper-${restarts++}.log`) },
      stderr: 'pipe',
    });
    return child;
  };

  const watermark = async (): Promise<number> => {
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `_shipper/site=aws/${SHIPPER}.json` })).catch(() => undefined);
    if (!got?.Body) return 0;
    const body = JSON.parse(await got.Body.transformToString()) as { schema_version: number; shipped_until: string };
    expect(body.schema_version).toBe(1);
    return Date.parse(body.shipped_until);
  };

  const waitForWatermark = async (until: number, ms: number): Promise<void> => {
    const deadline = Date.now() + ms;
    while ((await watermark()) < until) {
      if (Date.now() > deadline) throw new Error(`the watermark did not reach ${new Date(until).toISOString()} (logs in ${dir})`);
      await sleep(500);
    }
  };

  const query = async (sql: string): Promise<Record<string, unknown>[]> => (await db.conn.runAndReadAll(sql)).getRowObjectsJS();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hybridctl-shipper-'));
    serviceLog = join(dir, 'readings.log');
    moto = await startMoto({ tls: false });
    stops.push(() => moto.stop());
    s3 = new S3Client({ endpoint: moto.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: HARNESS_KEY, secretAccessKey: 'x' } });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));

    const [bed] = await Promise.all([startTestbed({ cluster: 'lake', listen: '127.0.0.1', nodes: ['lake-cp-1:controlplane', 'lake-worker-1:worker'], kubeletApi: true })]);
    testbed = bed;
    stops.push(() => testbed.stop());
    const manifest = join(dir, 'readings.yaml');
    writeFileSync(
      manifest,
      JSON.stringify(readingsWorkload()),
    );
    const kubectl = (...args: string[]) => execa('kubectl', ['--kubeconfig', testbed.kubeconfigFile, ...args]);
    await kubectl('apply', '-f', manifest);
    for (let i = 0; ; i++) {
      const pods = JSON.parse((await kubectl('get', 'pods', '-n', 'readings', '-o', 'json')).stdout) as { items: { metadata: { name: string }; spec: { nodeName?: string } }[] };
      servedPods = pods.items.filter((p) => p.spec.nodeName).map((p) => ({ name: p.metadata.name, node: p.spec.nodeName! }));
      if (servedPods.length === 2) break;
      if (i > 100) throw new Error(`the readings pods were not scheduled: ${JSON.stringify(pods.items)}`);
      await sleep(200);
    }
    const idleLog = join(dir, 'idle.log');
    writeFileSync(idleLog, '');
    const logObjects = join(dir, 'logs.json');
    writeFileSync(logObjects, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [podLogs('readings', servedPods[0]!.name, 'readings', serviceLog), podLogs('readings', servedPods[1]!.name, 'readings', idleLog)] }));
    await kubectl('apply', '-f', logObjects);

    const port = await freePort();
    const service = execa(`${SERVICE_BIN}/readings`, [], {
      env: { SITE: 'aws', NODE_NAME: servedPods[0]!.node, LISTEN_ADDR: `127.0.0.1:${port}`, DRAIN_DELAY: '0s' },
      reject: false,
      stdout: 'pipe',
      stderr: 'ignore',
    });
    const serviceLogWritten = writeCriLog(service.stdout, serviceLog);
    stops.push(async () => {
      service.kill('SIGTERM');
      await service;
      await serviceLogWritten;
    });
    for (let i = 0; i < 100 && !(await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false)); i++) await sleep(100);

    const config = parseConfig(EXAMPLE);
    const rendered = prometheusConfig(config, 'aws') as { global: Record<string, unknown> };
    prometheus = await startPrometheus(
      {
        ...rendered,
        global: { ...rendered.global, scrape_interval: '1s', evaluation_interval: '1s' },
        scrape_configs: [{ job_name: 'readings', static_configs: [{ targets: [`127.0.0.1:${port}`] }], relabel_configs: [siteLabel('aws')] }],
      },
      { rules: { groups: ruleGroups(config) } },
    );
    stops.push(() => prometheus.stop());

    talosPort = await freePort();
    const metricsPort = await freePort();
    shipperEnv = {
      PATH: process.env.PATH ?? '',
      HOME: dir,
      SHIPPER_SITE: 'aws',
      SHIPPER_BUCKET: BUCKET,
      SHIPPER_INTERVAL: `${INTERVAL_S}s`,
      SHIPPER_LAG: '3s',
      SHIPPER_STEP: '1s',
      SHIPPER_PROMETHEUS: prometheus.url,
      SHIPPER_STATE_NAMESPACES: 'readings,kube-system',
      SHIPPER_TALOS_LISTEN: `127.0.0.1:${talosPort}`,
      SHIPPER_SPOOL: join(dir, 'spool'),
      SHIPPER_LISTEN: `127.0.0.1:${metricsPort}`,
      ...shipperPeersEnv(moto.endpoint, testbed.kubeconfigFile),
    };
    shipper = startShipper();
    stops.push(async () => {
      shipper?.kill('SIGTERM');
      await shipper;
    });
    // The first run ships the window before the one it starts in: the load begins after that window's end.
    await waitForWatermark(1, 30_000);
    firstWindow = (await watermark()) - INTERVAL_S * 1000;
    expect((await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((r) => r.text())).match(/shipper_windows_shipped_total \d+/)?.[0]).toMatch(/[1-9]/);
    expect(await fetch(`http://127.0.0.1:${metricsPort}/healthz`).then((r) => r.status)).toBe(200);

    loadStart = Date.now();
    load = await startLoadgen(`http://127.0.0.1:${port}`, 40);
    await sleep(8_000);
    await sendTcp(talosPort, [talosLine('[talos] service[etcd](Running): Health check successful', 'etcd', new Date()), talosLine('spooled before the kill', 'machined', new Date())]);
    await sleep(500);
    // Killed without warning, mid-run; down for over a window; started again on the same spool.
    shipper.kill('SIGKILL');
    await shipper;
    const before = await watermark();
    await sleep(INTERVAL_S * 1000 + 2_000);
    expect(await watermark()).toBe(before);
    shipper = startShipper();
    for (let i = 0; i < 50 && !(await listening(talosPort)); i++) await sleep(200);
    await sendTcp(talosPort, [talosLine('after the restart', 'apid', new Date())]);
    await sleep(10_000);
    report = await load.stop();
    loadEnd = Date.now();
    // Every window the load touched, and the one after (the counter's last value), shipped.
    await waitForWatermark(windowStart(loadEnd) + 2 * INTERVAL_S * 1000, 40_000);

    const local = join(dir, 'lake');
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, ContinuationToken: token }));
      for (const object of page.Contents ?? []) {
        const body = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: object.Key }));
        const path = join(local, object.Key ?? '');
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, await body.Body!.transformToByteArray());
      }
      token = page.NextContinuationToken;
    } while (token);
    const instance = await DuckDBInstance.create(':memory:');
    db.conn = await instance.connect();
    await db.conn.run(`SET TimeZone = 'UTC'`);
    for (const signal of ['metrics', 'logs', 'states']) {
      await db.conn.run(`CREATE VIEW ${signal} AS SELECT * FROM read_parquet('${local}/signal=${signal}/**/*.parquet', hive_partitioning = true, filename = true)`);
    }
    stops.push(async () => {
      if (!process.env.KEEP_TEST_LOGS) rmSync(dir, { recursive: true, force: true });
    });
  }, 240_000);

  it('writes every window\'s objects under the documented keys, with the schema version in every file', async () => {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, ContinuationToken: token }));
      keys.push(...(page.Contents ?? []).map((o) => o.Key ?? ''));
      token = page.NextContinuationToken;
    } while (token);
    const pattern = /^signal=(metrics|logs|states)\/site=aws\/dt=(\d{4}-\d{2}-\d{2})\/hour=(\d{2})\/shipper-aws-(\d{8}T\d{6}Z)\.(parquet|json\.gz)$/;
    for (const key of keys.filter((k) => !k.startsWith('_shipper/'))) {
      const m = pattern.exec(key);
      expect(m, key).not.toBeNull();
      const stamp = m![4]!;
      expect(`${m![2]}T${m![3]}`).toBe(`${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(9, 11)}`);
      if (m![5] === 'json.gz') expect(m![1]).toBe('logs');
    }
    // No window missing from the first to the watermark, for metrics and logs (raw and Parquet), across the kill.
    const until = await watermark();
    const expected: string[] = [];
    for (let t = firstWindow; t < until; t += INTERVAL_S * 1000) expected.push(new Date(t).toISOString().replace(/[-:]/g, '').replace(/\.\d+/, ''));
    const stamps = (signal: string, ext: string) => keys.filter((k) => k.startsWith(`signal=${signal}/`) && k.endsWith(ext)).map((k) => /-(\d{8}T\d{6}Z)\./.exec(k)![1]).sort();
    expect(expected.length).toBeGreaterThanOrEqual(5);
    expect(stamps('metrics', '.parquet').slice(0, expected.length)).toEqual(expected);
    expect(stamps('logs', '.parquet').slice(0, expected.length)).toEqual(expected);
    expect(stamps('logs', '.json.gz').slice(0, expected.length)).toEqual(expected);
    expect(stamps('states', '.parquet').length).toBeGreaterThan(0);
    const versions = await query(`SELECT DISTINCT decode(value) AS v FROM parquet_kv_metadata('${join(dir, 'lake')}/signal=*/**/*.parquet') WHERE decode(key) = 'hybridctl.schema_version'`);
    expect(versions).toEqual([{ v: '1' }]);
    const files = await query(`SELECT count(DISTINCT file_name) AS n FROM parquet_kv_metadata('${join(dir, 'lake')}/signal=*/**/*.parquet')`);
    expect(Number(files[0]!.n)).toBe(keys.filter((k) => k.endsWith('.parquet')).length);
  });

  it('counts in the metrics table the requests the load generator sent, within 1 %', async () => {
    // Per series: max − min, plus min when the series starts inside the period (the contract's rule; the
    // load's series are born with its first request, after the first window began).
    const [row] = await query(`
      WITH s AS (
        SELECT labels, max(value) AS hi, min(value) AS lo, min(ts) AS first FROM metrics
        WHERE name = 'http_requests_total' AND site = 'aws' AND json_extract_string(labels, '$.route') LIKE '/api/%'
        GROUP BY labels)
      SELECT sum(hi - lo + CASE WHEN first > TIMESTAMP '${new Date(firstWindow).toISOString().replace('T', ' ').replace('Z', '')}' THEN lo ELSE 0 END) AS requests FROM s`);
    const requests = Number(row!.requests);
    console.log(`metrics: ${requests} requests; load generator: ${report.requests} (${report.errors} errors)`);
    expect(report.requests).toBeGreaterThan(500);
    expect(Math.abs(requests - report.requests) / report.requests).toBeLessThan(0.01);
    // Samples stay inside their window: none at a window's end (it is the next window's first).
    const misplaced = await query(`SELECT count(*) AS n FROM metrics WHERE NOT filename LIKE '%' || strftime(time_bucket(INTERVAL ${INTERVAL_S} SECOND, ts::TIMESTAMP), '%Y%m%dT%H%M%SZ') || '.parquet'`);
    expect(Number(misplaced[0]!.n)).toBe(0);
    const rules = await query(`SELECT count(*) AS n FROM metrics WHERE name LIKE 'job:%'`);
    expect(Number(rules[0]!.n)).toBeGreaterThan(0);
  });

  it('counts in the logs table the requests the load generator sent, within 1 %', async () => {
    const [row] = await query(`SELECT count(*) AS n FROM logs WHERE source = 'service' AND msg = 'request' AND route LIKE '/api/%'`);
    const lines = Number(row!.n);
    console.log(`logs: ${lines} request lines; load generator: ${report.requests}`);
    expect(Math.abs(lines - report.requests) / report.requests).toBeLessThan(0.01);
    // Every service line came through the pod log endpoint, from the pod whose log it is.
    const origins = await query(`SELECT DISTINCT pod, node, namespace, container FROM logs WHERE source = 'service'`);
    expect(origins).toEqual([{ pod: servedPods[0]!.name, node: servedPods[0]!.node, namespace: 'readings', container: 'readings' }]);
    const [typed] = await query(`SELECT count(*) FILTER (WHERE status IS NULL OR duration_ms IS NULL OR request_id IS NULL) AS untyped, epoch_ms(min(ts)) AS first FROM logs WHERE msg = 'request' AND route LIKE '/api/%'`);
    expect(Number(typed!.untyped)).toBe(0);
    expect(Number(typed!.first)).toBeGreaterThanOrEqual(loadStart - 1000);
    // The raw lines beside the Parquet: the same rows, the service's lines verbatim.
    const raw = (await query(`SELECT filename FROM logs GROUP BY filename`)).map((r) => String(r.filename).replace(/\.parquet$/, '.json.gz'));
    let rawLines = 0;
    for (const file of raw) rawLines += gunzipSync(readFileSync(file)).toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { line: string }).length;
    const [all] = await query(`SELECT count(*) AS n FROM logs`);
    expect(rawLines).toBe(Number(all!.n));
  });

  it('has no duplicate rows after the kill, by the documented keys (nor at all)', async () => {
    const [m] = await query(`SELECT count(*) AS n, count(DISTINCT (site, name, labels, ts)) AS keys FROM metrics`);
    expect(Number(m!.n)).toBeGreaterThan(0);
    expect(Number(m!.keys)).toBe(Number(m!.n));
    const [l] = await query(`SELECT count(*) AS n, count(DISTINCT id) AS keys FROM logs`);
    expect(Number(l!.keys)).toBe(Number(l!.n));
    const [s] = await query(`SELECT count(*) AS n, count(DISTINCT (site, ts, kind, namespace, name)) AS keys FROM states`);
    expect(Number(s!.keys)).toBe(Number(s!.n));
    expect(restarts).toBe(2);
  });

  it('snapshots the test bed\'s nodes, pods and deployments', async () => {
    const latest = await query(`SELECT kind, namespace, name, status, ready, detail FROM states WHERE ts = (SELECT max(ts) FROM states) ORDER BY kind, name`);
    const nodes = latest.filter((r) => r.kind === 'Node');
    expect(nodes.map((n) => n.name)).toEqual(['lake-cp-1', 'lake-worker-1']);
    expect(nodes.every((n) => n.ready === true && n.status === 'Ready')).toBe(true);
    const deployment = latest.find((r) => r.kind === 'Deployment' && r.name === 'readings');
    expect(deployment?.namespace).toBe('readings');
    expect(JSON.parse(String(deployment?.detail))).toMatchObject({ desired: 2 });
    const pods = latest.filter((r) => r.kind === 'Pod' && r.namespace === 'readings');
    expect(pods).toHaveLength(2);
    expect(pods.every((p) => typeof JSON.parse(String(p.detail)).node === 'string')).toBe(true);
  });

  it('answers the example queries of docs/DATA.md', async () => {
    const examples = [...readFileSync(new URL('../../docs/DATA.md', import.meta.url), 'utf8').matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(examples.length).toBeGreaterThanOrEqual(4);
    for (const sql of examples) await expect(query(sql), sql).resolves.toBeInstanceOf(Array);
    const [errors] = await query(`SELECT sum(requests) AS n FROM (${examples[1]!.replace(/;\s*$/, '')})`);
    expect(Math.abs(Number(errors!.n) - report.requests) / report.requests).toBeLessThan(0.01);
  });

  it('hybridctl data query answers the same counts from the lake, from the metrics and the logs tables', async () => {
    const config = join(dir, 'hybrid.yaml');
    writeFileSync(config, EXAMPLE);
    const env = awsEnv(moto.endpoint, { HYBRIDCTL_CACHE_DIR: join(dir, 'cli-cache') });
    const ask = async (sql: string) => {
      const result = await runCli(['data', 'query', '-c', config, '-o', 'json', sql], env);
      expect(result.code, result.stderr).toBe(0);
      return Number((JSON.parse(result.stdout) as { n: number | string }[])[0]?.n);
    };
    const fromLogs = await ask(`SELECT count(*) AS n FROM logs WHERE source = 'service' AND msg = 'request' AND route LIKE '/api/%'`);
    const fromMetrics = await ask(`
      WITH s AS (
        SELECT labels, max(value) AS hi, min(value) AS lo, min(ts) AS first FROM metrics
        WHERE name = 'http_requests_total' AND site = 'aws' AND json_extract_string(labels, '$.route') LIKE '/api/%'
        GROUP BY labels)
      SELECT sum(hi - lo + CASE WHEN first > TIMESTAMP '${new Date(firstWindow).toISOString().replace('T', ' ').replace('Z', '')}' THEN lo ELSE 0 END) AS n FROM s`);
    console.log(`hybridctl data query: ${fromLogs} from logs, ${fromMetrics} from metrics; load generator: ${report.requests}`);
    for (const n of [fromLogs, fromMetrics]) expect(Math.abs(n - report.requests) / report.requests).toBeLessThan(0.01);
  });

  it('ships the lines Talos sent to its receiver, including those spooled before the kill', async () => {
    const talos = await query(`SELECT node, container, level, msg FROM logs WHERE source = 'talos' ORDER BY ts, msg`);
    expect(talos).toEqual([
      { node: 'cp-1', container: 'etcd', level: 'info', msg: '[talos] service[etcd](Running): Health check successful' },
      { node: 'cp-1', container: 'machined', level: 'info', msg: 'spooled before the kill' },
      { node: 'cp-1', container: 'apid', level: 'info', msg: 'after the restart' },
    ]);
  });

  it('stops cleanly on SIGTERM; with --once, ships the windows due since and exits', async () => {
    shipper!.kill('SIGTERM');
    expect((await shipper!).exitCode).toBe(0);
    shipper = undefined;
    const before = await watermark();
    // The next window is due at its end plus the lag.
    await sleep(Math.max(0, before + INTERVAL_S * 1000 + 3_000 - Date.now()) + 200);
    const once = await execa(`${SERVICE_BIN}/shipper`, ['--once'], { env: { ...shipperEnv, SHIPPER_TALOS_LISTEN: '', SHIPPER_LISTEN: '' }, reject: false });
    expect(once.exitCode, `${once.stdout}${once.stderr}`).toBe(0);
    const after = await watermark();
    expect(after).toBeGreaterThan(before);
    expect(after).toBeLessThanOrEqual(Date.now() - 3_000);
    expect(once.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { msg: string }).filter((l) => l.msg === 'window shipped').length).toBe((after - before) / (INTERVAL_S * 1000));
    expect(once.stdout).not.toContain('shipper-secret');
  });
});
