import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlias, isNode, parse, parseAllDocuments, visit } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { mergeKubeconfigs } from '../../src/kube/kubeconfig-file.ts';
import { pendingChanges } from '../../src/talos/kinds/node.ts';
import { renameContext } from '../../src/talos/kinds/kubeconfig.ts';
import { encodeConfig, machineConfig, type MachineConfigInput } from '../../src/talos/machine-config.ts';
import { applyPatches, loadPatch, parsePatch } from '../../src/talos/patches.ts';
import { describeKey, parsePrivateKey, publicKeyMatches } from '../../src/talos/pki.ts';
import { type SecretsBundle, bundleToYaml, generateBundle, parseBundle } from '../../src/talos/secrets.ts';
import { adminCertificate, contextUsable, mergeTalosconfig, readContext, removeContexts } from '../../src/talos/talosconfig.ts';
import { talosCheck } from '../support/talos.ts';

let bundle: SecretsBundle;
beforeAll(async () => {
  bundle = await generateBundle();
});

const input = (overrides: Partial<MachineConfigInput> = {}): MachineConfigInput => ({
  bundle,
  clusterName: 'demo-onprem',
  endpoint: 'https://192.168.10.10:6443',
  role: 'controlplane',
  platform: 'metal',
  talosVersion: 'v1.13.9',
  kubernetesVersion: '1.36.3',
  podSubnet: '10.245.0.0/16',
  serviceSubnet: '10.112.0.0/12',
  certSANs: ['192.168.10.10', '192.168.10.11'],
  installDisk: '/dev/sda',
  ...overrides,
});

describe('secrets bundle', () => {
  it('has Talos key types, subjects and CA flags', () => {
    const types = Object.fromEntries(
      (['os', 'etcd', 'k8s', 'k8saggregator'] as const).map((name) => [name, describeKey(parsePrivateKey(bundle.certs[name].key))]),
    );
    expect(types).toEqual({ os: 'Ed25519', etcd: 'ECDSA-P256', k8s: 'ECDSA-P256', k8saggregator: 'ECDSA-P256' });
    expect(describeKey(parsePrivateKey(bundle.certs.k8sserviceaccount.key))).toBe('RSA-4096');
    expect(bundle.certs.os.key).toContain('BEGIN ED25519 PRIVATE KEY');
    expect(bundle.certs.etcd.key).toContain('BEGIN EC PRIVATE KEY');
    expect(bundle.certs.k8sserviceaccount.key).toContain('BEGIN RSA PRIVATE KEY');
    const os = new X509Certificate(bundle.certs.os.crt);
    expect(os.ca).toBe(true);
    expect(os.subject).toBe('O=talos');
    expect(new X509Certificate(bundle.certs.k8saggregator.crt).subject).toBe('CN=front-proxy');
    const years = (new Date(os.validTo).getTime() - new Date(os.validFrom).getTime()) / (365 * 24 * 3600e3);
    expect(Math.round(years)).toBe(10);
    for (const name of ['os', 'etcd', 'k8s', 'k8saggregator'] as const) expect(publicKeyMatches(bundle.certs[name].crt, bundle.certs[name].key)).toBe(true);
  });

  it('has tokens and ids in Talos formats', () => {
    expect(bundle.secrets.bootstraptoken).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    expect(bundle.trustdinfo.token).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    expect(Buffer.from(bundle.cluster.id, 'base64url')).toHaveLength(32);
    expect(bundle.cluster.id).toHaveLength(44);
    expect(Buffer.from(bundle.secrets.secretboxencryptionsecret, 'base64')).toHaveLength(32);
  });

  it('round-trips through the talosctl YAML layout', () => {
    const yaml = bundleToYaml(bundle);
    const raw = parse(yaml);
    expect(Object.keys(raw)).toEqual(['cluster', 'secrets', 'trustdinfo', 'certs']);
    expect(Buffer.from(raw.certs.os.crt, 'base64').toString()).toContain('BEGIN CERTIFICATE');
    expect(parseBundle(yaml, 'test')).toEqual(bundle);
  });

  it('names what is missing or wrong in a secrets.yaml', () => {
    const raw = parse(bundleToYaml(bundle));
    delete raw.trustdinfo;
    raw.certs.os.key = raw.certs.etcd.key;
    expect(() => parseBundle(JSON.stringify(raw), 'mine.yaml')).toThrow(/mine\.yaml is not a usable Talos secrets bundle: trustdinfo\.token is missing; certs\.os\.key is ECDSA-P256, expected Ed25519/);
  });
});

