import { access, readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { type Document, LineCounter, isNode, parseDocument } from 'yaml';
import { ConfigError, UsageError } from '../errors.ts';
import type { ConfigProblem } from './problems.ts';
import { type HybridConfig, configSchema } from './schema.ts';
import { schemaProblems } from './schema-problems.ts';
import { semanticProblems } from './semantic.ts';

export async function loadConfig(file: string): Promise<HybridConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UsageError(`config file ${file} does not exist (write a starter with \`hybridctl init\`, or pass -c FILE)`);
    throw new UsageError(`cannot read config file ${file}: ${(error as Error).message}`);
  }
  return withFiles(parseConfig(text, file), file);
}

/** Resolves the files a config names (patches, secrets) against its folder, and checks they exist. */
async function withFiles(config: HybridConfig, file: string): Promise<HybridConfig> {
  const base = dirname(resolve(file));
  const problems: ConfigProblem[] = [];
  const check = async (path: string, value: string): Promise<string> => {
    const absolute = resolve(base, value);
    try {
      await access(absolute);
    } catch {
      problems.push({ path, value, message: `does not exist (paths are relative to ${base})` });
    }
    return absolute;
  };
  const patches = await Promise.all(config.talos.patches.map(async (p, i) => ({ ...p, file: await check(`talos.patches[${i}].file`, p.file) })));
  const secretsFiles: HybridConfig['talos']['secretsFiles'] = {};
  for (const site of ['aws', 'onprem'] as const) {
    const value = config.talos.secretsFiles[site];
    if (value) secretsFiles[site] = await check(`talos.secretsFiles.${site}`, value);
  }
  if (problems.length > 0) throw new ConfigError(file, problems);
  return { ...config, talos: { ...config.talos, patches, secretsFiles } };
}

/** Parses and validates a config document, reporting every problem at once. */
export function parseConfig(text: string, file = 'hybrid.yaml'): HybridConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => ({ path: '(yaml)', message: e.message.split('\n')[0] ?? e.message, line: e.linePos?.[0]?.line })),
    );
  }
  const raw: unknown = doc.toJS();
  const parsed = configSchema.safeParse(raw, { reportInput: true });
  const problems = [...(parsed.success ? [] : schemaProblems(parsed.error.issues, configSchema)), ...semanticProblems(raw)];
  if (problems.length > 0 || !parsed.success) throw new ConfigError(file, withLines(dedupe(problems), doc, lines));
  return parsed.data;
}

function dedupe(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}\u0000${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Adds line numbers and orders problems as they appear in the file. */
function withLines(problems: ConfigProblem[], doc: Document, lines: LineCounter): ConfigProblem[] {
  return problems
    .map((problem) => {
      const node = nearestNode(doc, splitPath(problem.path));
      const offset = node?.range?.[0];
      return offset === undefined ? problem : { ...problem, line: lines.linePos(offset).line };
    })
    .sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
}

/** The node at a path, or the closest ancestor that exists (for missing fields). */
function nearestNode(doc: Document, path: (string | number)[]) {
  for (let depth = path.length; depth > 0; depth--) {
    const node = doc.getIn(path.slice(0, depth), true);
    if (isNode(node)) return node;
    // Unknown keys have no value node of their own: point at the key.
    const parent = depth > 1 ? doc.getIn(path.slice(0, depth - 1), true) : doc.contents;
    if (parent && typeof parent === 'object' && 'items' in parent && Array.isArray(parent.items)) {
      const pair = parent.items.find((item: unknown) => isPairWithKey(item, path[depth - 1]));
      if (pair) return pair.key;
    }
  }
  return undefined;
}

function isPairWithKey(item: unknown, key: string | number | undefined): item is { key: { range?: [number, number, number] } } {
  if (typeof item !== 'object' || item === null || !('key' in item)) return false;
  const k = (item as { key: unknown }).key;
  return isNode(k) && 'value' in k && (k as { value: unknown }).value === key;
}

function splitPath(path: string): (string | number)[] {
  const parts: (string | number)[] = [];
  for (const match of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (match[2] !== undefined) parts.push(Number(match[2]));
    else if (match[1] !== undefined) parts.push(match[1]);
  }
  return parts;
}
