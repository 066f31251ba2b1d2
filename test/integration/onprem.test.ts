import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { generateBundle } from '../../src/talos/secrets.ts';
import { awsEnv, killedAt, runCli, writeConfig } from '../support/cli.ts';
import { NO_MONITORING, exampleWith } from '../support/config.ts';
import { type FakeNode, type TalosFleet, nodeConfig, startTalosServer, talosCheck } from '../support/talos.ts';

/**
 * The on-prem flow against the fake Talos fleet: nodes on loopback addresses (127.0.20.x, port
 * 50000), speaking Talos's wire format and validating configs with Talos's own code.
 */
const CP1 = '127.0.20.11';
const CP2 = '127.0.20.12';
const CP3 = '127.0.20.13';
const W1 = '127.0.20.21';

let fleet: TalosFleet | undefined;
afterEach(async () => {
  await fleet?.stop();
  fleet = undefined;
});

function onpremConfig(nodes: FakeNode[], extra: [string | RegExp, string][] = []): { config: string; state: string } {
  const inventory = nodes.map((n) => `    - { address: ${n.ip}, role: ${n.role}, installDisk: /dev/sda }`).join('\n');
  const text = exampleWith(
    ['cidr: 192.168.10.0/24', 'cidr: 127.0.20.0/24'],
    ['controlPlaneEndpoint: https://192.168.10.10:6443', `controlPlaneEndpoint: https://${nodes[0]?.ip}:6443`],
    [/ {4}- \{ address: 192\.168\.10\.11.*\n {4}- \{ address: 192\.168\.10\.21.*\n/, `${inventory}\n`],
    ['version: v1.13.9', 'version: v1.13.9\n  timeouts: { reachSeconds: 2, installSeconds: 30, healthSeconds: 30 }'],
    // The clusters only: the service on top is service-deploy.test.ts's, the VPN vpn.test.ts's.
    ['enabled: true ', 'enabled: false '],
    ['port: 51820', 'port: 51820\nservice:\n  enabled: false'],
    NO_MONITORING,
    ...extra,
  );
  const config = writeConfig(text);
  return { config, state: join(config, '..', '.hybridctl', 'demo') };
}

const env = awsEnv(undefined);
const onprem = (config: string, ...args: string[]) => runCli([...args, '--site', 'onprem', '-c', config], env);

const THREE_PLUS_ONE: FakeNode[] = [
  { ip: CP1, role: 'controlplane' },
  { ip: CP2, role: 'controlplane' },
  { ip: CP3, role: 'controlplane' },
  { ip: W1, role: 'worker' },
];

describe('up --site onprem', () => {
  it('configures every host, bootstraps etcd once, and writes talosconfig and kubeconfig', async () => {
    fleet = await startTalosServer(THREE_PLUS_ONE);
    const { config, state } = onpremConfig(THREE_PLUS_ONE);
    const result = await onprem(config, 'up');
    expect(result.code, result.stdout + result.stderr).toBe(0);

    const nodes = await fleet.status();
    expect(nodes.map((n) => [n.ip, n.mode, n.applyCount])).toEqual(THREE_PLUS_ONE.map((n) => [n.ip, 'configured', 1]));
    expect(nodes.reduce((sum, n) => sum + n.bootstrapCount, 0)).toBe(1);
    expect(new Set(nodes.map((n) => n.clusterID)).size).toBe(1);

    for (const file of ['talos/onprem-secrets.yaml', 'talosconfig', 'kubeconfig-onprem']) {
      expect(statSync(join(state, file)).mode & 0o777, file).toBe(0o600);
    }
    expect(statSync(state).mode & 0o777).toBe(0o700);
    const talosconfig = JSON.stringify(JSON.parse(await talosCheck(['talosconfig', join(state, 'talosconfig')])));
    expect(talosconfig).toContain('demo-onprem');
    expect(talosconfig).toContain(CP1);
    const kubeconfig = parse(readFileSync(join(state, 'kubeconfig-onprem'), 'utf8'));
    expect(kubeconfig['current-context']).toBe('admin@demo-onprem');
    expect(kubeconfig.clusters[0].cluster.server).toBe(`https://${CP1}:6443`);
    // What the fake nodes were sent is what `talos gen` writes, and Talos's code accepts it.
    const out = mkdtempSync(join(tmpdir(), 'hybridctl-gen-'));
    expect((await runCli(['talos', 'gen', '--out', out, '-c', config], env)).code).toBe(0);
    for (const node of THREE_PLUS_ONE) expect(await talosCheck(['config', '--mode', 'metal', join(out, `onprem-${node.role}-${node.ip}.yaml`)])).toContain('ok');
  });

  it('changes nothing on a second run, and never bootstraps twice', async () => {
    fleet = await startTalosServer(THREE_PLUS_ONE);
    const { config } = onpremConfig(THREE_PLUS_ONE);
    expect((await onprem(config, 'up')).code).toBe(0);
    const again = await onprem(config, 'up');
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toContain('nothing to do');
    const nodes = await fleet.status();
    expect(nodes.every((n) => n.applyCount === 1)).toBe(true);
    expect(nodes.reduce((sum, n) => sum + n.bootstrapCount, 0)).toBe(1);
  });

  it('applies a changed config to configured nodes only where it differs', async () => {
    fleet = await startTalosServer(THREE_PLUS_ONE);
    const patchDir = mkdtempSync(join(tmpdir(), 'hybridctl-patch-'));
    writeFileSync(join(patchDir, 'workers.yaml'), 'machine:\n  kubelet:\n    extraArgs:\n      max-pods: "150"\n');
    const { config } = onpremConfig(THREE_PLUS_ONE);
    expect((await onprem(config, 'up')).code).toBe(0);
    const patched = onpremConfig(THREE_PLUS_ONE, [['  timeouts:', `  patches:\n    - { file: ${join(patchDir, 'workers.yaml')}, role: worker }\n  timeouts:`]]);
    // Same state directory: same secrets.
    rmSync(join(patched.config, '..', '.hybridctl'), { recursive: true, force: true });
    const stateDir = join(config, '..', '.hybridctl', 'demo');
    const plan = JSON.parse((await runCli(['plan', '--site', 'onprem', '-o', 'json', '--state-dir', stateDir, '-c', patched.config], env)).stdout);
    expect(plan.sites[0].changes.map((c: { action: string; id: string }) => `${c.action} ${c.id}`)).toEqual([`update node-${W1}`]);
    expect((await runCli(['up', '--site', 'onprem', '--state-dir', stateDir, '-c', patched.config], env)).code).toBe(0);
    expect((await fleet.node(W1)).applyCount).toBe(2);
    expect((await fleet.node(CP1)).applyCount).toBe(1);
  });

  it('reports a host whose config Talos rejects, naming the host and quoting Talos', async () => {
    const nodes: FakeNode[] = [{ ip: CP1, role: 'controlplane' }, { ip: W1, role: 'worker' }];
    fleet = await startTalosServer(nodes);
    const patchDir = mkdtempSync(join(tmpdir(), 'hybridctl-patch-'));
    writeFileSync(join(patchDir, 'bad.yaml'), 'machine:\n  install:\n    disk: ""\n    image: ""\n');
    const { config } = onpremConfig(nodes, [['  timeouts:', `  patches:\n    - { file: ${join(patchDir, 'bad.yaml')}, role: worker }\n  timeouts:`]]);
    const result = await onprem(config, 'up');
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`✖ talos-node node-${W1}: Talos node ${W1}: `);
    expect(result.stdout).toMatch(/install/i);
    expect((await fleet.node(W1)).mode).toBe('maintenance');
    expect((await fleet.node(CP1)).mode).toBe('configured');
  });

  it('says clearly when a host does not answer', async () => {
    const nodes: FakeNode[] = [{ ip: CP1, role: 'controlplane' }];
    fleet = await startTalosServer(nodes);
    const { config } = onpremConfig([...nodes, { ip: '127.0.20.99', role: 'worker' }]);
    const result = await onprem(config, 'up');
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('Talos node 127.0.20.99: did not answer on 127.0.20.99:50000 within 2s');
    expect(result.stdout).toContain('is it booted from Talos media and in maintenance mode');
  });

  it('stops at a host configured by another cluster', async () => {
    const foreignBundle = await generateBundle();
    const foreign = join(mkdtempSync(join(tmpdir(), 'hybridctl-foreign-')), 'foreign.yaml');
    writeFileSync(foreign, await nodeConfig({ bundle: foreignBundle, ip: W1, role: 'controlplane', clusterName: 'someone-else' }));
    // A control plane of the other cluster (its workers would wait for one before serving).
    fleet = await startTalosServer([{ ip: CP1, role: 'controlplane' }, { ip: W1, role: 'controlplane', preconfigured: foreign }]);
    const first = onpremConfig([{ ip: CP1, role: 'controlplane' }]);
    expect((await onprem(first.config, 'up')).code).toBe(0);
    // The same cluster and state directory, with the other cluster's node added to the inventory.
    const { config } = onpremConfig([{ ip: CP1, role: 'controlplane' }, { ip: W1, role: 'worker' }]);
    const result = await runCli(['up', '--site', 'onprem', '--state-dir', first.state, '-c', config], env);
    expect(result.code).toBe(1);
    expect(result.stderr + result.stdout).toContain(`Talos node ${W1}: is configured by another cluster`);
    expect((await fleet.node(W1)).applyCount).toBe(0);
    expect((await fleet.node(CP1)).applyCount).toBe(1);
  });

  it('refuses to carry on when the secrets of a configured cluster are gone', async () => {
    const nodes: FakeNode[] = [{ ip: CP1, role: 'controlplane' }];
    fleet = await startTalosServer(nodes);
    const { config, state } = onpremConfig(nodes);
    expect((await onprem(config, 'up')).code).toBe(0);
    rmSync(join(state, 'talos', 'onprem-secrets.yaml'));
    const result = await onprem(config, 'plan');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`Talos node ${CP1} is already configured, and hybridctl has no onprem secrets bundle`);
    expect(result.stderr).toContain('this cluster\'s secrets are lost');
    expect(existsSync(join(state, 'talos', 'onprem-secrets.yaml'))).toBe(false);
  });

  it('trusts a host on first use only: a configured host that comes back unproven gets nothing until --reinstall', async () => {
    const nodes: FakeNode[] = [{ ip: CP1, role: 'controlplane' }, { ip: W1, role: 'worker' }];
    fleet = await startTalosServer(nodes);
    const { config, state } = onpremConfig(nodes);
    const plan = await onprem(config, 'plan');
    expect(plan.stdout).toContain(`no fingerprint pinned for ${CP1}, ${W1}: the first configuration (with the cluster's CA keys) goes to whatever answers`);
    expect((await onprem(config, 'up')).code).toBe(0);
    expect(Object.keys(JSON.parse(readFileSync(join(state, 'talos', 'onprem-configured.json'), 'utf8')).nodes).sort()).toEqual([CP1, W1]);
    expect((await onprem(config, 'plan')).stdout).not.toContain('no fingerprint pinned');

    // Another machine (or the same one, wiped) now answers on the worker's address, in maintenance mode.
    await fetch(`${fleet.statusUrl}/nodes?ip=${W1}`, { method: 'DELETE' });
    const swapped = await fetch(`${fleet.statusUrl}/nodes`, { method: 'POST', body: JSON.stringify({ listen: W1, role: 'worker', platform: 'metal' }) });
    expect(swapped.ok, await swapped.text()).toBe(true);
    const refused = await onprem(config, 'up');
    expect(refused.code).toBe(1);
    const said = refused.stdout + refused.stderr;
    expect(said).toContain(`Talos node ${W1} was configured by hybridctl for this cluster, but it now answers in maintenance mode`);
    expect(said).toContain(`hybridctl up --reinstall ${W1}`);
    expect(await fleet.node(W1)).toMatchObject({ mode: 'maintenance', applyCount: 0 });

    expect((await onprem(config, 'up', '--reinstall', '10.9.9.9')).code).toBe(2);
    const reinstalled = await onprem(config, 'up', '--reinstall', W1);
    expect(reinstalled.code, reinstalled.stdout + reinstalled.stderr).toBe(0);
    expect(await fleet.node(W1)).toMatchObject({ mode: 'configured', applyCount: 1 });
    expect((await fleet.node(CP1)).applyCount).toBe(1);
  });

  it('uses a secrets.yaml the user brings', async () => {
    const nodes: FakeNode[] = [{ ip: CP1, role: 'controlplane' }];
    fleet = await startTalosServer(nodes);
    const secrets = join(mkdtempSync(join(tmpdir(), 'hybridctl-secrets-')), 'secrets.yaml');
    await talosCheck(['gen-secrets', '--out', secrets]);
    const { config } = onpremConfig(nodes, [['  timeouts:', `  secretsFiles: { onprem: ${secrets} }\n  timeouts:`]]);
    expect((await onprem(config, 'up')).code).toBe(0);
    expect((await fleet.node(CP1)).clusterID).toBe(parse(readFileSync(secrets, 'utf8')).cluster.id);
  });

  it('finishes after being killed mid-way, with one bootstrap', async () => {
    fleet = await startTalosServer(THREE_PLUS_ONE, { rebootDelayMs: 1500 });
    const { config } = onpremConfig(THREE_PLUS_ONE);
    await killedAt(/waiting for it to come up configured/, ['up', '--site', 'onprem', '-c', config], env);
    const rerun = await onprem(config, 'up');
    expect(rerun.code, rerun.stdout + rerun.stderr).toBe(0);
    const nodes = await fleet.status();
    expect(nodes.every((n) => n.mode === 'configured')).toBe(true);
    expect(nodes.reduce((sum, n) => sum + n.bootstrapCount, 0)).toBe(1);
  });
});