describe('machine configs', () => {
  it('makes control-plane and worker documents as Talos 1.13 generates them', () => {
    const [cp, hostname] = machineConfig(input({ hostname: 'cp-1' })) as [Record<string, any>, Record<string, any>];
    expect(cp.machine.type).toBe('controlplane');
    expect(cp.machine.install).toEqual({ disk: '/dev/sda', image: 'ghcr.io/siderolabs/installer:v1.13.9', wipe: false, grubUseUKICmdline: true });
    expect(cp.cluster.network).toEqual({ dnsDomain: 'cluster.local', podSubnets: ['10.245.0.0/16'], serviceSubnets: ['10.112.0.0/12'] });
    expect(cp.cluster.apiServer.certSANs).toEqual(['192.168.10.10', '192.168.10.11']);
    expect(hostname).toEqual({ apiVersion: 'v1alpha1', kind: 'HostnameConfig', hostname: 'cp-1' });

    const [worker] = machineConfig(input({ role: 'worker' })) as [Record<string, any>];
    expect(worker.machine.ca.key).toBe('');
    expect(worker.cluster.ca.key).toBe('');
    for (const secret of ['secretboxEncryptionSecret', 'serviceAccount', 'aggregatorCA', 'etcd', 'apiServer']) expect(worker.cluster).not.toHaveProperty(secret);
  });

  it('leaves out the install section for the cloud and stays well under the 16 KiB user-data limit', () => {
    const [cloud] = machineConfig(input({ platform: 'cloud' })) as [Record<string, any>];
    expect(cloud.machine).not.toHaveProperty('install');
    expect(Buffer.byteLength(encodeConfig(machineConfig(input({ platform: 'cloud' }))))).toBeLessThan(12 * 1024);
  });

  it('are written without YAML anchors or aliases, even where one list is used twice, and Talos loads them', async () => {
    const documents = machineConfig(input()) as [Record<string, any>, ...Record<string, unknown>[]];
    // The machine's and the API server's certSANs are one array in memory.
    expect(documents[0].machine.certSANs).toBe(documents[0].cluster.apiServer.certSANs);
    const text = encodeConfig(documents);
    const found: string[] = [];
    for (const doc of parseAllDocuments(text)) {
      visit(doc, (_key, node) => {
        if (isAlias(node)) found.push(`alias *${node.source}`);
        else if (isNode(node) && node.anchor) found.push(`anchor &${node.anchor}`);
      });
    }
    expect(found).toEqual([]);
    expect(text).not.toMatch(/[&*]a\d/);
    // What an anchor would do: editing one list on the node would edit the other.
    const loaded = parse(text.split('---\n')[0]!) as Record<string, any>;
    loaded.machine.certSANs.push('10.0.0.99');
    expect(loaded.cluster.apiServer.certSANs).toEqual(['192.168.10.10', '192.168.10.11']);
    // Talos's strict loader accepts it.
    const file = join(mkdtempSync(join(tmpdir(), 'hybridctl-noalias-')), 'controlplane.yaml');
    writeFileSync(file, text);
    expect(await talosCheck(['config', '--mode', 'metal', file])).toContain(`ok ${file}`);
  });
});

describe('patches', () => {
  const base = () => machineConfig(input());

  it('refuses at once a patch that is a FIFO, a device or a directory, as it refuses such a config', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hybridctl-patch-'));
    const fifo = join(dir, 'patch.yaml');
    execFileSync('mkfifo', [fifo]);
    await expect(loadPatch(fifo)).rejects.toThrow(`patch ${fifo} is a named pipe (FIFO), not a regular file`);
    await expect(loadPatch('/dev/zero')).rejects.toThrow('patch /dev/zero is a character device, not a regular file');
    await expect(loadPatch(dir)).rejects.toThrow(`patch ${dir} is a directory, not a regular file`);
  });

  it('merge maps, append lists, replace scalars and delete with $patch', () => {
    const patch = parsePatch(
      'machine:\n  certSANs: [extra.example.com]\n  kubelet:\n    extraArgs: { max-pods: "150" }\n  install:\n    wipe: true\ncluster:\n  discovery:\n    $patch: delete\n',
      'p.yaml',
    );
    const [doc] = applyPatches(base(), [patch]) as [Record<string, any>];
    expect(doc.machine.certSANs).toEqual(['192.168.10.10', '192.168.10.11', 'extra.example.com']);
    expect(doc.machine.kubelet.extraArgs).toEqual({ 'max-pods': '150' });
    expect(doc.machine.kubelet.image).toBe('ghcr.io/siderolabs/kubelet:v1.36.3');
    expect(doc.machine.install.wipe).toBe(true);
    expect(doc.cluster).not.toHaveProperty('discovery');
  });

  it('replace the lists Talos replaces, and merge keyed lists by key', () => {
    const patch = parsePatch('cluster:\n  network:\n    podSubnets: [10.250.0.0/16]\n  apiServer:\n    admissionControl:\n      - name: PodSecurity\n        configuration: { defaults: { enforce: restricted } }\n', 'p.yaml');
    const [doc] = applyPatches(base(), [patch]) as [Record<string, any>];
    expect(doc.cluster.network.podSubnets).toEqual(['10.250.0.0/16']);
    expect(doc.cluster.apiServer.admissionControl).toHaveLength(1);
    expect(doc.cluster.apiServer.admissionControl[0].configuration.defaults.enforce).toBe('restricted');
    expect(doc.cluster.apiServer.admissionControl[0].configuration.kind).toBe('PodSecurityConfiguration');
  });

  it('target documents by kind, or add them', () => {
    const patch = parsePatch('apiVersion: v1alpha1\nkind: HostnameConfig\nauto: off\nhostname: node-a\n---\napiVersion: v1alpha1\nkind: TimeSyncConfig\nntp: { servers: [time.example.com] }\n', 'p.yaml');
    const docs = applyPatches(base(), [patch]);
    expect(docs[1]).toEqual({ apiVersion: 'v1alpha1', kind: 'HostnameConfig', auto: 'off', hostname: 'node-a' });
    expect(docs[2]).toMatchObject({ kind: 'TimeSyncConfig' });
  });

  it('name the file and the path when a patch does not fit', () => {
    expect(() => applyPatches(base(), [parsePatch('machine:\n  certSANs: one.example.com\n', 'patches/sans.yaml')])).toThrow(
      'patch patches/sans.yaml: machine.certSANs is a list in the config but a string ("one.example.com") in the patch',
    );
    expect(() => parsePatch('- a\n- b\n', 'patches/list.yaml')).toThrow('patch patches/list.yaml: each document must be a mapping, not a list');
    expect(() => parsePatch('machine: [\n', 'patches/broken.yaml')).toThrow(/^patch patches\/broken\.yaml: /);
  });
});

