import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { toYaml } from '../../src/core/yaml.ts';
import { freePort } from './moto.ts';
import { ROOT } from './paths.ts';
import { diesWithTests } from './process.ts';

export const PROMTOOL = `${ROOT}.cache/bin/promtool`;

/**
 * promtool from Prometheus's own module (test/prometheus pins the version): Debian's 2.42 is
 * built without Kubernetes service discovery, so it refuses `kubernetes_sd_configs`.
 */
export async function buildPromtool(): Promise<void> {
  await execa('go', ['build', '-o', PROMTOOL, 'github.com/prometheus/prometheus/cmd/promtool'], { cwd: `${ROOT}test/prometheus`, stdio: 'inherit' });
}

/** Debian's Prometheus on loopback, stopped by process id. */
export interface Prometheus {
  url: string;
  /** An instant query's vector: labels and value. */
  query(expr: string): Promise<{ metric: Record<string, string>; value: number }[]>;
  stop(): Promise<void>;
}

/** Starts `prometheus` with this config (and rule files, written beside it); `receiver`: accept remote writes. */
export async function startPrometheus(config: Record<string, unknown>, options: { rules?: Record<string, unknown>; receiver?: boolean } = {}): Promise<Prometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'hybridctl-prometheus-'));
  if (options.rules) writeFileSync(join(dir, 'rules.yaml'), toYaml(options.rules));
  writeFileSync(join(dir, 'prometheus.yml'), toYaml({ ...config, rule_files: options.rules ? [join(dir, 'rules.yaml')] : [] }));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const args = [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, ...(options.receiver ? ['--web.enable-remote-write-receiver'] : [])];
  const child = execa(...diesWithTests('prometheus', args), { reject: false, stdin: 'ignore', stdout: 'ignore', stderr: { file: join(dir, 'log') } });
  let exited = false;
  void child.then(() => {
    exited = true;
  });
  for (let i = 0; ; i++) {
    const ready = await fetch(`${url}/-/ready`).then((r) => r.ok, () => false);
    if (ready) break;
    if (i > 100 || exited) throw new Error(`prometheus did not start (see ${join(dir, 'log')})`);
    await sleep(100);
  }
  return {
    url,
    async query(expr) {
      const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const body = (await response.json()) as { status: string; error?: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
      if (body.status !== 'success') throw new Error(`query ${expr}: ${body.error}`);
      return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
    },
    async stop() {
      child.kill('SIGTERM');
      await child;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
