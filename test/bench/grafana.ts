/**
 * npm run bench, dashboards part (issue 14); runnable alone: `node test/bench/grafana.ts` (after
 * `npm run build`, which generates the dashboards).
 *
 *   JSON      each generated dashboard's size, raw and gzipped, and its panels; the time to build
 *             them all with the Foundation SDK (what `npm run build` adds)
 *   converge  the managed workspace's nodes through the engine, as `up` runs them, against moto
 *             (IAM, EC2) and the recording stand-in for Managed Grafana and Grafana's HTTP API:
 *             the first run, a no-op run (reads only), and a run after one dashboard changed;
 *             wall time (median) and the requests each sent to Managed Grafana and to Grafana
 */
import { readFileSync } from 'node:fs';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../src/core/config/load.ts';
import { execute } from '../../src/core/engine/execute.ts';
import { Observation, planDown, planUp } from '../../src/core/engine/plan.ts';
import { type DashboardFile, dashboardHash, readDashboardFiles } from '../../src/grafana/dashboard-files.ts';
import { buildDashboards } from '../../src/grafana/dashboards/index.ts';
import { AwsClients } from '../../src/providers/aws/clients.ts';
import type { AwsProvider } from '../../src/providers/aws/provider.ts';
import { EXAMPLE } from '../support/config.ts';
import { type RecordedRequest, startGrafanaDouble } from '../support/grafana-double.ts';
import { managedGrafanaStack } from '../support/grafana-stack.ts';
import { startMoto } from '../support/moto.ts';
import { CA_CERT, ensureTestCa } from '../support/tls.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const REGION = 'eu-central-1';
const ZONES = [`${REGION}a`, `${REGION}b`];

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

function jsonReport(files: DashboardFile[]): string[] {
  const lines = ['| Dashboard | Panels | JSON | gzipped |', '|---|---:|---:|---:|'];
  let total = 0;
  let zipped = 0;
  for (const f of files) {
    const model = JSON.parse(f.json) as { title: string; panels: { type: string }[] };
    const gz = gzipSync(f.json).length;
    total += f.json.length;
    zipped += gz;
    lines.push(`| ${model.title} | ${model.panels.filter((p) => p.type !== 'row').length} | ${kib(f.json.length)} | ${kib(gz)} |`);
  }
  lines.push(`| all ${files.length} | | ${kib(total)} | ${kib(zipped)} |`);
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const started = performance.now();
    buildDashboards();
    times.push(performance.now() - started);
  }
  lines.push('', `Building them with the Foundation SDK: ${median(times).toFixed(1)} ms (median of ${ROUNDS}).`);
  return lines;
}

const describeRequests = (requests: RecordedRequest[]) => {
  const grafana = requests.filter((r) => r.path.startsWith('/api/'));
  const control = requests.filter((r) => !r.path.startsWith('/api/'));
  const writes = (list: RecordedRequest[]) => list.filter((r) => r.method !== 'GET').length;
  return `${control.length} (${writes(control)} writes) | ${grafana.length} (${writes(grafana)} writes)`;
};

async function convergeReport(files: DashboardFile[]): Promise<string[]> {
  await ensureTestCa();
  // This process talks TLS to moto and the stand-in, which the test CA signed.
  setDefaultCACertificates([...getCACertificates('default'), readFileSync(CA_CERT, 'utf8')]);
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
  const moto = await startMoto();
  const double = await startGrafanaDouble();
  process.env.AWS_ENDPOINT_URL_GRAFANA = double.url;
  try {
    const provider: AwsProvider = { cluster: 'demo', region: REGION, account: '123456789012', userTags: {}, clients: new AwsClients({ region: REGION, endpoint: moto.endpoint }) };
    const config = parseConfig(EXAMPLE.replace(/^ {2}grafana: incluster .*$/m, '  grafana: managed'));
    const run = async (dashboards: DashboardFile[]) => {
      const from = double.requests.length;
      const started = performance.now();
      const outcome = await execute(await planUp(managedGrafanaStack(config, provider, ZONES, dashboards), new Observation(provider)), provider);
      if (outcome.failed.length > 0) throw new Error(String(outcome.failed[0]?.error));
      return { ms: performance.now() - started, requests: double.requests.slice(from) };
    };
    const lines = ['| Run | Wall time | Managed Grafana requests | Grafana HTTP API requests |', '|---|---:|---:|---:|'];
    const first = await run(files);
    lines.push(`| first (workspace, role, group and content from empty) | ${first.ms.toFixed(0)} ms | ${describeRequests(first.requests)} |`);
    const noops = [];
    for (let i = 0; i < ROUNDS; i++) noops.push(await run(files));
    lines.push(`| no-op (median of ${ROUNDS}) | ${median(noops.map((n) => n.ms)).toFixed(0)} ms | ${describeRequests(noops[0]!.requests)} |`);
    const changed = files.map((d, i) => (i === 0 ? { ...d, json: d.json.replace('"refresh": "30s"', '"refresh": "1m"'), hash: dashboardHash(d.json.replace('"refresh": "30s"', '"refresh": "1m"')) } : d));
    const one = await run(changed);
    lines.push(`| one dashboard changed | ${one.ms.toFixed(0)} ms | ${describeRequests(one.requests)} |`);
    await execute(await planDown(managedGrafanaStack(config, provider, ZONES, files), new Observation(provider)), provider);
    lines.push(
      '',
      'Wall time is the whole engine run for these nodes, moto\'s IAM and EC2 included (the stand-in answers at once; a real workspace takes minutes to become ACTIVE the first time).',
    );
    return lines;
  } finally {
    await double.stop();
    await moto.stop();
  }
}

export async function grafanaReport(): Promise<string[]> {
  const files = await readDashboardFiles();
  return ['## Dashboards (issue 14)', '', ...jsonReport(files), '', ...(await convergeReport(files))];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log((await grafanaReport()).join('\n'));
}
