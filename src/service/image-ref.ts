import type { HybridConfig } from '../core/config/schema.ts';
import { hybridctlVersion } from '../core/version.ts';
import { RegistryClient, type RegistryTarget } from '../image/push.ts';
import { ecrLogin } from '../providers/aws/ecr-auth.ts';
import { ecrPrefix } from '../providers/aws/kinds/ecr-repository.ts';
import type { AwsProvider } from '../providers/aws/provider.ts';
import { credentialsHash } from './pull-secret.ts';
import type { ServiceImage } from './stack.ts';

export type ImageLookup = { image: ServiceImage } | { missing: string };

/** Access to the AWS account, as far as the image lookup needs it. */
export interface AwsAccess {
  provider: AwsProvider;
  /** No credentials (plan, --dry-run): the image is shown by tag, looked up at apply time. */
  offline: boolean;
}

/**
 * The image `up` deploys, or why it cannot deploy it now (then the clusters still converge and
 * the reason is shown as a note). Without AWS credentials a plan shows the image by tag.
 */
export async function resolveServiceImage(config: HybridConfig, aws: AwsAccess | undefined): Promise<ImageLookup> {
  const { registry, repository } = config.service.image;
  if (registry === 'ecr' && aws?.offline) {
    const host = `${aws.provider.account}.dkr.ecr.${aws.provider.region}.amazonaws.com`;
    const pullSecret = {
      host,
      login: async () => {
        throw new Error('no AWS credentials: the ECR login is made at apply time');
      },
    };
    return { image: { reference: `${host}/${ecrPrefix(config.metadata.name)}${repository}:${serviceImageTag(config)}`, pullSecret } };
  }
  try {
    return await lookupServiceImage(config, aws?.provider);
  } catch (error) {
    return { missing: `cannot look up the service image: ${(error as Error).message}` };
  }
}

/** The readable tag the image is pushed and looked up by. */
export function serviceImageTag(config: HybridConfig): string {
  return config.service.image.tag ?? `v${hybridctlVersion()}`;
}

/**
 * The pushed service image, by digest, and the login nodes pull it with; or why it cannot be
 * deployed yet (not pushed, or no AWS access to ECR).
 */
export async function lookupServiceImage(config: HybridConfig, aws: AwsProvider | undefined): Promise<ImageLookup> {
  const image = config.service.image;
  const tag = serviceImageTag(config);
  let target: RegistryTarget;
  let pullSecret: ServiceImage['pullSecret'];
  if (image.registry === 'ecr') {
    if (!aws) return { missing: 'the service image is in ECR and there is no AWS access (credentials) to look it up' };
    const login = await ecrLogin(aws);
    const host = new URL(login.url).host;
    target = { url: login.url, repository: `${ecrPrefix(config.metadata.name)}${image.repository}`, credentials: login };
    pullSecret = { host, login: async () => ({ ...(await ecrLogin(aws)), host }) };
  } else {
    const creds = image.credentials;
    const username = creds ? process.env[creds.usernameEnv] : undefined;
    const password = creds ? process.env[creds.passwordEnv] : undefined;
    const host = new URL(image.registry).host;
    target = { url: image.registry, repository: image.repository, ...(username && password ? { credentials: { username, password } } : {}) };
    if (username && password) pullSecret = { host, credentialsHash: credentialsHash(username, password), login: async () => ({ host, username, password }) };
  }
  const digest = await new RegistryClient(target).manifestDigest(tag);
  if (!digest) return { missing: `the service image ${target.repository}:${tag} is not in ${new URL(target.url).host} yet; run \`hybridctl image push\`, then \`hybridctl up\` again` };
  return { image: { reference: `${new URL(target.url).host}/${target.repository}@${digest}`, ...(pullSecret ? { pullSecret } : {}) } };
}
