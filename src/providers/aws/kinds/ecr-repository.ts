import {
  CreateRepositoryCommand,
  DeleteRepositoryCommand,
  GetLifecyclePolicyCommand,
  ListTagsForResourceCommand,
  PutLifecyclePolicyCommand,
  PutImageScanningConfigurationCommand,
  PutImageTagMutabilityCommand,
  TagResourceCommand,
  paginateDescribeRepositories,
} from '@aws-sdk/client-ecr';
import { diffFields } from '../../../core/engine/diff.ts';
import { type Val, known } from '../../../core/engine/model.ts';
import { collect, deleting, ifExists } from '../calls.ts';
import type { Tags } from '../naming.ts';
import type { AwsAct, AwsKind } from '../provider.ts';
import { componentOf, missingTags, tagChange, toList, toRecord } from '../tags.ts';

export interface EcrRepositorySpec {
  name: string;
  kmsKeyArn: Val;
  tags: Tags;
}

export interface EcrRepositoryState {
  name: string;
  arn: string;
  uri: string;
  scanOnPush: boolean;
  mutability: string;
  kmsKeyArn: string | undefined;
  /** The lifecycle policy as ECR holds it (parsed), or undefined when it has none. */
  lifecyclePolicy: unknown;
  tags: Tags;
}

/** Days an untagged image is kept after its push. */
export const UNTAGGED_IMAGE_DAYS = 7;

/**
 * Security Hub ECR.3: untagged images (pushes that never got a tag, or whose tags were removed)
 * expire a few days after their push; tagged images are kept.
 */
export const LIFECYCLE_POLICY = {
  rules: [
    {
      rulePriority: 1,
      description: `expire untagged images ${UNTAGGED_IMAGE_DAYS} days after their push; tagged images are kept`,
      selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: UNTAGGED_IMAGE_DAYS },
      action: { type: 'expire' },
    },
  ],
};

/** Repositories of a cluster live under `hybridctl/<cluster>/`: one listing finds them all. */
export function ecrPrefix(cluster: string): string {
  return `hybridctl/${cluster}/`;
}

/** The service's image repository: scanned on push, immutable tags, encrypted with the cluster key. */
export const ecrRepositoryKind: AwsKind<EcrRepositorySpec, EcrRepositoryState> = {
  kind: 'ecr-repository',

  async observe({ provider }) {
    const ecr = provider.clients.ecr;
    const pages = await collect(paginateDescribeRepositories({ client: ecr }, {}));
    const ours = pages.flatMap((p) => p.repositories ?? []).filter((r) => r.repositoryName?.startsWith(ecrPrefix(provider.cluster)));
    return Promise.all(
      ours.map(async (r) => {
        const [tagList, lifecycle] = await Promise.all([
          ecr.send(new ListTagsForResourceCommand({ resourceArn: r.repositoryArn })),
          ifExists(() => ecr.send(new GetLifecyclePolicyCommand({ repositoryName: r.repositoryName }))),
        ]);
        const tags = toRecord(tagList.tags);
        const state: EcrRepositoryState = {
          name: r.repositoryName ?? '',
          arn: r.repositoryArn ?? '',
          uri: r.repositoryUri ?? '',
          scanOnPush: r.imageScanningConfiguration?.scanOnPush ?? false,
          mutability: r.imageTagMutability ?? 'MUTABLE',
          kmsKeyArn: r.encryptionConfiguration?.encryptionType === 'KMS' ? r.encryptionConfiguration.kmsKey : undefined,
          lifecyclePolicy: lifecycle?.lifecyclePolicyText ? JSON.parse(lifecycle.lifecyclePolicyText) : undefined,
          tags,
        };
        return { id: componentOf(tags) ?? state.name, ref: state.name, state };
      }),
    );
  },

  diff(state, spec) {
    const fixed = diffFields(state, { name: spec.name, kmsKeyArn: spec.kmsKeyArn });
    if (fixed.length > 0) return { changes: fixed, replace: 'a repository\'s name and encryption cannot change (its images go with it)' };
    return { changes: [...diffFields(state, { scanOnPush: true, mutability: 'IMMUTABLE', lifecyclePolicy: LIFECYCLE_POLICY }), ...tagChange(state.tags, spec.tags)] };
  },

  describe(spec) {
    return {
      name: spec.name,
      scanOnPush: true,
      mutability: 'IMMUTABLE',
      encryption: 'KMS, the cluster key',
      lifecyclePolicy: `untagged images expire after ${UNTAGGED_IMAGE_DAYS} days; tagged images are kept`,
    };
  },

  async create(spec, ctx) {
    const created = await ctx.provider.clients.ecr.send(
      new CreateRepositoryCommand({
        repositoryName: spec.name,
        imageTagMutability: 'IMMUTABLE',
        imageScanningConfiguration: { scanOnPush: true },
        encryptionConfiguration: { encryptionType: 'KMS', kmsKey: known(spec.kmsKeyArn) },
        tags: toList(spec.tags),
      }),
    );
    const r = created.repository;
    await putLifecyclePolicy(ctx, spec.name);
    const state: EcrRepositoryState = {
      name: spec.name,
      arn: r?.repositoryArn ?? '',
      uri: r?.repositoryUri ?? '',
      scanOnPush: true,
      mutability: 'IMMUTABLE',
      kmsKeyArn: known(spec.kmsKeyArn),
      lifecyclePolicy: LIFECYCLE_POLICY,
      tags: spec.tags,
    };
    return { id: ctx.id, ref: spec.name, state };
  },

  async update(found, spec, changes, ctx) {
    const ecr = ctx.provider.clients.ecr;
    const repositoryName = found.state.name;
    if (changes.some((c) => c.field === 'scanOnPush')) await ecr.send(new PutImageScanningConfigurationCommand({ repositoryName, imageScanningConfiguration: { scanOnPush: true } }));
    if (changes.some((c) => c.field === 'mutability')) await ecr.send(new PutImageTagMutabilityCommand({ repositoryName, imageTagMutability: 'IMMUTABLE' }));
    if (changes.some((c) => c.field === 'lifecyclePolicy')) await putLifecyclePolicy(ctx, repositoryName);
    const missing = missingTags(found.state.tags, spec.tags);
    if (Object.keys(missing).length > 0) await ecr.send(new TagResourceCommand({ resourceArn: found.state.arn, tags: toList(missing) }));
    return { ...found, state: { ...found.state, scanOnPush: true, mutability: 'IMMUTABLE', lifecyclePolicy: LIFECYCLE_POLICY, tags: { ...found.state.tags, ...spec.tags } } };
  },

  async destroy(found, ctx) {
    await deleting(() => ctx.provider.clients.ecr.send(new DeleteRepositoryCommand({ repositoryName: found.state.name, force: true })));
  },

  outputs(found) {
    return { name: found.state.name, uri: found.state.uri, arn: found.state.arn };
  },
};

async function putLifecyclePolicy(ctx: AwsAct, repositoryName: string): Promise<void> {
  await ctx.provider.clients.ecr.send(new PutLifecyclePolicyCommand({ repositoryName, lifecyclePolicyText: JSON.stringify(LIFECYCLE_POLICY) }));
}
