import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { execa } from 'execa';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config/load.ts';
import { buildDashboards } from '../../src/grafana/dashboards/index.ts';
import { prometheusConfig, siteLabel } from '../../src/telemetry/prometheus-config.ts';
import { ruleGroups } from '../../src/telemetry/rules.ts';
import { EXAMPLE } from '../support/config.ts';
import { startKubeStateMetrics, startWireguardExporter } from '../support/exporters.ts';
import { Netns } from '../support/netns.ts';
import { renderedTunnel } from '../support/tunnel.ts';
import { latestHandshakes } from '../support/wireguard.ts';
import { type VpnPlan, vpnPlan } from '../../src/vpn/plan.ts';
import { type Testbed, readingsWorkload, startTestbed } from '../support/kube.ts';
import { startLoadgen } from '../support/loadgen.ts';
import { shipperPeersEnv } from '../support/lake.ts';
import { HARNESS_KEY, freePort, startMoto } from '../support/moto.ts';
import { diesWithTests } from '../support/process.ts';
import { type Prometheus, startPrometheus } from '../support/prometheus.ts';
import { SERVICE_BIN } from '../support/service-bin.ts';

/**
 * Every query of every dashboard panel (and annotation), run against Debian's Prometheus with
 * the rendered rules, scraping real peers: the readings service under the load generator,
 * kube-state-metrics (its own release) watching the Kubernetes test bed, the bed's kube-apiserver
 * and etcd, the telemetry shipper writing into moto's S3, and the WireGuard exporter (its own
 * release) reading the tunnel between two gateways brought up, in network namespaces this test
 * makes, with the documents hybridctl renders. A query without data, or whose series lack a
 * label its legend names, fails.
 */
const stops: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
});

interface Target {
  dashboard: string;
  panel: string;
  type: string;
  expr: string;
  legend: string;
}

function targets(): Target[] {
  const all: Target[] = [];
  for (const d of buildDashboards() as unknown as { uid: string; panels: { type: string; title: string; targets?: { expr: string; legendFormat?: string }[] }[]; annotations?: { list?: { name: string; expr?: string; titleFormat?: string }[] } }[]) {
    for (const p of d.panels) for (const t of p.targets ?? []) all.push({ dashboard: d.uid, panel: p.title, type: p.type, expr: t.expr, legend: t.legendFormat ?? '' });
    for (const a of d.annotations?.list ?? []) if (a.expr) all.push({ dashboard: d.uid, panel: `annotation ${a.name}`, type: 'annotation', expr: a.expr, legend: a.titleFormat ?? '' });
  }
  return all;
}

/** The labels a legend (or annotation title) shows: `{{site}} {{phase}}` → site, phase. */
const legendLabels = (legend: string) => [...legend.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]!);

