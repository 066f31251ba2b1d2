import { mkdtempSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { freePort } from './moto.ts';
import { ROOT } from './paths.ts';
import { diesWithTests } from './process.ts';

export const KUBE_STATE_METRICS = `${ROOT}.cache/bin/kube-state-metrics`;
const CARGO_ROOT = `${ROOT}.cache/cargo`;
const CARGO_TARGET = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'hybridctl-tests', 'cargo-target');
export const WIREGUARD_EXPORTER = `${CARGO_ROOT}/bin/prometheus_wireguard_exporter`;
/** The release of the image the manifests deploy (src/telemetry/manifests.ts). */
const WIREGUARD_EXPORTER_VERSION = '3.6.6';

/**
 * kube-state-metrics from its own module (test/exporters pins the version; the Go build cache
 * keeps later builds quick), and the WireGuard exporter from crates.io at the deployed release
 * (cargo skips it when that version is installed).
 */
export async function buildExporters(): Promise<void> {
  await Promise.all([
    execa('go', ['build', '-o', KUBE_STATE_METRICS, 'k8s.io/kube-state-metrics/v2'], { cwd: `${ROOT}test/exporters`, stdio: 'inherit' }),
    // The build directory outlives the clone (as Go's build cache does), so a rebuild is quick.
    execa('cargo', ['install', '--quiet', '--locked', '--root', CARGO_ROOT, '--target-dir', CARGO_TARGET, '--version', WIREGUARD_EXPORTER_VERSION, 'prometheus_wireguard_exporter'], {
      stdio: 'inherit',
    }),
  ]);
}

/**
 * The WireGuard exporter on loopback, reading these WireGuard devices with `wg show` (wireguard-go's
 * devices in any namespace, through their sockets in /var/run/wireguard); other tests' tunnels on
 * the machine are left out.
 */
export async function startWireguardExporter(interfaces: readonly string[]): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'hybridctl-wgx-'));
  const port = await freePort();
  const args = ['-l', '127.0.0.1', '-p', String(port), '-d', 'true', '-i', ...interfaces];
  return startExporter(WIREGUARD_EXPORTER, args, `http://127.0.0.1:${port}`, join(dir, 'log'));
}

/** kube-state-metrics watching a test bed through its kubeconfig, serving /metrics on loopback; stopped by process id. */
export async function startKubeStateMetrics(kubeconfig: string): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'hybridctl-ksm-'));
  const [port, telemetry] = [await freePort(), await freePort()];
  const args = ['--kubeconfig', kubeconfig, '--host', '127.0.0.1', '--port', String(port), '--telemetry-host', '127.0.0.1', '--telemetry-port', String(telemetry)];
  return startExporter(KUBE_STATE_METRICS, args, `http://127.0.0.1:${port}`, join(dir, 'log'));
}

/** Starts an exporter and waits until its /metrics answers; stopped by process id. */
async function startExporter(command: string, args: string[], url: string, log: string): Promise<{ url: string; stop(): Promise<void> }> {
  const child = execa(...diesWithTests(command, args), { reject: false, stdin: 'ignore', stdout: 'ignore', stderr: { file: log } });
  let exited = false;
  void child.then(() => {
    exited = true;
  });
  for (let i = 0; !(await fetch(`${url}/metrics`).then((r) => r.ok, () => false)); i++) {
    if (i > 150 || exited) throw new Error(`${command} did not start (see ${log})`);
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
