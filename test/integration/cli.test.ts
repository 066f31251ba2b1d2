import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, execaSync } from 'execa';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config/load.ts';
import { awsEnv, runCli, writeConfig } from '../support/cli.ts';
import { exampleWith } from '../support/config.ts';
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
    // The status view's Ink and React load for `status` only.
    expect(loaded).not.toContain('/node_modules/ink/');
    expect(loaded).not.toContain('/node_modules/react/');
  });

  it('refuses a bad config before loading the AWS SDK, in every command that reads one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hybridctl-bad-'));
    const config = join(dir, 'hybrid.yaml');
    writeFileSync(config, 'apiVersion: hybridctl.dev/v1alpha1\nkind: HybridCluster\n');
    for (const command of [['plan'], ['up'], ['down', '--yes'], ['vpn', 'check'], ['vpn', 'rotate'], ['image', 'push'], ['state', 'pull'], ['unlock'], ['talos', 'gen', '--out', dir], ['kubeconfig'], ['talosconfig'], ['status', '--once'], ['grafana', 'open']]) {
      const trace = join(dir, `${command.slice(0, 2).join('-')}.txt`);
      const result = await execa(process.execPath, ['--import', `${ROOT}test/support/trace-imports.mjs`, CLI, ...command, '-c', config], {
        env: { ...env, TRACE_IMPORTS_FILE: trace },
        extendEnv: false,
        reject: false,
      });
      expect(result.exitCode, `${command.join(' ')}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toContain('hybrid.yaml has');
      expect(readFileSync(trace, 'utf8'), command.join(' ')).not.toContain('@aws-sdk');
    }
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

describe('-o json', () => {
  it('validate: a summary for a good config; the problems, as JSON on stdout with exit 2, for a bad one', async () => {
    const good = writeConfig(exampleWith());
    const ok = await runCli(['validate', '-c', good, '-o', 'json'], env);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual({ file: good, valid: true, cluster: 'demo', aws: { region: 'eu-central-1', controlPlanes: 3, workers: 2 }, onprem: { nodes: 2 } });

    const secret = `ghp_${'S'.repeat(56)}TAILTAILTAIL`;
    const bad = writeConfig(exampleWith(['cidr: 10.40.0.0/16', 'cidr: 10.40.0.0/33'], ['name: demo', `name: ${secret}`], ['natGateways: single', 'natGateway: single']));
    const result = await runCli(['validate', '-c', bad, '-o', 'json'], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('');
    expect(result.stdout).not.toContain('TAIL');
    expect(JSON.parse(result.stdout)).toEqual({
      file: bad,
      valid: false,
      problems: [
        { path: 'metadata.name', line: 6, value: `${secret.slice(0, 60)}…`, message: expect.stringContaining('is not a valid cluster name') },
        { path: 'aws.vpc.cidr', line: 11, value: '10.40.0.0/33', message: 'is not a CIDR (expected an IPv4 network like 10.40.0.0/16)' },
        { path: 'aws.natGateway', line: 12, message: 'is not a known field (did you mean "natGateways"?)' },
      ],
    });

    const yaml = await runCli(['validate', '-c', writeConfig(exampleWith(['vpc:\n', 'vpc: [\n'])), '-o', 'json'], env);
    expect(yaml.code).toBe(2);
    expect(JSON.parse(yaml.stdout).problems).toEqual([{ path: '(yaml)', line: 12, column: 3, message: expect.stringContaining('not valid YAML: Flow sequence') }]);

    // What is not a config problem stays an error on stderr.
    const missing = await runCli(['validate', '-c', '/nonexistent/hybrid.yaml', '-o', 'json'], env);
    expect(missing.code).toBe(2);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toContain('does not exist');
  });

  it('init, talos gen, talosconfig and kubeconfig each print one document describing what they wrote', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hybridctl-json-'));
    const config = join(dir, 'hybrid.yaml');
    const init = await runCli(['init', '-c', config, '--name', 'lab', '-o', 'json'], env);
    expect(init.code, init.stderr).toBe(0);
    expect(JSON.parse(init.stdout)).toEqual({ file: config, cluster: 'lab' });

    // The example without the VPN: talos gen then needs nothing from the nodes.
    writeFileSync(config, exampleWith(['enabled: true ', 'enabled: false ']));
    const state = join(dir, '.hybridctl', 'demo');
    const out = join(dir, 'gen');
    const gen = await runCli(['talos', 'gen', '--out', out, '-c', config, '-o', 'json'], env);
    expect(gen.code, gen.stderr).toBe(0);
    expect(JSON.parse(gen.stdout)).toEqual({
      out,
      secrets: { file: join(state, 'talos', 'onprem-secrets.yaml'), action: 'generated' },
      nodes: [
        { address: '192.168.10.11', role: 'controlplane', file: join(out, 'onprem-controlplane-192.168.10.11.yaml') },
        { address: '192.168.10.21', role: 'worker', file: join(out, 'onprem-worker-192.168.10.21.yaml') },
      ],
      talosconfig: join(out, 'talosconfig'),
      notes: [],
    });
    const again = JSON.parse((await runCli(['talos', 'gen', '--out', out, '-c', config, '-o', 'json'], env)).stdout);
    expect(again.secrets.action).toBe('reused');

    // Access files as `up` leaves them in the state directory.
    copyFileSync(join(out, 'talosconfig'), join(state, 'talosconfig'));
    writeFileSync(
      join(state, 'kubeconfig-onprem'),
      'apiVersion: v1\nkind: Config\nclusters: [{ name: demo-onprem, cluster: { server: "https://192.168.10.10:6443" } }]\n' +
        'users: [{ name: admin@demo-onprem, user: {} }]\ncontexts: [{ name: admin@demo-onprem, context: { cluster: demo-onprem, user: admin@demo-onprem } }]\ncurrent-context: admin@demo-onprem\n',
    );
    const talos = await runCli(['talosconfig', '--out', join(dir, 'tc'), '-c', config, '-o', 'json'], env);
    expect(talos.code, talos.stderr).toBe(0);
    expect(JSON.parse(talos.stdout)).toEqual({ file: join(dir, 'tc'), merged: false, contexts: ['demo-onprem'] });
    const kube = await runCli(['kubeconfig', '--merge', '-c', config, '-o', 'json'], { ...env, KUBECONFIG: join(dir, 'kube') });
    expect(kube.code, kube.stderr).toBe(0);
    expect(JSON.parse(kube.stdout)).toEqual({ file: join(dir, 'kube'), merged: true, sites: ['onprem'] });
    expect(parse(readFileSync(join(dir, 'kube'), 'utf8'))['current-context']).toBe('admin@demo-onprem');
  });
});

describe('bin/hybridctl on an older system Node', () => {
  const systemNode = '/usr/bin/node';
  const version = existsSync(systemNode) ? execaSyncVersion(systemNode) : undefined;
  const [major = 0, minor = 0] = (version ?? 'v0.0').slice(1).split('.').map(Number);
  const tooOld = major < 22 || (major === 22 && minor < 13);
  const projectNode = `${ROOT}.tools/node/bin/node`;
  const skip = !version
    ? 'there is no /usr/bin/node'
    : !tooOld
      ? `/usr/bin/node is ${version}, new enough: there is nothing to hand over`
      : !existsSync(projectNode)
        ? 'there is no .tools/node (scripts/ensure-node.sh makes it)'
        : '';
  // PATH without the project's Node, the system's first: `#!/usr/bin/env node` finds Node 20.
  const oldPath = { ...env, PATH: '/usr/bin:/bin' };

  it.skipIf(skip !== '')(`hands over to .tools/node by itself${skip ? ` (skipped: ${skip})` : ''}`, async () => {
    const result = await execa(CLI, ['validate', '-c', `${ROOT}examples/hybrid.yaml`], { env: oldPath, extendEnv: false, reject: false });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('is valid: cluster demo');
    // Exit codes come through.
    const bad = await execa(CLI, ['validate', '-c', '/nonexistent.yaml'], { env: oldPath, extendEnv: false, reject: false });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('does not exist');
  });

  it.skipIf(!version || !tooOld)(`says what to do when there is no .tools/node${!version || !tooOld ? ' (skipped: /usr/bin/node is missing or new enough)' : ''}`, async () => {
    const copy = join(mkdtempSync(join(tmpdir(), 'hybridctl-lone-')), 'bin');
    mkdirSync(copy);
    copyFileSync(CLI, join(copy, 'hybridctl'));
    const result = await execa(join(copy, 'hybridctl'), ['--version'], { env: oldPath, extendEnv: false, reject: false });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(`hybridctl needs Node.js 22.13 or newer; this is ${version}.`);
    expect(result.stderr).toContain('run scripts/ensure-node.sh');
  });
});

function execaSyncVersion(node: string): string | undefined {
  try {
    return String(execaSync(node, ['--version']).stdout).trim();
  } catch {
    return undefined;
  }
}