describe('every dashboard panel shows data from real exporters', () => {
  let prometheus: Prometheus;
  let testbed: Testbed;
  let start: number;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hybridctl-dashboards-'));
    stops.push(async () => rmSync(dir, { recursive: true, force: true }));
    const moto = await startMoto({ tls: false });
    stops.push(() => moto.stop());
    const bucket = 'dashboards-lake';
    const s3 = new S3Client({ endpoint: moto.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: HARNESS_KEY, secretAccessKey: 'x' } });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));

    testbed = await startTestbed({ cluster: 'dash', listen: '127.0.0.1', nodes: ['dash-cp-1:controlplane', 'dash-worker-1:worker'], etcdMetrics: true });
    stops.push(() => testbed.stop());
    const manifest = join(dir, 'readings.json');
    writeFileSync(
      manifest,
      JSON.stringify(readingsWorkload()),
    );
    await execa('kubectl', ['--kubeconfig', testbed.kubeconfigFile, 'apply', '-f', manifest]);
    const ksm = await startKubeStateMetrics(testbed.kubeconfigFile);
    stops.push(() => ksm.stop());

    // The API server's metrics need a client certificate: the bed's admin one.
    const kubeconfig = parseYaml(testbed.kubeconfig) as { clusters: { cluster: Record<string, string> }[]; users: { user: Record<string, string> }[] };
    const pem = (b64: string, name: string) => {
      const file = join(dir, name);
      writeFileSync(file, Buffer.from(b64, 'base64'), { mode: 0o600 });
      return file;
    };
    const apiserverTls = {
      ca_file: pem(kubeconfig.clusters[0]!.cluster['certificate-authority-data']!, 'ca.crt'),
      cert_file: pem(kubeconfig.users[0]!.user['client-certificate-data']!, 'admin.crt'),
      key_file: pem(kubeconfig.users[0]!.user['client-key-data']!, 'admin.key'),
    };

    const port = await freePort();
    const serviceLog = join(dir, 'readings.log');
    const service = execa(`${SERVICE_BIN}/readings`, [], {
      env: { SITE: 'aws', NODE_NAME: 'dash-worker-1', LISTEN_ADDR: `127.0.0.1:${port}`, DRAIN_DELAY: '0s' },
      reject: false,
      stdout: { file: serviceLog },
      stderr: 'ignore',
    });
    stops.push(async () => {
      service.kill('SIGTERM');
      await service;
    });
    for (let i = 0; i < 100 && !(await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false)); i++) await sleep(100);

    // The tunnel, as each site's gateway holds it; the exporter reads both ends.
    if (!(await Netns.available())) throw new Error('the VPN panels read a real WireGuard tunnel: run as root, with ip netns');
    const net = new Netns();
    stops.push(() => net.destroy());
    const plan = vpnPlan(parseConfig(EXAMPLE)) as VpnPlan;
    const tunnel = await renderedTunnel(net, plan);
    for (let i = 0; !(await latestHandshakes(net, tunnel.aws, tunnel.names.aws))[0]; i++) {
      if (i > 100) throw new Error('no handshake across the tunnel');
      await sleep(100);
    }
    const wireguard = await startWireguardExporter([tunnel.names.aws, tunnel.names.onprem]);
    stops.push(() => wireguard.stop());
    const interfaceSite = (iface: string, site: string) => ({ source_labels: ['interface'], regex: iface, target_label: 'site', replacement: site });

    const shipperPort = await freePort();
    const config = parseConfig(EXAMPLE);
    const rendered = prometheusConfig(config, 'aws') as { global: Record<string, unknown> };
    const job = (name: string, target: string, extra: Record<string, unknown> = {}) => ({ job_name: name, static_configs: [{ targets: [target] }], relabel_configs: [siteLabel('aws')], ...extra });
    const etcd = new URL(testbed.etcdMetricsUrl!);
    prometheus = await startPrometheus(
      {
        ...rendered,
        global: { ...rendered.global, scrape_interval: '1s', evaluation_interval: '1s' },
        scrape_configs: [
          job('readings', `127.0.0.1:${port}`),
          job('kube-state-metrics', ksm.url.replace('http://', '')),
          job('apiserver', new URL(testbed.server).host, { scheme: 'https', tls_config: apiserverTls }),
          job('etcd', etcd.host),
          job('shipper', `127.0.0.1:${shipperPort}`),
          {
            job_name: 'wireguard',
            static_configs: [{ targets: [wireguard.url.replace('http://', '')] }],
            // In a cluster each gateway's exporter is its site's; here one exporter reads both ends.
            metric_relabel_configs: [interfaceSite(tunnel.names.aws, 'aws'), interfaceSite(tunnel.names.onprem, 'onprem')],
          },
        ],
      },
      { rules: { groups: ruleGroups(config) } },
    );
    stops.push(() => prometheus.stop());

    const shipper = execa(...diesWithTests(`${SERVICE_BIN}/shipper`, []), {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: dir,
        SHIPPER_SITE: 'aws',
        SHIPPER_BUCKET: bucket,
        SHIPPER_INTERVAL: '5s',
        SHIPPER_LAG: '2s',
        SHIPPER_STEP: '1s',
        SHIPPER_PROMETHEUS: prometheus.url,
        SHIPPER_LOG_FILE: serviceLog,
        SHIPPER_STATE_NAMESPACES: 'readings',
        SHIPPER_TALOS_LISTEN: '',
        SHIPPER_SPOOL: join(dir, 'spool'),
        SHIPPER_LISTEN: `127.0.0.1:${shipperPort}`,
        ...shipperPeersEnv(moto.endpoint, testbed.kubeconfigFile),
      },
      reject: false,
      stdin: 'ignore',
      stdout: { file: join(dir, 'shipper.log') },
      stderr: 'ignore',
    });
    stops.push(async () => {
      shipper.kill('SIGTERM');
      await shipper;
    });

    start = Date.now();
    const load = await startLoadgen(`http://127.0.0.1:${port}`, 20);
    stops.push(() => load.stop());
    // Long enough for the one-minute rates, two shipped windows and every recording rule.
    await sleep(40_000);
  }, 240_000);

  it.each(targets().map((t) => [`${t.dashboard}: ${t.panel}: ${t.expr}`, t] as const))('%s', async (_name, target) => {
    const end = Date.now() / 1000;
    const params = new URLSearchParams({ query: target.expr, start: String(start / 1000), end: String(end), step: '2' });
    const body = (await (await fetch(`${prometheus.url}/api/v1/query_range?${params}`)).json()) as { status: string; error?: string; data: { result: { metric: Record<string, string>; values: [number, string][] }[] } };
    expect(body.status, body.error).toBe('success');
    const series = body.data.result;
    expect(series.length, `${target.panel}: no data`).toBeGreaterThan(0);
    for (const s of series) {
      for (const label of legendLabels(target.legend)) expect(s.metric, `${target.panel}: a series without ${label}`).toHaveProperty(label);
      if ('site' in s.metric) expect(['aws', 'onprem']).toContain(s.metric.site);
    }
    if (target.type === 'stat') {
      // A stat panel shows the last value: there must be one now.
      const now = await prometheus.query(target.expr);
      expect(now.length, `${target.panel}: no value now`).toBeGreaterThan(0);
    }
  });
});
