import { existsSync } from 'node:fs';
import { execa } from 'execa';
import { MOTO_REQUIREMENT, PYTHON, ROOT, VENV } from './paths.ts';
import { CA_CERT, ensureTestCa } from './tls.ts';

/** Installs moto into a project-local virtualenv when it is missing (pinned; pip's cache keeps re-runs fast). */
async function ensureMoto(): Promise<void> {
  const probe = existsSync(PYTHON) ? await execa(PYTHON, ['-c', 'import moto, moto.server; print(moto.__version__)'], { reject: false }) : undefined;
  if (probe?.exitCode === 0 && `moto[server]==${probe.stdout.trim()}` === MOTO_REQUIREMENT) return;
  if (!existsSync(PYTHON)) await execa('python3', ['-m', 'venv', VENV], { stdio: 'inherit' });
  await execa(PYTHON, ['-m', 'pip', 'install', '--quiet', MOTO_REQUIREMENT], { stdio: 'inherit' });
}

async function ensureBuilt(): Promise<void> {
  if (!existsSync(`${ROOT}dist/cli.js`)) throw new Error('dist/ is missing: run `npm run build` (npm test does it first)');
}

export default async function setup(): Promise<void> {
  await Promise.all([ensureMoto(), ensureBuilt(), ensureTestCa()]);
  // Test workers start after this and inherit it: their SDK clients and fetch trust the test CA.
  process.env.NODE_EXTRA_CA_CERTS = CA_CERT;
}
