import { readFileSync } from 'node:fs';
import { ROOT } from './paths.ts';

export const EXAMPLE = readFileSync(`${ROOT}examples/hybrid.yaml`, 'utf8');

/** The example config with some text replaced; fails loudly when the text is not there. */
export function exampleWith(...replacements: [string | RegExp, string][]): string {
  let text = EXAMPLE;
  for (const [from, to] of replacements) {
    const found = typeof from === 'string' ? text.includes(from) : from.test(text);
    if (!found) throw new Error(`example config has no ${String(from)}`);
    text = text.replace(from, to);
  }
  return text;
}

/** Replacements for exampleWith: a config that deploys no monitoring (for beds without a Kubernetes API, or tests about something else). */
export const NO_MONITORING: [string, string] = ['  enabled: true                    # false: no monitoring', '  enabled: false                   # false: no monitoring'];
