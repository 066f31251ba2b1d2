import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeConfig, machineConfig, type MachineConfigInput, type Platform, type Role } from '../../src/talos/machine-config.ts';
import { applyPatches, parsePatch } from '../../src/talos/patches.ts';
import { type SecretsBundle, bundleToYaml, generateBundle, parseBundle } from '../../src/talos/secrets.ts';
import { adminCertificate, talosconfigYaml } from '../../src/talos/talosconfig.ts';
import { ROOT } from '../support/paths.ts';
import { talosCheck } from '../support/talos.ts';

/** Every config and bundle here is judged by Talos's own loader and validator (test/talos/cmd/talos-check). */
let dir: string;
let bundle: SecretsBundle;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hybridctl-machinery-'));
  bundle = await generateBundle();
});

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

const input = (role: Role, platform: Platform, b: SecretsBundle): MachineConfigInput => ({
  bundle: b,
  clusterName: 'demo-test',
  endpoint: platform === 'cloud' ? 'https://demo-aws-nlb-0123.elb.eu-central-1.amazonaws.com:6443' : 'https://192.168.10.10:6443',
  role,
  platform,
  talosVersion: 'v1.13.9',
  kubernetesVersion: '1.36.3',
  podSubnet: '10.244.0.0/16',
  serviceSubnet: '10.96.0.0/12',
  certSANs: ['192.168.10.10'],
  ...(platform === 'metal' ? { installDisk: '/dev/nvme0n1', hostname: 'node-1' } : {}),
});

const METRICS = readFileSync(`${ROOT}templates/talos/controlplane-metrics.yaml`, 'utf8');
const USER_PATCH = `machine:
  kubelet:
    extraArgs:
      max-pods: "150"
  sysctls:
    net.core.somaxconn: "65535"
---
apiVersion: v1alpha1
kind: TimeSyncConfig
ntp:
  servers: [time.cloudflare.com]
`;

describe("Talos's own code accepts", () => {
  for (const platform of ['metal', 'cloud'] as const) {
    for (const role of ['controlplane', 'worker'] as const) {
      for (const patched of [false, true]) {
        it(`a ${platform} ${role} config${patched ? ' with the default and a user patch' : ''}`, async () => {
          let documents = machineConfig(input(role, platform, bundle));
          if (patched) documents = applyPatches(documents, [...(role === 'controlplane' ? [parsePatch(METRICS, 'metrics')] : []), parsePatch(USER_PATCH, 'user')]);
          const file = write(`${platform}-${role}-${patched}.yaml`, encodeConfig(documents));
          expect(await talosCheck(['config', '--mode', platform, file])).toContain(`ok ${file}`);
        });
      }
    }
  }

  it('our secrets bundle, with Talos key types', async () => {
    const summary = JSON.parse(await talosCheck(['secrets', write('secrets.yaml', bundleToYaml(bundle))]));
    expect(summary).toMatchObject({ os: 'Ed25519', etcd: 'ECDSA-P256', k8s: 'ECDSA-P256', k8saggregator: 'ECDSA-P256' });
    expect(String(summary.k8sserviceaccount)).toMatch(/^RSA/);
  });

  it('our talosconfig, with an os:admin client certificate for client auth', async () => {
    const admin = await adminCertificate(bundle);
    const file = write('talosconfig', talosconfigYaml([{ name: 'demo-onprem', endpoints: ['192.168.10.11'], nodes: ['192.168.10.11', '192.168.10.21'], ca: bundle.certs.os.crt, ...admin }], 'demo-onprem'));
    const summary = JSON.parse(await talosCheck(['talosconfig', file]));
    const context = summary['demo-onprem'] ?? summary.contexts?.['demo-onprem'] ?? summary[0];
    expect(JSON.stringify(context)).toContain('os:admin');
    expect(JSON.stringify(context)).toContain('Ed25519');
  });

  it('configs made from a secrets.yaml that Talos generated (talosctl gen secrets)', async () => {
    const file = join(dir, 'talos-secrets.yaml');
    await talosCheck(['gen-secrets', '--out', file]);
    const imported = parseBundle(readFileSync(file, 'utf8'), file);
    for (const role of ['controlplane', 'worker'] as const) {
      const config = write(`imported-${role}.yaml`, encodeConfig(machineConfig(input(role, 'metal', imported))));
      expect(await talosCheck(['config', '--mode', 'metal', config])).toContain('ok');
    }
  });

  it('and rejects a broken one with its own message (the check can fail)', async () => {
    const documents = applyPatches(machineConfig(input('controlplane', 'metal', bundle)), [parsePatch('machine:\n  kubelett: {}\n', 'typo')]);
    await expect(talosCheck(['config', '--mode', 'metal', write('broken.yaml', encodeConfig(documents))])).rejects.toThrow(/kubelett/);
    const noInstall = machineConfig(input('worker', 'cloud', bundle));
    await expect(talosCheck(['config', '--mode', 'metal', write('no-install.yaml', encodeConfig(noInstall))])).rejects.toThrow(/install/i);
  });
});
