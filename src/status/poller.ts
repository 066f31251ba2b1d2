import { messageOf } from '../core/errors.ts';
import type { Reading } from './model.ts';

/** A source answers with a value, or with `{ unset }` for something not set up. */
export type SourceResult<T> = T | { unset: string };
export type Source<T> = (signal: AbortSignal) => Promise<SourceResult<T>>;

const isUnset = (r: unknown): r is { unset: string } => typeof r === 'object' && r !== null && 'unset' in r && Object.keys(r).length === 1;

/**
 * Reads one source with a deadline. A failure keeps the last good value with its time and adds
 * the error, so a panel shows what it last knew beside why it cannot know more now.
 */
export async function readSource<T>(source: Source<T>, previous: Reading<T> | undefined, timeoutMs: number, now: () => Date = () => new Date()): Promise<Reading<T>> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Error(`no answer within ${timeoutMs / 1000} s`));
    }, timeoutMs);
  });
  try {
    const result = await Promise.race([source(controller.signal), deadline]);
    if (isUnset(result)) return { unset: result.unset, lastGoodAt: now().toISOString() };
    return { value: result, lastGoodAt: now().toISOString() };
  } catch (error) {
    return { ...(previous?.value !== undefined ? { value: previous.value, lastGoodAt: previous.lastGoodAt } : {}), error: messageOf(error) };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Keeps every source's reading fresh: each is read on its own every `intervalMs` (a slow or failing
 * one holds up no other), and subscribers are told of each new reading. `refresh()` reads all now.
 */
export class Poller<K extends string> {
  readonly readings = new Map<K, Reading<unknown>>();
  private timers: NodeJS.Timeout[] = [];
  private readonly running = new Set<K>();

  private readonly sources: Record<K, Source<unknown>>;
  private readonly options: { intervalMs: number; timeoutMs: number };
  private readonly listeners = new Set<(key: K, reading: Reading<unknown>) => void>();

  constructor(sources: Record<K, Source<unknown>>, options: { intervalMs: number; timeoutMs: number }) {
    this.sources = sources;
    this.options = options;
  }

  /** Calls `listener` with every new reading; returns how to stop. */
  subscribe(listener: (key: K, reading: Reading<unknown>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async read(key: K): Promise<void> {
    if (this.running.has(key)) return;
    this.running.add(key);
    try {
      const reading = await readSource(this.sources[key], this.readings.get(key), this.options.timeoutMs);
      this.readings.set(key, reading);
      for (const listener of this.listeners) listener(key, reading);
    } finally {
      this.running.delete(key);
    }
  }

  /** Reads every source once, all at the same time. */
  refresh(): Promise<void> {
    return Promise.all((Object.keys(this.sources) as K[]).map((k) => this.read(k))).then(() => undefined);
  }

  start(): void {
    void this.refresh();
    for (const key of Object.keys(this.sources) as K[]) this.timers.push(setInterval(() => void this.read(key), this.options.intervalMs));
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }
}
