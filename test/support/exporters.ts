import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { freePort } from './moto.ts';
import { ROOT } from './paths.ts';
import { diesWithTests } from './process.ts';

export const KUBE_STATE_METRICS = `${ROOT}.cache/bin/kube-state-metrics`;

/** kube-state-metrics from its own module (test/exporters pins the version); the Go build cache keeps later builds quick. */
export async function buildExporters(): Promise<void> {
  await execa('go', ['build', '-o', KUBE_STATE_METRICS, 'k8s.io/kube-state-metrics/v2'], { cwd: `${ROOT}test/exporters`, stdio: 'inherit' });
}

/** kube-state-metrics watching a test bed through its kubeconfig, serving /metrics on loopback; stopped by process id. */
export async function startKubeStateMetrics(kubeconfig: string): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'hybridctl-ksm-'));
  const [port, telemetry] = [await freePort(), await freePort()];
  const args = ['--kubeconfig', kubeconfig, '--host', '127.0.0.1', '--port', String(port), '--telemetry-host', '127.0.0.1', '--telemetry-port', String(telemetry)];
  const child = execa(...diesWithTests(KUBE_STATE_METRICS, args), { reject: false, stdin: 'ignore', stdout: 'ignore', stderr: { file: join(dir, 'log') } });
  let exited = false;
  void child.then(() => {
    exited = true;
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; !(await fetch(`${url}/metrics`).then((r) => r.ok, () => false)); i++) {
    if (i > 150 || exited) throw new Error(`kube-state-metrics did not start (see ${join(dir, 'log')})`);
    await sleep(200);
  }
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      await child;
    },
  };
}
