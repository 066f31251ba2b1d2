import { stripVTControlCharacters } from 'node:util';
import type { HybridConfig } from '../core/config/schema.ts';
import { UsageError } from '../core/errors.ts';
import { statusAccess } from '../pipeline.ts';
import { frameOf, readOnce, staleAfterSeconds } from '../status/frame.ts';
import { problems } from '../status/health.ts';
import type { PanelKey, StatusFrame } from '../status/model.ts';
import { Poller } from '../status/poller.ts';
import { type StatusAccess, type StatusSources, statusSources } from '../status/sources/index.ts';
import type { EventTarget } from '../status/ui/App.tsx';
import { type GlobalOptions, pipelineOptions } from './options.ts';

export interface StatusOptions extends GlobalOptions {
  interval: string;
  once?: boolean;
}

/** How long one source may take before its panel shows an error (the others go on). */
const SOURCE_TIMEOUT_MS = 10_000;

/**
 * `status`: both sites at a glance. On a terminal, a live view (Ink) that refreshes every
 * --interval; with --once, -o json, no terminal or TERM=dumb, plain frames. Reads only.
 */
export async function run(options: StatusOptions, config: HybridConfig): Promise<number> {
  const intervalS = Number(options.interval);
  if (!Number.isFinite(intervalS) || intervalS < 1 || intervalS > 3600) throw new UsageError(`--interval: "${options.interval}" is not a number of seconds from 1 to 3600`);
  const plain = !process.stdout.isTTY || process.env.TERM === 'dumb';
  // Ink's colours come from chalk, which reads this when first loaded (below).
  if (plain || process.env.NO_COLOR !== undefined) process.env.FORCE_COLOR = '0';
  const access = await statusAccess(config, pipelineOptions(options, true));
  const { sources, close } = statusSources(access);
  try {
    return await show(config.metadata.name, access, sources, { intervalS, plain, once: options.once === true, json: options.output === 'json' });
  } finally {
    close();
  }
}

async function show(cluster: string, access: StatusAccess, sources: StatusSources, how: { intervalS: number; plain: boolean; once: boolean; json: boolean }): Promise<number> {
  const { intervalS, plain } = how;
  const staleAfterS = staleAfterSeconds(access.config);
  const problemsOf = (frame: StatusFrame) => problems(frame, staleAfterS);

  if (how.once || how.json) {
    const frame = frameOf(cluster, await readOnce(sources, SOURCE_TIMEOUT_MS));
    const found = problemsOf(frame);
    if (how.json) process.stdout.write(`${JSON.stringify({ ...frame, healthy: found.length === 0, problems: found }, null, 2)}\n`);
    else process.stdout.write(await renderText(frame, { intervalS, staleAfterS, problems: found }));
    return found.length === 0 ? 0 : 1;
  }

  const poller = new Poller<PanelKey>(sources, { intervalMs: intervalS * 1000, timeoutMs: SOURCE_TIMEOUT_MS });
  if (plain) return plainLoop(cluster, poller, { intervalS, staleAfterS, problemsOf });
  const [{ render }, { createElement }, { App }] = await Promise.all([import('ink'), import('react'), import('../status/ui/App.tsx')]);
  const app = render(
    createElement(App, { cluster, poller, intervalS, staleAfterS, problems: problemsOf, events: (target: EventTarget) => eventLines(access, target) }),
    // Ink would draw nothing until exit when CI is set; this is a terminal (plain was ruled out above).
    { exitOnCtrlC: true, alternateScreen: true, interactive: true },
  );
  await app.waitUntilExit();
  return 0;
}

/** One frame as text: the live view's layout without colour, as wide as the terminal (else $COLUMNS, else 100). */
async function renderText(frame: StatusFrame, view: { intervalS: number; staleAfterS: number; problems: string[] }): Promise<string> {
  const [{ renderToString }, { createElement }, { Frame }] = await Promise.all([import('ink'), import('react'), import('../status/ui/Frame.tsx')]);
  const width = process.stdout.columns || Number(process.env.COLUMNS) || 100;
  const text = renderToString(createElement(Frame, { frame, width, ...view }), { columns: width });
  return `${process.env.FORCE_COLOR === '0' ? stripVTControlCharacters(text) : text}\n`;
}

/** Without a terminal: a frame every interval, until interrupted. */
async function plainLoop(cluster: string, poller: Poller<PanelKey>, view: { intervalS: number; staleAfterS: number; problemsOf(frame: StatusFrame): string[] }): Promise<number> {
  const stop = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  for (;;) {
    await poller.refresh();
    const frame = frameOf(cluster, poller.readings);
    process.stdout.write(await renderText(frame, { intervalS: view.intervalS, staleAfterS: view.staleAfterS, problems: view.problemsOf(frame) }));
    const woke = await Promise.race([stop.then(() => 'stop' as const), new Promise<'tick'>((r) => setTimeout(() => r('tick'), view.intervalS * 1000))]);
    if (woke === 'stop') return 0;
  }
}

async function eventLines(access: StatusAccess, target: EventTarget): Promise<string[]> {
  const kube = await access.sites[target.site]?.kube();
  if (!kube) return ['no kubeconfig for this site'];
  const events = await kube.events(target.namespace, target.name);
  return events.slice(-10).map((e) => `${String(e.lastTimestamp ?? e.eventTime ?? '').slice(11, 19)} ${e.type ?? ''} ${e.reason ?? ''}: ${e.message ?? ''}`);
}
