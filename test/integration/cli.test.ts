import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config/load.ts';
import { awsEnv, runCli } from '../support/cli.ts';
import { CLI, ROOT } from '../support/paths.ts';

const env = awsEnv(undefined);

describe('hybridctl --help', () => {
  it('teaches the commands and exits 0 without loading the AWS SDK', async () => {
    const trace = join(mkdtempSync(join(tmpdir(), 'hybridctl-trace-')), 'imports.txt');
    const result = await execa(process.execPath, ['--import', `${ROOT}test/support/trace-imports.mjs`, CLI, '--help'], {
      env: { ...env, TRACE_IMPORTS_FILE: trace },
      extendEnv: false,
      reject: false,
    });
    expect(result.exitCode).toBe(0);
    for (const command of ['init', 'validate', 'plan', 'up', 'down']) expect(result.stdout).toMatch(new RegExp(`\\n  ${command} `));
    expect(result.stdout).toContain('Exit codes');
    const loaded = readFileSync(trace, 'utf8');
    expect(loaded).toContain('/dist/cli.js');
    expect(loaded).not.toContain('@aws-sdk');
    expect(loaded).not.toContain('listr2');
  });

  it('shows a command of its own', async () => {
    const result = await runCli(['down', '--help'], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('--yes');
    expect(result.stdout).toContain('--site');
  });

  it('prints its version', async () => {
    const result = await runCli(['--version'], env);
    expect(result.stdout.trim()).toBe(JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')).version);
  });
});

describe('hybridctl init', () => {
  it('writes a commented starter config that validates, and will not overwrite it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hybridctl-init-'));
    const file = join(dir, 'hybrid.yaml');
    const first = await runCli(['init', '-c', file, '--name', 'lab'], env);
    expect(first.code).toBe(0);
    const text = readFileSync(file, 'utf8');
    expect(text).toMatch(/^# /);
    expect(parseConfig(text).metadata.name).toBe('lab');
    expect((await runCli(['validate', '-c', file], env)).stdout).toContain('is valid: cluster lab');

    const again = await runCli(['init', '-c', file], env);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already exists; pass --force');
    expect((await runCli(['init', '-c', file, '--force'], env)).code).toBe(0);
    expect(parseConfig(readFileSync(file, 'utf8')).metadata.name).toBe('demo');
  });

  it('refuses a bad name and writes nothing', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'hybridctl-init-')), 'hybrid.yaml');
    const result = await runCli(['init', '-c', file, '--name', 'Bad_Name'], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('metadata.name: "Bad_Name" is not a valid cluster name');
    expect(existsSync(file)).toBe(false);
  });
});
