import { access } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { type Document, LineCounter, isNode, parseDocument } from 'yaml';
import { ConfigError, UsageError } from '../errors.ts';
import { readInputFile } from '../input-file.ts';
import { type ConfigProblem, VALUE_PREFIX, YAML_PATH, clip } from './problems.ts';
import { type HybridConfig, configSchema } from './schema.ts';
import { schemaProblems } from './schema-problems.ts';
import { semanticProblems } from './semantic.ts';

/** How many times YAML aliases may be expanded in a config: enough for any real reuse, too few for a "billion laughs" document. */
export const MAX_ALIAS_COUNT = 100;

export async function loadConfig(file: string): Promise<HybridConfig> {
  return withFiles(parseConfig(await readConfigText(file), file), file);
}

/** The config file's text: a regular file of at most 1 MiB (see input-file.ts). */
async function readConfigText(file: string): Promise<string> {
  try {
    return await readInputFile(file, 'config file');
  } catch (error) {
    if (error instanceof UsageError && / does not exist$/.test(error.message))
      throw new UsageError(`config file ${file} does not exist (write a starter with \`hybridctl init\`, or pass -c FILE)`);
    throw error;
  }
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
      doc.errors.map((e) => {
        const { line, col } = lines.linePos(e.pos[0]);
        return { path: YAML_PATH, message: `not valid YAML: ${yamlMessage(e.message)}`, line, column: col };
      }),
    );
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    // yaml's guard against alias bombs ("billion laughs") throws a ReferenceError.
    const message =
      error instanceof ReferenceError && /alias/i.test(error.message)
        ? `its aliases expand too far (more than ${MAX_ALIAS_COUNT} alias expansions, as in a "billion laughs" document); write the values out instead of aliasing them`
        : `could not be read: ${yamlMessage(error instanceof Error ? error.message : String(error))}`;
    throw new ConfigError(file, [{ path: YAML_PATH, message: `not valid YAML: ${message}` }]);
  }
  const parsed = configSchema.safeParse(raw, { reportInput: true });
  // A document that is not a mapping at all (the wrong file) gets that one problem, not a list of consequences.
  const mapping = typeof raw === 'object' && raw !== null && !Array.isArray(raw);
  const problems = [...(parsed.success ? [] : schemaProblems(parsed.error.issues, configSchema)), ...(mapping ? semanticProblems(raw) : [])];
  if (problems.length > 0 || !parsed.success) throw new ConfigError(file, withLines(dedupe(problems), doc, lines));
  return parsed.data;
}

/**
 * The first line of a YAML error, with any long word cut to a prefix: some quote the source
 * (a tag, a directive), and the source may be a secret.
 */
function yamlMessage(message: string): string {
  const first = message.split('\n')[0] ?? message;
  return clip(first.replace(new RegExp(`\\S{${VALUE_PREFIX + 1},}`, 'g'), (word) => clip(word)), 2 * VALUE_PREFIX);
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
