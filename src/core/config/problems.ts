/** One thing wrong with a config: where, what was there, and what is expected. */
export interface ConfigProblem {
  /** Dotted path into the document, e.g. `aws.vpc.cidr` or `onprem.nodes[1].address`; `(yaml)` for a YAML error. */
  path: string;
  /** The offending value; absent when the field is missing. Shown only as a prefix (see `clip`). */
  value?: unknown;
  /** What is wrong, phrased to follow the value: `is not a CIDR (...)`. */
  message: string;
  /** 1-based line in the file, when known. */
  line?: number;
  /** 1-based column, when known (YAML errors). */
  column?: number;
}

/** The path of problems that are the YAML itself (syntax, duplicate keys, aliases), not a field. */
export const YAML_PATH = '(yaml)';

/**
 * How much of any value from the config a message quotes. A config may be the wrong file
 * (`-c /proc/self/environ`, a key file) and messages end up in CI logs: never echo it whole.
 */
export const VALUE_PREFIX = 60;

/** At most VALUE_PREFIX characters of a text, then `…` when there was more. */
export function clip(text: string, max = VALUE_PREFIX): string {
  const chars = [...text];
  return chars.length > max ? `${chars.slice(0, max).join('')}…` : text;
}

/** A path with every over-long key (a map key is a value too) cut to a prefix. */
export function clipPath(path: string): string {
  return path.replace(new RegExp(`[^.[\\]]{${VALUE_PREFIX + 1},}`, 'g'), (part) => clip(part));
}

export function pathToString(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(document)';
}

/** A value as messages show it: strings quoted, anything longer than the prefix cut, with its length. */
export function showValue(value: unknown): string {
  if (typeof value === 'string') {
    const chars = [...value];
    return chars.length > VALUE_PREFIX ? `${JSON.stringify(chars.slice(0, VALUE_PREFIX).join(''))}… (${chars.length} characters)` : JSON.stringify(value);
  }
  if (value === null || typeof value !== 'object') return String(value);
  return clip(jsonText(value));
}

/** A value for JSON output: numbers, booleans and null as they are, a string as its prefix, anything else as its JSON text's prefix. */
export function jsonValue(value: unknown): unknown {
  if (typeof value === 'string') return clip(value);
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
  return clip(jsonText(value));
}

/** JSON text of a parsed value; YAML aliases can make it circular. */
function jsonText(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return Array.isArray(value) ? '[…]' : '{…}';
  }
}

export function formatProblem(problem: ConfigProblem, file?: string): string {
  const position = problem.line ? `:${problem.line}${problem.column ? `:${problem.column}` : ''}` : '';
  const where = file ? `${file}${position}: ` : '';
  if (problem.path === YAML_PATH) return `${where}${problem.message}`;
  const value = 'value' in problem ? `${showValue(problem.value)} ` : '';
  return `${where}${clipPath(problem.path)}: ${value}${problem.message}`;
}

/** A problem as `validate -o json` prints it: `{ path, line, column?, value?, message }`, values prefix-limited. */
export function problemJson(problem: ConfigProblem): Record<string, unknown> {
  return {
    path: clipPath(problem.path),
    line: problem.line ?? null,
    ...(problem.column ? { column: problem.column } : {}),
    ...('value' in problem ? { value: jsonValue(problem.value) } : {}),
    message: problem.message,
  };
}
