/** One thing wrong with a config: where, what was there, and what is expected. */
export interface ConfigProblem {
  /** Dotted path into the document, e.g. `aws.vpc.cidr` or `onprem.nodes[1].address`. */
  path: string;
  /** The offending value; absent when the field is missing. */
  value?: unknown;
  /** What is wrong, phrased to follow the value: `is not a CIDR (...)`. */
  message: string;
  /** 1-based line in the file, when known. */
  line?: number;
}

export function pathToString(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(document)';
}

export function showValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || typeof value !== 'object') return String(value);
  const json = JSON.stringify(value);
  return json.length > 60 ? `${json.slice(0, 57)}...` : json;
}

export function formatProblem(problem: ConfigProblem, file?: string): string {
  const where = file ? `${file}${problem.line ? `:${problem.line}` : ''}: ` : '';
  const value = 'value' in problem ? `${showValue(problem.value)} ` : '';
  return `${where}${problem.path}: ${value}${problem.message}`;
}
