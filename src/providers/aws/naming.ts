import type { AwsProvider } from './provider.ts';

/** The tags that mark what a cluster owns. Finding resources by them means no state file can drift. */
export const TAG_CLUSTER = 'hybridctl.dev/cluster';
export const TAG_COMPONENT = 'hybridctl.dev/component';

export type Tags = Readonly<Record<string, string>>;

export function nameOf(cluster: string, id: string): string {
  return `${cluster}-${id}`;
}

/** All tags a resource carries: the user's, then ours (which the user cannot override). */
export function tagsFor(provider: Pick<AwsProvider, 'cluster' | 'userTags'>, id: string): Tags {
  return { ...provider.userTags, Name: nameOf(provider.cluster, id), [TAG_CLUSTER]: provider.cluster, [TAG_COMPONENT]: id };
}

/** IAM names are global to the account, so they carry the tool and cluster name. */
export function iamName(cluster: string, id: string): string {
  return `hybridctl-${cluster}-${id}`;
}

/** IAM objects live under a path of their own: one list call finds all of a cluster's. */
export function iamPath(cluster: string): string {
  return `/hybridctl/${cluster}/`;
}

export function kmsAlias(cluster: string): string {
  return `alias/hybridctl-${cluster}`;
}

/** Bucket names are global: cluster, account and region make them unique and stable. */
export function bucketName(provider: Pick<AwsProvider, 'cluster' | 'account' | 'region'>, purpose: string): string {
  const name = `hctl-${provider.cluster}-${purpose}-${provider.account}-${provider.region}`;
  if (name.length > 63) throw new Error(`bucket name ${name} is longer than S3's 63 characters; use a shorter metadata.name`);
  return name;
}

/** The purpose part of one of this cluster's bucket names, or undefined if the name is not ours. */
export function bucketPurpose(provider: Pick<AwsProvider, 'cluster' | 'account' | 'region'>, name: string): string | undefined {
  const prefix = `hctl-${provider.cluster}-`;
  const suffix = `-${provider.account}-${provider.region}`;
  if (!name.startsWith(prefix) || !name.endsWith(suffix)) return undefined;
  const purpose = name.slice(prefix.length, name.length - suffix.length);
  return /^[a-z]+$/.test(purpose) ? purpose : undefined;
}
