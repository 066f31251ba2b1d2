import { Listr, type ListrTask, PRESET_TIMER } from 'listr2';
import type { EngineEvent } from '../core/engine/execute.ts';
import type { PlannedChange } from '../core/engine/plan.ts';
import { messageOf } from '../core/errors.ts';
import { type Paint, formatDuration } from './terminal.ts';

export type ProgressMode = 'tty' | 'plain' | 'silent';

/** Shows the engine's work as it happens. */
export interface Progress {
  onEvent(event: EngineEvent): void;
  /** Waits until the display has drawn its last frame. */
  finish(): Promise<void>;
}

const PAST: Record<string, string> = { create: 'created', update: 'updated', replace: 'replaced', delete: 'deleted', noop: 'unchanged' };

/** A change of one site; `key` is unique across sites. */
export type SiteChange = PlannedChange<unknown> & { site: string };

function label(change: PlannedChange<unknown>): string {
  return `${change.kind} ${change.id}`;
}

export function startProgress(mode: ProgressMode, changes: readonly SiteChange[], out: NodeJS.WriteStream, paint: Paint): Progress {
  if (mode === 'silent') return { onEvent() {}, finish: async () => {} };
  return mode === 'tty' ? listrProgress(changes) : plainProgress(changes, out, paint);
}

/** One line per start, finish and failure, with durations: for logs and CI. */
function plainProgress(changes: readonly SiteChange[], out: NodeJS.WriteStream, paint: Paint): Progress {
  const byKey = new Map(changes.map((c) => [c.key, c]));
  const width = Math.max(...changes.map((c) => c.site.length));
  return {
    onEvent(event) {
      const change = byKey.get(event.key);
      if (!change) return;
      const write = (line: string) => out.write(`${paint('gray', change.site.padEnd(width))} ${line}\n`);
      const what = label(change);
      switch (event.type) {
        case 'start':
          write(`${paint('cyan', '…')} ${change.action} ${what}`);
          break;
        case 'progress':
          write(`  ${what}: ${event.message}`);
          break;
        case 'done':
          write(`${paint('green', '✔')} ${PAST[event.action]} ${what}${event.ref ? ` (${event.ref})` : ''} in ${formatDuration(event.ms)}`);
          break;
        case 'failed':
          write(`${paint('red', '✖')} ${change.action} ${what} failed after ${formatDuration(event.ms)}: ${messageOf(event.error)}`);
          break;
        case 'skipped':
          write(`${paint('yellow', '↓')} skipped ${what}: ${event.reason}`);
          break;
      }
    },
    finish: async () => {},
  };
}

interface Pending {
  resolve(result: { skipped?: string; title?: string }): void;
  reject(error: unknown): void;
  output?: (message: string) => void;
}

/** A live task list: one task per change, running ones with a spinner and what they wait for. */
function listrProgress(changes: readonly SiteChange[]): Progress {
  const pending = new Map<string, Pending>();
  const results = new Map<string, Promise<{ skipped?: string; title?: string }>>();
  for (const change of changes) {
    results.set(
      change.key,
      new Promise((resolve, reject) => {
        pending.set(change.key, { resolve, reject });
      }),
    );
  }
  const tasks: ListrTask[] = changes.map((change) => ({
    title: `${change.site}: ${change.action} ${label(change)}`,
    task: async (_ctx, task) => {
      const entry = pending.get(change.key);
      if (entry) entry.output = (message) => (task.output = message);
      task.output = change.after.length > 0 ? 'waiting for what it depends on' : 'queued';
      const result = (await results.get(change.key)) ?? {};
      if (result.skipped) task.skip(result.skipped);
      else if (result.title) task.title = result.title;
    },
  }));
  const listr = new Listr(tasks, {
    concurrent: true,
    exitOnError: false,
    registerSignalListeners: false,
    rendererOptions: { collapseErrors: false, showErrorMessage: true, timer: PRESET_TIMER },
    renderer: 'default',
  });
  const running = listr.run().catch(() => undefined);
  return {
    onEvent(event) {
      const entry = pending.get(event.key);
      if (!entry) return;
      const change = changes.find((c) => c.key === event.key);
      switch (event.type) {
        case 'start':
          entry.output?.('working');
          break;
        case 'progress':
          entry.output?.(event.message);
          break;
        case 'done':
          entry.resolve({ title: `${change ? `${change.site}: ${PAST[event.action]} ${label(change)}` : event.key}${event.ref ? ` (${event.ref})` : ''}` });
          break;
        case 'failed':
          entry.reject(new Error(messageOf(event.error)));
          break;
        case 'skipped':
          entry.resolve({ skipped: event.reason });
          break;
      }
    },
    finish: async () => {
      await running;
    },
  };
}
