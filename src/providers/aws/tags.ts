import type { FieldChange } from '../../core/engine/model.ts';
import { TAG_CLUSTER, TAG_COMPONENT, type Tags } from './naming.ts';

export interface AwsTag {
  Key?: string | undefined;
  Value?: string | undefined;
}

export function toRecord(tags: readonly AwsTag[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const tag of tags ?? []) if (tag.Key !== undefined) out[tag.Key] = tag.Value ?? '';
  return out;
}

export function toList(tags: Tags): { Key: string; Value: string }[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

export function componentOf(tags: Tags): string | undefined {
  return tags[TAG_COMPONENT];
}

export function clusterOf(tags: Tags): string | undefined {
  return tags[TAG_CLUSTER];
}

/** The desired tags that are missing or different; tags others added are left alone. */
export function missingTags(actual: Tags, desired: Tags): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(desired)) if (actual[key] !== value) out[key] = value;
  return out;
}

export function tagChange(actual: Tags, desired: Tags): FieldChange[] {
  const missing = missingTags(actual, desired);
  if (Object.keys(missing).length === 0) return [];
  const from = Object.fromEntries(Object.keys(missing).flatMap((k) => (k in actual ? [[k, actual[k]]] : [])));
  return [{ field: 'tags', from, to: missing }];
}
