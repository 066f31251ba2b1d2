import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config/load.ts';
import { toYaml } from '../../src/core/yaml.ts';
import { PROMETHEUS_NODE_PORT, prometheusConfig, siteLabel } from '../../src/telemetry/prometheus-config.ts';
import { ruleGroups } from '../../src/telemetry/rules.ts';
import { EXAMPLE } from '../support/config.ts';
import { type LoadReport, startLoadgen } from '../support/loadgen.ts';
import { freePort } from '../support/moto.ts';
import { PROMTOOL, type Prometheus, startPrometheus } from '../support/prometheus.ts';
import { buildServiceBinaries } from '../support/service-bin.ts';

/**
 * The Prometheus configuration and rules hybridctl renders, against real Prometheus: every
 * rendered file passes promtool (built from Prometheus's module: Debian's lacks Kubernetes discovery); the recording rules, evaluated by a real
 * Prometheus scraping the real readings service under the load generator, give the rate the load
 * generator reports; and a second Prometheus, with the on-prem site's remote_write, delivers
 * into the first with its site label.
 */
const config = parseConfig(EXAMPLE);
const rules = { groups: ruleGroups(config) };
const stops: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
});

describe('Prometheus configuration, checked by promtool', () => {
  it('passes promtool check config and check rules for both sites', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hybridctl-promtool-'));
    writeFileSync(join(dir, 'rules.yaml'), toYaml(rules));
    // Each site as up renders it, and each writing into a managed workspace (SigV4).
    const workspace = { endpoint: 'https://aps-workspaces.eu-central-1.amazonaws.com/workspaces/ws-0123/' };
    for (const [name, site, managed] of [['aws', 'aws', undefined], ['onprem', 'onprem', undefined], ['aws-managed', 'aws', workspace], ['onprem-managed', 'onprem', workspace]] as const) {
      const rendered = prometheusConfig(config, site, managed);
      if (managed) expect(rendered.remote_write, name).toEqual([{ url: `${workspace.endpoint}api/v1/remote_write`, sigv4: { region: 'eu-central-1' }, queue_config: { max_samples_per_send: 2000 } }]);
      // The pod mounts the rules at RULES_DIR; here they are beside the file.
      writeFileSync(join(dir, `${name}.yml`), toYaml({ ...rendered, rule_files: [join(dir, 'rules.yaml')] }));
      // Syntax only: the service account's token and CA exist in the pod, not here (the rules are checked below).
      const checked = await execa(PROMTOOL, ['check', 'config', '--syntax-only', join(dir, `${name}.yml`)], { reject: false });
      expect(checked.exitCode, `${checked.stdout}${checked.stderr}`).toBe(0);
      expect(checked.stdout).toContain('SUCCESS');
    }
    const checkedRules = await execa(PROMTOOL, ['check', 'rules', join(dir, 'rules.yaml')], { reject: false });
    expect(checkedRules.exitCode, checkedRules.stdout + checkedRules.stderr).toBe(0);
    expect(checkedRules.stdout).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('remote-writes from on-prem to the AWS Prometheus over the VPN, at the AWS gateway\'s tunnel address', () => {
    expect(prometheusConfig(config, 'onprem').remote_write).toEqual([{ url: `http://10.255.255.253:${PROMETHEUS_NODE_PORT}/api/v1/write`, queue_config: { max_samples_per_send: 2000 } }]);
    expect(prometheusConfig(config, 'aws').remote_write).toBeUndefined();
    expect(prometheusConfig(config, 'onprem').global).toEqual({ scrape_interval: '30s', evaluation_interval: '30s', external_labels: { cluster: 'demo' } });
    const jobs = prometheusConfig(config, 'onprem').scrape_configs as { relabel_configs: unknown[] }[];
    expect(jobs.every((j) => JSON.stringify(j.relabel_configs.at(-1)) === JSON.stringify({ target_label: 'site', replacement: 'onprem' }))).toBe(true);
  });
});

describe('the rules on a real Prometheus, scraping the real service under load', () => {
  let central: Prometheus;
  let remote: Prometheus;
  let load: { stop(): Promise<LoadReport> };
  let started: number;

  beforeAll(async () => {
    const bin = await buildServiceBinaries();
    const port = await freePort();
    const service = execa(`${bin}/readings`, [], { env: { SITE: 'aws', NODE_NAME: 'test-node', LISTEN_ADDR: `127.0.0.1:${port}`, DRAIN_DELAY: '0s' }, reject: false, stdout: 'ignore', stderr: 'ignore' });
    stops.push(async () => {
      service.kill('SIGTERM');
      await service;
    });
    for (let i = 0; i < 100 && !(await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false)); i++) await sleep(100);
    load = await startLoadgen(`http://127.0.0.1:${port}`, 50);
    started = Date.now();
    // The rendered global settings and rules; a static target stands in for Kubernetes discovery, and a 1 s interval for time.
    const scrape = (site: 'aws' | 'onprem'): Record<string, unknown> => {
      const rendered = prometheusConfig(config, site) as { global: Record<string, unknown> };
      const job = { job_name: 'readings', static_configs: [{ targets: [`127.0.0.1:${port}`] }], relabel_configs: [siteLabel(site)] };
      return { ...rendered, global: { ...rendered.global, scrape_interval: '1s', evaluation_interval: '1s' }, scrape_configs: [job] };
    };
    central = await startPrometheus(scrape('aws'), { rules, receiver: true });
    stops.push(() => central.stop());
    const onprem = scrape('onprem');
    onprem.remote_write = (onprem.remote_write as { url: string }[]).map((w) => ({ ...w, url: `${central.url}/api/v1/write` }));
    remote = await startPrometheus(onprem);
    stops.push(() => remote.stop());
  }, 120_000);

  it('records the request rate the load generator sends, within a few percent', async () => {
    // rate(…[1m]) divides by the whole minute: it is the sent rate once a minute of samples is in.
    await sleep(70_000);
    const [recorded] = await central.query('job:http_requests:rate1m{site="aws"}');
    const report = await load.stop();
    const sent = report.requests / ((Date.now() - started) / 1000);
    console.log(`recorded ${recorded?.value.toFixed(2)} req/s against ${sent.toFixed(2)} req/s sent (${report.requests} requests)`);
    expect(recorded?.value).toBeGreaterThan(0);
    expect(Math.abs((recorded?.value ?? 0) - sent) / sent).toBeLessThan(0.03);
    for (const quantile of ['p50', 'p95', 'p99']) expect((await central.query(`job:http_request_duration_seconds:${quantile}_rate1m`))[0]?.value).toBeGreaterThan(0);
    expect((await central.query('job:http_requests_errors:ratio_rate1m{site="aws"}'))[0]?.value).toBe(0);
    // The on-prem site's series arrive by remote write and are kept apart by their label.
    expect((await central.query('job:http_requests:rate1m')).map((r) => r.metric.site).sort()).toEqual(['aws', 'onprem']);
  }, 120_000);

  it('holds the on-prem site\'s series too, delivered by remote write with their site label', async () => {
    const samples = await central.query('http_requests_total{site="onprem",job="readings"}');
    expect(samples.length).toBeGreaterThan(0);
    expect(samples.every((s) => s.metric.cluster === 'demo')).toBe(true);
    expect((await central.query('up{site="onprem"}')).map((s) => s.value)).toEqual([1]);
  });
});
