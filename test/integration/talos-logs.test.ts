import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseConfig } from '../../src/core/config/load.ts';
import { StateDir } from '../../src/core/state.ts';
import { talosExtensions } from '../../src/pipeline.ts';
import { AwsClients } from '../../src/providers/aws/clients.ts';
import { awsSite } from '../../src/providers/aws/talos-site.ts';
import { onpremSite } from '../../src/providers/metal/site.ts';
import { type SecretsBundle, generateBundle } from '../../src/talos/secrets.ts';
import { ensureGatewayKeys } from '../../src/vpn/key-store.ts';
import { vpnLayer } from '../../src/vpn/layer.ts';
import { NO_MONITORING, exampleWith } from '../support/config.ts';
import { talosCheck } from '../support/talos.ts';

/** Where Talos sends its own service logs, judged by Talos's own loader and strict validator (test/talos/cmd/talos-check). */
let dir: string;
let state: StateDir;
let bundle: SecretsBundle;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hybridctl-talos-logs-'));
  state = new StateDir(join(dir, 'state'));
  bundle = await generateBundle();
  await ensureGatewayKeys(state);
});

function destinations(text: string): unknown {
  const machine = parseAllDocuments(text).map((d) => d.toJS()).find((d) => d?.machine)?.machine;
  return machine?.logging?.destinations;
}

describe("every node's config sends Talos's logs to the site's shipper", () => {
  it('on AWS (cloud) and on-prem (metal), as json_lines to the NodePort on the node itself, and Talos accepts it', async () => {
    // Without the VPN, whose on-prem documents need the host to answer.
    const config = parseConfig(exampleWith(['enabled: true ', 'enabled: false ']));
    const extensions = talosExtensions(config, vpnLayer(config, state));
    const provider = { cluster: 'demo', region: 'eu-central-1', account: '123456789012', clients: new AwsClients({ region: 'eu-central-1' }), userTags: {} };
    const aws = await awsSite(config, provider, state, {}, extensions.aws).configFor({ id: 'controlplane-a-1', address: '', role: 'controlplane' }, bundle, 'https://demo-api-1.elb.eu-central-1.amazonaws.com:6443');
    const onprem = onpremSite(config, state, {}, extensions.onprem);
    const cp = onprem.nodes.find((n) => n.role === 'controlplane');
    if (!cp) throw new Error('no on-prem control plane');
    const metal = await onprem.configFor(cp, bundle, config.onprem.controlPlaneEndpoint);
    for (const [name, text, mode] of [['aws-cp.yaml', aws, 'cloud'], ['onprem-cp.yaml', metal, 'metal']] as const) {
      expect(destinations(text), name).toEqual([{ endpoint: 'tcp://127.0.0.1:30514/', format: 'json_lines' }]);
      const file = join(dir, name);
      writeFileSync(file, text);
      expect(await talosCheck(['config', '--mode', mode, file])).toContain('ok');
    }
  });

  it('without monitoring, no destination', async () => {
    const config = parseConfig(exampleWith(NO_MONITORING, ['enabled: true ', 'enabled: false ']));
    const onprem = onpremSite(config, state, {}, talosExtensions(config, undefined).onprem);
    const cp = onprem.nodes.find((n) => n.role === 'controlplane');
    if (!cp) throw new Error('no on-prem control plane');
    expect(destinations(await onprem.configFor(cp, bundle, config.onprem.controlPlaneEndpoint))).toBeUndefined();
  });
});
