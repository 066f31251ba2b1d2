import type { FieldChange, Found } from '../../core/engine/model.ts';
import { CreateTagsCommand, type Filter, type ResourceType, type TagSpecification } from '@aws-sdk/client-ec2';
import { TAG_CLUSTER, type Tags } from './naming.ts';
import type { AwsAct, AwsProvider } from './provider.ts';
import { missingTags, toList } from './tags.ts';

export function clusterFilter(provider: AwsProvider): Filter[] {
  return [{ Name: `tag:${TAG_CLUSTER}`, Values: [provider.cluster] }];
}

/** Tags applied in the create call itself, so nothing we create is ever untagged. */
export function tagSpecs(resourceType: ResourceType, tags: Tags): TagSpecification[] {
  return [{ ResourceType: resourceType, Tags: toList(tags) }];
}

export async function retag(ctx: AwsAct, resourceId: string, actual: Tags, desired: Tags): Promise<void> {
  const missing = missingTags(actual, desired);
  if (Object.keys(missing).length === 0) return;
  await ctx.provider.clients.ec2.send(new CreateTagsCommand({ Resources: [resourceId], Tags: toList(missing) }));
}

/** The update of kinds whose only changeable field is their tags. */
export function tagsOnlyUpdate<State extends { tags: Tags }>(idOf: (state: State) => string) {
  return async (found: Found<State>, spec: { tags: Tags }, _changes: FieldChange[], ctx: AwsAct): Promise<Found<State>> => {
    await retag(ctx, idOf(found.state), found.state.tags, spec.tags);
    return { ...found, state: { ...found.state, tags: { ...found.state.tags, ...spec.tags } } };
  };
}
