import { isDeepStrictEqual } from 'node:util';
import { type FieldChange, isUnknown } from './model.ts';

/** Field-by-field comparison of what exists with what is wanted; only the wanted fields count. */
export function diffFields(actual: object, desired: Readonly<Record<string, unknown>>): FieldChange[] {
  const changes: FieldChange[] = [];
  for (const [field, to] of Object.entries(desired)) {
    const from = (actual as Record<string, unknown>)[field];
    if (isUnknown(to) || !isDeepStrictEqual(from, to)) changes.push({ field, from, to });
  }
  return changes;
}

/** Sorted copy, so that lists compare equal whatever order a provider returns them in. */
export function sorted<T>(items: readonly T[], key: (item: T) => string = String): T[] {
  return [...items].sort((a, b) => key(a).localeCompare(key(b)));
}
