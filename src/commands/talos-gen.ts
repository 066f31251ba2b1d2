import { join, resolve } from 'node:path';
import { loadConfig } from '../core/config/load.ts';
import { StateDir } from '../core/state.ts';
import { onpremSite } from '../providers/metal/site.ts';
import { readSiteBundle } from '../talos/kinds/secrets.ts';
import { bundleToYaml, generateBundle, parseBundle } from '../talos/secrets.ts';
import { secretsFileName } from '../talos/site.ts';
import { adminCertificate, talosconfigYaml } from '../talos/talosconfig.ts';
import { messageOf } from '../core/errors.ts';
import { ensureGatewayKeys } from '../vpn/key-store.ts';
import { vpnLayer } from '../vpn/layer.ts';
import { writeSecretFile } from './access-files.ts';
import type { GlobalOptions } from './options.ts';
import { readFile } from 'node:fs/promises';

export interface TalosGenOptions extends GlobalOptions {
  out: string;
}

/** Writes every on-prem node's machine config and a talosconfig, for applying elsewhere (GitOps). */
export async function run(options: TalosGenOptions): Promise<number> {
  const config = await loadConfig(options.config);
  const state = StateDir.forConfig(options.config, config.metadata.name, options.stateDir);
  // The configs `up` applies, VPN documents included: the gateway's tunnel needs the keys, the
  // other nodes' routes the link that carries their address, which only the node can tell.
  const unread: string[] = [];
  const vpn = vpnLayer(config, state, { onUnreadableLink: (address, error) => unread.push(`${address} (${messageOf(error)})`) });
  if (vpn) await ensureGatewayKeys(state);
  const site = onpremSite(config, state, {}, vpn?.onpremExtension);
  let bundle = (await readSiteBundle(site))?.bundle;
  if (!bundle) {
    bundle = site.importSecretsFrom ? parseBundle(await readFile(site.importSecretsFrom, 'utf8'), site.importSecretsFrom) : await generateBundle();
    const file = await state.write(secretsFileName('onprem'), bundleToYaml(bundle));
    process.stdout.write(`${site.importSecretsFrom ? 'imported' : 'generated'} the on-prem secrets bundle: ${file}\n`);
  }
  const out = resolve(options.out);
  for (const node of site.nodes) {
    const file = join(out, `onprem-${node.role}-${node.address}.yaml`);
    await writeSecretFile(file, await site.configFor(node, bundle, config.onprem.controlPlaneEndpoint));
    process.stdout.write(`wrote ${file}\n`);
  }
  const admin = await adminCertificate(bundle);
  const context = { name: site.clusterName, endpoints: site.talosEndpoints, nodes: site.nodes.map((n) => n.address), ca: bundle.certs.os.crt, ...admin };
  await writeSecretFile(join(out, 'talosconfig'), talosconfigYaml([context], context.name));
  process.stdout.write(`wrote ${join(out, 'talosconfig')}\nAWS node configs are made by \`hybridctl up --site aws\`, which knows the load balancer's address.\n`);
  if (unread.length > 0)
    process.stdout.write(`note: the VPN's documents are left out for nodes hybridctl could not ask which link carries their address: ${unread.join(', ')}; \`hybridctl up\` adds them\n`);
  if (vpn && !(await vpn.peer.read().catch(() => undefined)))
    process.stdout.write('note: the on-prem gateway\'s config has no peer endpoint yet: the AWS gateway\'s Elastic IP is not known (run `hybridctl up --site aws`, with AWS credentials)\n');
  return 0;
}
