import { existsSync } from 'node:fs';
import { execa } from 'execa';
import { ROOT } from './paths.ts';
import { buildKubeTestbed } from './kube.ts';
import { buildTalosTools } from './talos.ts';
import { Netns } from './netns.ts';
import { buildExporters } from './exporters.ts';
import { buildPromtool } from './prometheus.ts';
import { buildServiceBinaries } from './service-bin.ts';
import { CA_CERT, ensureTestCa } from './tls.ts';

/** moto (pinned) into .tools/venv when missing; the same script CI runs. */
async function ensureTestTools(): Promise<void> {
  await execa(`${ROOT}scripts/ensure-test-tools.sh`, { stdio: 'inherit' });
}

async function ensureBuilt(): Promise<void> {
  if (!existsSync(`${ROOT}dist/cli.js`)) throw new Error('dist/ is missing: run `npm run build` (npm test does it first)');
}

export default async function setup(): Promise<void> {
  await Promise.all([ensureTestTools(), ensureBuilt(), ensureTestCa(), buildTalosTools(), buildKubeTestbed(), buildPromtool(), buildExporters(), buildServiceBinaries()]);
  if (await Netns.available()) await Netns.removeStale();
  // Test workers start after this and inherit it: their SDK clients and fetch trust the test CA.
  process.env.NODE_EXTRA_CA_CERTS = CA_CERT;
}