describe('access files and down', () => {
  it('merges kubeconfig and talosconfig into the usual files, and down resets every host', async () => {
    const nodes: FakeNode[] = [{ ip: CP1, role: 'controlplane' }, { ip: W1, role: 'worker' }];
    fleet = await startTalosServer(nodes);
    const { config, state } = onpremConfig(nodes);
    expect((await onprem(config, 'up')).code).toBe(0);

    const home = mkdtempSync(join(tmpdir(), 'hybridctl-home-'));
    writeFileSync(join(home, 'kube'), 'apiVersion: v1\nkind: Config\ncontexts:\n  - name: keep-me\n    context: { cluster: x, user: y }\n');
    const kube = await runCli(['kubeconfig', '--merge', '-c', config], { ...env, KUBECONFIG: join(home, 'kube') });
    expect(kube.code, kube.stderr).toBe(0);
    const merged = parse(readFileSync(join(home, 'kube'), 'utf8'));
    expect(merged.contexts.map((c: { name: string }) => c.name)).toEqual(['keep-me', 'admin@demo-onprem']);
    expect(statSync(join(home, 'kube')).mode & 0o777).toBe(0o600);
    const talos = await runCli(['talosconfig', '--merge', '-c', config], { ...env, TALOSCONFIG: join(home, 'talos') });
    expect(talos.code, talos.stderr).toBe(0);
    expect(Object.keys(parse(readFileSync(join(home, 'talos'), 'utf8')).contexts)).toEqual(['demo-onprem']);

    const down = await onprem(config, 'down', '--yes');
    expect(down.code, down.stdout + down.stderr).toBe(0);
    expect((await fleet.status()).map((n) => n.mode)).toEqual(['maintenance', 'maintenance']);
    expect(existsSync(join(state, 'talos', 'onprem-secrets.yaml'))).toBe(false);
    expect(existsSync(join(state, 'kubeconfig-onprem'))).toBe(false);
  });
});
