import { join, resolve } from 'node:path';
import { loadConfig } from '../core/config/load.ts';
import { StateDir } from '../core/state.ts';
import { onpremSite } from '../providers/metal/site.ts';
import { readSiteBundle } from '../talos/kinds/secrets.ts';
import { bundleToYaml, generateBundle, parseBundle } from '../talos/secrets.ts';
import { secretsFileName } from '../talos/site.ts';
import { adminCertificate, talosconfigYaml } from '../talos/talosconfig.ts';
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
  const site = onpremSite(config, state);
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
  return 0;
}
