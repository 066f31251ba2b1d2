import { readInputFile } from '../../core/input-file.ts';
import type { ResourceKind } from '../../core/engine/model.ts';
import { UsageError } from '../../core/errors.ts';
import { type SecretsBundle, bundleToYaml, generateBundle, parseBundle } from '../secrets.ts';
import { type TalosSite, secretsFileName } from '../site.ts';

export const SECRETS_ID = 'talos-secrets';

export interface SecretsSpec {
  importFrom: string | undefined;
}

export interface SecretsState {
  file: string;
  bundle: SecretsBundle;
}

/**
 * The site's secrets bundle in the state directory: generated once (or imported from the
 * user's secrets.yaml) and reused ever after. Node kinds refuse to go on when nodes are
 * configured but the bundle is gone, so it is never silently regenerated.
 */
/** The site's bundle from the state directory, if there is one. */
export async function readSiteBundle(site: TalosSite): Promise<SecretsState | undefined> {
  const name = secretsFileName(site.site);
  const text = await site.state.read(name);
  if (text === undefined) return undefined;
  const file = site.state.path(name);
  return { file, bundle: parseBundle(text, file) };
}

export const talosSecretsKind: ResourceKind<SecretsSpec, SecretsState, TalosSite> = {
  kind: 'talos-secrets',

  async observe({ provider }) {
    const state = await readSiteBundle(provider);
    return state ? [{ id: SECRETS_ID, ref: state.file, state }] : [];
  },

  diff() {
    return { changes: [] };
  },

  describe(spec) {
    return spec.importFrom ? { importFrom: spec.importFrom } : { generate: 'a new secrets bundle (CAs, tokens, keys)' };
  },

  async create(spec, ctx) {
    let bundle: SecretsBundle;
    if (spec.importFrom) {
      let text: string;
      try {
        text = await readInputFile(spec.importFrom, 'secrets file');
      } catch (error) {
        throw new UsageError(`talos.secretsFiles.${ctx.provider.site}: ${(error as Error).message}`);
      }
      bundle = parseBundle(text, spec.importFrom);
    } else {
      ctx.report('generating the secrets bundle (RSA-4096 takes a moment)');
      bundle = await generateBundle();
    }
    const file = await ctx.provider.state.write(secretsFileName(ctx.provider.site), bundleToYaml(bundle));
    return { id: ctx.id, ref: file, state: { file, bundle } };
  },

  async update(found) {
    return found;
  },

  async destroy(_found, ctx) {
    await ctx.provider.state.remove(secretsFileName(ctx.provider.site));
  },

  outputs(found) {
    return { clusterId: found.state.bundle.cluster.id };
  },
};