describe('talosconfig', () => {
  it('carries an os:admin Ed25519 client certificate for one year, from the OS CA', async () => {
    const pair = await adminCertificate(bundle);
    const crt = new X509Certificate(pair.crt);
    expect(crt.subject).toBe('O=os:admin');
    expect(crt.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(crt.checkIssued(new X509Certificate(bundle.certs.os.crt))).toBe(true);
    expect(describeKey(parsePrivateKey(pair.key))).toBe('Ed25519');
    expect(Math.round((new Date(crt.validTo).getTime() - new Date(crt.validFrom).getTime()) / 86_400_000)).toBe(365);
  });

  it('merges our contexts into an existing file and takes them out again', async () => {
    const pair = await adminCertificate(bundle);
    const existing = 'context: other\ncontexts:\n  other:\n    endpoints: [10.0.0.1]\n';
    const merged = mergeTalosconfig(existing, [{ name: 'demo-onprem', endpoints: ['192.168.10.11'], nodes: ['192.168.10.11'], ca: bundle.certs.os.crt, ...pair }]);
    const context = readContext(merged, 'demo-onprem');
    expect(context?.endpoints).toEqual(['192.168.10.11']);
    expect(context && contextUsable(context, bundle)).toBe(true);
    expect(parse(merged).context).toBe('other');
    expect(parse(merged).contexts.other.endpoints).toEqual(['10.0.0.1']);
    expect(Object.keys(parse(removeContexts(merged, ['demo-onprem'])).contexts)).toEqual(['other']);
  });
});

describe('kubeconfig files', () => {
  const talosKubeconfig = 'apiVersion: v1\nkind: Config\nclusters:\n  - name: demo\n    cluster: { server: "https://192.168.10.10:6443" }\nusers:\n  - name: admin@demo\n    user: {}\ncontexts:\n  - name: admin@demo\n    context: { cluster: demo, user: admin@demo }\ncurrent-context: admin@demo\n';

  it('names everything after the site cluster and merges by name', () => {
    const onprem = renameContext(talosKubeconfig, 'demo-onprem');
    expect(parse(onprem)['current-context']).toBe('admin@demo-onprem');
    const merged = parse(mergeKubeconfigs('contexts:\n  - name: mine\n    context: {}\n', [onprem, renameContext(talosKubeconfig, 'demo-aws')]));
    expect(merged.contexts.map((c: { name: string }) => c.name)).toEqual(['mine', 'admin@demo-onprem', 'admin@demo-aws']);
    expect(merged.clusters.map((c: { name: string }) => c.name)).toEqual(['demo-onprem', 'demo-aws']);
  });
});

describe('dry-run summaries', () => {
  it('tell a changed config from an unchanged one', () => {
    expect(pendingChanges('Dry run summary:\nApplied configuration without a reboot (skipped in dry-run).\n\nConfig diff:\n\nNo changes.')).toBe('');
    expect(pendingChanges('Dry run summary:\nNode reboot\n\nConfig diff:\n\n--- old\n+++ new\n@@ -1 +1 @@\n-  wipe: false\n+  wipe: true\n')).toMatch(/^2 changed lines/);
  });
});
