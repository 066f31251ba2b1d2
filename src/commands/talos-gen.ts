import { readInputFile } from '../core/input-file.ts';
import { join, resolve } from 'node:path';
import type { HybridConfig } from '../core/config/schema.ts';
import { messageOf } from '../core/errors.ts';
import type { StateDir } from '../core/state.ts';
import { onpremSite } from '../providers/metal/site.ts';
import { readSiteBundle } from '../talos/kinds/secrets.ts';
import { bundleToYaml, generateBundle, parseBundle } from '../talos/secrets.ts';
import { secretsFileName } from '../talos/site.ts';
import { adminCertificate, talosconfigYaml } from '../talos/talosconfig.ts';
import { ensureGatewayKeys } from '../vpn/key-store.ts';
import { talosExtensions } from '../pipeline.ts';
import { vpnLayer } from '../vpn/layer.ts';
import { writeSecretFile } from './access-files.ts';
import type { GlobalOptions } from './options.ts';
import { withRunLock } from './state-access.ts';

export interface TalosGenOptions extends GlobalOptions {
  out: string;
}

/** What `talos gen` wrote; `-o json` prints it as is. */
export interface TalosGenResult {
  out: string;
  secrets: { file: string; action: 'generated' | 'imported' | 'reused' };
  nodes: { address: string; role: string; file: string }[];
  talosconfig: string;
  notes: string[];
}

/** Writes every on-prem node's machine config and a talosconfig, for applying elsewhere (GitOps). */
export async function run(options: TalosGenOptions, config: HybridConfig): Promise<number> {
  // It may make the secrets bundle and the VPN keys: under the run lock, stored in the bucket.
  return withRunLock(options, config, 'talos gen', ({ state }) => generate(options, config, state));
}

async function generate(options: TalosGenOptions, config: HybridConfig, state: StateDir): Promise<number> {
  const json = options.output === 'json';
  const say = (line: string) => {
    if (!json) process.stdout.write(`${line}\n`);
  };
  // The configs `up` applies, VPN documents and the Talos log destination included: the gateway's tunnel needs the keys, the
  // other nodes' routes the link that carries their address, which only the node can tell.
  const unread: string[] = [];
  const vpn = vpnLayer(config, state, { onUnreadableLink: (address, error) => unread.push(`${address} (${messageOf(error)})`) });
  if (vpn) await ensureGatewayKeys(state);
  const site = onpremSite(config, state, {}, talosExtensions(config, vpn).onprem);
  const existing = await readSiteBundle(site);
  let bundle = existing?.bundle;
  let secrets: TalosGenResult['secrets'];
  if (bundle && existing) {
    secrets = { file: existing.file, action: 'reused' };
  } else {
    bundle = site.importSecretsFrom ? parseBundle(await readInputFile(site.importSecretsFrom, 'secrets file'), site.importSecretsFrom) : await generateBundle();
    const file = await state.write(secretsFileName('onprem'), bundleToYaml(bundle));
    secrets = { file, action: site.importSecretsFrom ? 'imported' : 'generated' };
    say(`${secrets.action} the on-prem secrets bundle: ${file}`);
  }
  const out = resolve(options.out);
  const nodes: TalosGenResult['nodes'] = [];
  for (const node of site.nodes) {
    const file = join(out, `onprem-${node.role}-${node.address}.yaml`);
    await writeSecretFile(file, await site.configFor(node, bundle, config.onprem.controlPlaneEndpoint));
    nodes.push({ address: node.address, role: node.role, file });
    say(`wrote ${file}`);
  }
  const admin = await adminCertificate(bundle);
  const context = { name: site.clusterName, endpoints: site.talosEndpoints, nodes: site.nodes.map((n) => n.address), ca: bundle.certs.os.crt, ...admin };
  const talosconfig = join(out, 'talosconfig');
  await writeSecretFile(talosconfig, talosconfigYaml([context], context.name));
  say(`wrote ${talosconfig}\nAWS node configs are made by \`hybridctl up --site aws\`, which knows the load balancer's address.`);
  const notes: string[] = [];
  if (unread.length > 0)
    notes.push(`the VPN's documents are left out for nodes hybridctl could not ask which link carries their address: ${unread.join(', ')}; \`hybridctl up\` adds them`);
  if (vpn && !(await vpn.peer.read().catch(() => undefined)))
    notes.push("the on-prem gateway's config has no peer endpoint yet: the AWS gateway's Elastic IP is not known (run `hybridctl up --site aws`, with AWS credentials)");
  for (const note of notes) say(`note: ${note}`);
  if (json) {
    const result: TalosGenResult = { out, secrets, nodes, talosconfig, notes };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  }
  return 0;
}
