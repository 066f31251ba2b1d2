import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config/load.ts';
import { StateDir } from '../../src/core/state.ts';
import { AwsClients } from '../../src/providers/aws/clients.ts';
import { awsSite } from '../../src/providers/aws/talos-site.ts';
import { machineConfig } from '../../src/talos/machine-config.ts';
import { finishedConfig, patchLoader } from '../../src/talos/patches.ts';
import { type SecretsBundle, generateBundle } from '../../src/talos/secrets.ts';
import { GATEWAY_TALOS_ID } from '../../src/vpn/aws-stack.ts';
import { onpremGatewayPatch, routedNodePatch } from '../../src/vpn/documents.ts';
import { ensureGatewayKeys } from '../../src/vpn/key-store.ts';
import { vpnLayer } from '../../src/vpn/layer.ts';
import { EXAMPLE } from '../support/config.ts';
import { talosCheck } from '../support/talos.ts';

/** What hybridctl renders for the VPN, judged by Talos's own loader and strict validator (test/talos/cmd/talos-check). */
const config = parseConfig(EXAMPLE);
let dir: string;
let state: StateDir;
let bundle: SecretsBundle;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hybridctl-vpn-docs-'));
  state = new StateDir(join(dir, 'state'));
  bundle = await generateBundle();
  await ensureGatewayKeys(state);
});

/** An on-prem node's own documents, before the VPN's. */
function documents(role: 'controlplane' | 'worker') {
  return machineConfig({
    bundle,
    clusterName: 'demo-onprem',
    endpoint: config.onprem.controlPlaneEndpoint,
    role,
    platform: 'metal',
    talosVersion: 'v1.13.9',
    kubernetesVersion: '1.36.3',
    podSubnet: '10.245.0.0/16',
    serviceSubnet: '10.112.0.0/12',
    certSANs: ['192.168.10.10'],
    installDisk: '/dev/sda',
  });
}

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe("Talos's own code accepts, strictly", () => {
  it("the AWS gateway's config (cloud): its tunnel link, taint and labels", async () => {
    const vpn = vpnLayer(config, state);
    const provider = { cluster: 'demo', region: 'eu-central-1', account: '123456789012', clients: new AwsClients({ region: 'eu-central-1' }), userTags: {} };
    const site = awsSite(config, provider, state, {}, vpn?.awsExtension);
    const text = await site.configFor({ id: GATEWAY_TALOS_ID, address: '', role: 'worker' }, bundle, 'https://demo-api-1.elb.eu-central-1.amazonaws.com:6443');
    expect(text).toContain('kind: WireguardConfig');
    expect(text).toContain('kind: DHCPv4Config\nname: eth0');
    expect(text).not.toMatch(/endpoint: \d/);
    expect(await talosCheck(['config', '--mode', 'cloud', write('aws-gateway.yaml', text)])).toContain('ok');
  });

  it("the on-prem gateway's config (metal), dialling the Elastic IP and keeping DHCP", async () => {
    const plan = vpnLayer(config, state)?.plan;
    if (!plan) throw new Error('no plan');
    const keys = await ensureGatewayKeys(state);
    const patch = onpremGatewayPatch(plan, { privateKey: keys.onprem.privateKey, peerPublicKey: keys.aws.publicKey }, '3.120.15.9', { link: 'enp1s0', dhcpLinks: ['enp1s0'] });
    const text = await finishedConfig(documents('worker'), 'worker', [], patchLoader(), Promise.resolve([patch]));
    expect(text).toContain('endpoint: 3.120.15.9:51820');
    expect(text).toContain('persistentKeepaliveInterval: 25s');
    expect(await talosCheck(['config', '--mode', 'metal', write('onprem-gateway.yaml', text)])).toContain('ok');
  });

  it('a routed node (metal), on a DHCP link and on a static one, with the user configuring the same link', async () => {
    const plan = vpnLayer(config, state)?.plan;
    if (!plan) throw new Error('no plan');
    const load = patchLoader();
    const userMtu = write('mtu.yaml', 'apiVersion: v1alpha1\nkind: LinkConfig\nname: enp1s0\nmtu: 9000\n');
    for (const [name, dhcp, userFiles] of [
      ['dhcp', true, []],
      ['static', false, []],
      ['with-user-link', true, [userMtu]],
    ] as const) {
      const text = await finishedConfig(documents('controlplane'), 'controlplane', userFiles, load, Promise.resolve([routedNodePatch(plan, { link: 'enp1s0', dhcpLinks: dhcp ? ['enp1s0'] : [] })]));
      expect(text).toContain('gateway: 192.168.10.21');
      expect(text.includes('kind: DHCPv4Config')).toBe(dhcp);
      if (userFiles.length > 0) expect(text).toMatch(/kind: LinkConfig\nname: enp1s0\nroutes:[\s\S]*mtu: 9000/);
      expect(await talosCheck(['config', '--mode', 'metal', write(`routed-${name}.yaml`, text)])).toContain('ok');
    }
  });
});
