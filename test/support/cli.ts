import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Options, type ResultPromise, execa } from 'execa';
import { CLI } from './paths.ts';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** An environment with fake credentials and no trace of the developer's own AWS setup. */
export function awsEnv(endpoint: string | undefined, extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  const home = mkdtempSync(join(tmpdir(), 'hybridctl-home-'));
  return {
    PATH: process.env.PATH,
    HOME: home,
    NO_COLOR: '1',
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_CONFIG_FILE: join(home, 'aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'aws-credentials'),
    AWS_ENDPOINT_URL: endpoint,
    NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS,
    ...extra,
  };
}

/** Starts the real CLI (bin/hybridctl) as a subprocess with the Node that runs the tests. */
export function startCli(args: string[], env: Record<string, string | undefined>, options: Options = {}): ResultPromise {
  return execa(process.execPath, [CLI, ...args], { env, extendEnv: false, reject: false, stdin: 'ignore', ...options });
}

export async function runCli(args: string[], env: Record<string, string | undefined>): Promise<CliResult> {
  const result = await startCli(args, env);
  return { code: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

/** Runs the CLI and SIGKILLs it as soon as its output matches `line`; resolves with what it printed. */
export async function killedAt(line: RegExp, args: string[], env: Record<string, string | undefined>): Promise<string> {
  const child = startCli(args, env, { buffer: false, stdout: 'pipe' });
  let seen = '';
  await new Promise<void>((resolve) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (line.test(seen)) {
        child.kill('SIGKILL');
        resolve();
      }
    });
    void child.then(() => resolve());
  });
  await child;
  return seen;
}

/** Writes a config file to a fresh directory and returns its path. */
export function writeConfig(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'hybridctl-config-'));
  const file = join(dir, 'hybrid.yaml');
  writeFileSync(file, text);
  return file;
}
