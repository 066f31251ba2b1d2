import { closest, distance } from 'fastest-levenshtein';
import type { z } from 'zod';
import { type ConfigProblem, pathToString } from './problems.ts';

type Issue = z.core.$ZodIssue;
type AnySchema = z.core.$ZodType;

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
};

/** Turns zod's issues into problems phrased for a person editing the YAML file. */
export function schemaProblems(issues: readonly Issue[], schema: AnySchema): ConfigProblem[] {
  return issues.flatMap((issue) => problemsFor(issue, schema));
}

function problemsFor(issue: Issue, schema: AnySchema): ConfigProblem[] {
  const path = pathToString(issue.path);
  const withValue = (message: string): ConfigProblem =>
    issue.input === undefined ? { path, message } : { path, value: issue.input, message };
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return [{ path, message: `is required (${TYPE_NAMES[issue.expected] ?? issue.expected})` }];
      return [withValue(`is not ${TYPE_NAMES[issue.expected] ?? issue.expected}`)];
    case 'too_small':
      return [withValue(sizeMessage('at least', issue.origin, issue.minimum))];
    case 'too_big':
      return [withValue(sizeMessage('at most', issue.origin, issue.maximum))];
    case 'invalid_value':
      return [withValue(issue.values.length === 1 ? `must be ${String(issue.values[0])}` : `must be one of ${issue.values.join(', ')}`)];
    case 'unrecognized_keys': {
      const known = knownKeys(schema, issue.path);
      return issue.keys.map((key) => ({
        path: pathToString([...issue.path, key]),
        message: `is not a known field${suggestion(key, known)}`,
      }));
    }
    case 'invalid_union': {
      // Our unions are "a count or a list": report the problems of the branch whose type matched.
      const branch = issue.errors.find((errs) => !errs.some((e) => e.code === 'invalid_type' && e.path.length === 0));
      if (branch) return schemaProblems(branch.map((e) => ({ ...e, path: [...issue.path, ...e.path] }) as Issue), schema);
      return [withValue('is not a count (1-3) or a list of zone names')];
    }
    case 'invalid_key':
      // The key itself is wrong (a reserved tag name, say): say why, without repeating it.
      return [{ path, message: issue.issues.map((i) => (i.code === 'custom' ? i.message : 'is not a valid key')).join('; ') }];
    default:
      return [withValue(issue.message)];
  }
}

function sizeMessage(bound: string, origin: string, limit: number | bigint): string {
  if (origin === 'string') return `must be ${bound} ${limit} characters long`;
  if (origin === 'array') return `must have ${bound} ${limit} ${limit === 1 ? 'entry' : 'entries'}`;
  return `must be ${bound} ${limit}`;
}

function suggestion(key: string, known: string[]): string {
  if (known.length === 0) return '';
  const best = closest(key, known);
  const close = distance(key.toLowerCase(), best.toLowerCase()) <= Math.max(2, Math.floor(best.length / 3));
  return close ? ` (did you mean "${best}"?)` : ` (expected one of: ${known.join(', ')})`;
}

/** The field names an object schema accepts at a path, for did-you-mean hints. */
function knownKeys(schema: AnySchema, path: readonly PropertyKey[]): string[] {
  let node: AnySchema | undefined = unwrap(schema);
  for (const part of path) {
    if (!node) return [];
    const def = node._zod.def as unknown as { type: string; shape?: Record<string, AnySchema>; element?: AnySchema };
    if (def.type === 'object' && typeof part === 'string') node = unwrap(def.shape?.[part]);
    else if (def.type === 'array' && typeof part === 'number') node = unwrap(def.element);
    else return [];
  }
  const def = node?._zod.def as { type: string; shape?: Record<string, AnySchema> } | undefined;
  return def?.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

function unwrap(schema: AnySchema | undefined): AnySchema | undefined {
  let node = schema;
  while (node) {
    const def = node._zod.def as unknown as { type: string; innerType?: AnySchema };
    if ((def.type === 'default' || def.type === 'optional' || def.type === 'nullable') && def.innerType) node = def.innerType;
    else return node;
  }
  return node;
}
