import { join } from 'node:path';
import type { HybridConfig } from '../core/config/schema.ts';
import { ActionError, UsageError } from '../core/errors.ts';
import { StateDir } from '../core/state.ts';
import { buildImage, type BuiltImage } from '../image/build.ts';
import { pushImage, type RegistryTarget } from '../image/push.ts';
import { applyPlans, loadStacks, planStacks, withOnly } from '../pipeline.ts';
import { serviceImageTag } from '../service/image-ref.ts';
import { ECR_REPOSITORY_ID } from '../providers/aws/base-stack.ts';
import { ecrLogin } from '../providers/aws/ecr-auth.ts';
import { ecrPrefix } from '../providers/aws/kinds/ecr-repository.ts';
import type { AwsProvider } from '../providers/aws/provider.ts';
import { applyReport } from './apply-report.ts';
import { type GlobalOptions, pipelineOptions } from './options.ts';
import { withRunLock } from './state-access.ts';

export interface ImageOptions extends GlobalOptions {
  out?: string;
  tag?: string;
}

/** The readable tag: --tag, else service.image.tag, else v<hybridctl version>. */
export function readableTag(config: HybridConfig, options: ImageOptions): string {
  return options.tag ?? serviceImageTag(config);
}

async function build(config: HybridConfig, options: ImageOptions): Promise<BuiltImage> {
  const state = StateDir.forConfig(options.config, config.metadata.name, options.stateDir);
  const out = options.out ?? join(state.root, 'image');
  const log = (m: string) => process.stderr.write(`${m}\n`);
  return buildImage({ platforms: config.service.image.platforms, out, tag: readableTag(config, options), report: log });
}

/** `hybridctl image build`: compile and assemble the OCI image; no Docker, no registry. */
export async function runBuild(options: ImageOptions, config: HybridConfig): Promise<number> {
  const image = await build(config, options);
  const result = { layout: image.layout.dir, digest: image.index.digest, platforms: image.manifests.map((m) => `${m.platform?.os}/${m.platform?.architecture}`) };
  process.stdout.write(options.output === 'json' ? `${JSON.stringify(result, null, 2)}\n` : `built ${result.digest} for ${result.platforms.join(', ')} in ${result.layout}\n`);
  return 0;
}

/** `hybridctl image push`: build, make sure the repository exists, push what the registry lacks. */
export async function runPush(options: ImageOptions, config: HybridConfig): Promise<number> {
  // Pushing to ECR converges the repository: an AWS change, so it takes the run lock.
  return config.service.image.registry === 'ecr' ? withRunLock(options, config, 'image push', () => push(config, options)) : push(config, options);
}

async function push(config: HybridConfig, options: ImageOptions): Promise<number> {
  const target = await registryTarget(config, options);
  const image = await build(config, options);
  const tags = [readableTag(config, options), `sha-${image.index.digest.slice(7, 19)}`];
  const result = await pushImage(image.layout, target, tags, (m) => process.stderr.write(`${m}\n`));
  if (options.output === 'json') process.stdout.write(`${JSON.stringify({ ...result, tags }, null, 2)}\n`);
  else {
    process.stdout.write(
      `pushed ${result.reference} (tags ${tags.join(', ')}): ${result.uploadedBlobs} blobs uploaded, ${result.skippedBlobs} already there, ${result.pushedManifests} manifests written\n`,
    );
  }
  return 0;
}

async function registryTarget(config: HybridConfig, options: ImageOptions): Promise<RegistryTarget> {
  const image = config.service.image;
  if (image.registry !== 'ecr') {
    const creds = image.credentials;
    const username = creds ? process.env[creds.usernameEnv] : undefined;
    const password = creds ? process.env[creds.passwordEnv] : undefined;
    if (creds && (!username || !password)) throw new UsageError(`service.image.credentials: set ${creds.usernameEnv} and ${creds.passwordEnv} in the environment`);
    return { url: image.registry, repository: image.repository, ...(username && password ? { credentials: { username, password } } : {}) };
  }
  // The repository is part of the AWS base layer; converge just it (and the key it is encrypted with).
  const [stack] = await loadStacks(config, { ...pipelineOptions(options, false), sites: ['aws'] });
  if (!stack) throw new Error('no AWS site');
  const plans = await planStacks([withOnly(stack, [ECR_REPOSITORY_ID])], 'up');
  const outcomes = await applyPlans(plans, { signal: new AbortController().signal, onEvent: () => {} });
  const report = applyReport(plans, outcomes, 0);
  if (report.failed.length > 0) throw new ActionError(`could not make the image repository: ${report.failed.map((f) => f.error).join('; ')}`);
  const login = await ecrLogin(stack.provider as AwsProvider);
  return { url: login.url, repository: `${ecrPrefix(config.metadata.name)}${image.repository}`, credentials: { username: login.username, password: login.password } };
}
