import pLimit from 'p-limit';
import { type ActContext, type Found, type Outputs, type Refs, isUnknown } from './model.ts';
import type { Action, Plan, PlannedChange } from './plan.ts';

export type EngineEvent =
  | { type: 'start'; key: string }
  | { type: 'progress'; key: string; message: string }
  | { type: 'done'; key: string; action: Action; ref?: string; ms: number }
  | { type: 'failed'; key: string; error: unknown; ms: number }
  | { type: 'skipped'; key: string; reason: string };

export interface ExecuteOptions {
  /** How many changes may be in flight at once. */
  concurrency?: number;
  signal?: AbortSignal;
  onEvent?: (event: EngineEvent) => void;
}

export interface Failure {
  change: PlannedChange<unknown>;
  error: unknown;
}

export interface Outcome {
  /** What each change actually did (a planned update can turn out to be a no-op). */
  done: Map<string, Action>;
  failed: Failure[];
  skipped: string[];
}

type Result = 'ok' | 'failed' | 'skipped';

/**
 * Applies a plan: each change starts once the changes it waits for have finished, independent
 * changes run in parallel, and a failure skips only what depends on it.
 */
export async function execute<Ctx>(plan: Plan<Ctx>, provider: Ctx, options: ExecuteOptions = {}): Promise<Outcome> {
  const emit = options.onEvent ?? (() => {});
  const signal = options.signal ?? new AbortController().signal;
  const limit = pLimit(options.concurrency ?? 8);
  const byKey = new Map(plan.changes.map((c) => [c.key, c]));
  const outputs = new Map<string, Outputs>();
  const results = new Map<string, Promise<Result>>();
  const outcome: Outcome = { done: new Map(), failed: [], skipped: [] };

  const refs: Refs = {
    get(id, output) {
      const value = outputs.get(id)?.[output];
      if (value === undefined) throw new Error(`engine: output "${output}" of "${id}" is not available`);
      return value;
    },
  };

  const act = async (change: PlannedChange<Ctx>): Promise<{ action: Action; ref?: string }> => {
    const ctx: ActContext<Ctx> = {
      provider,
      id: change.id,
      signal,
      report: (message) => emit({ type: 'progress', key: change.key, message }),
      ...(change.action === 'delete' ? { deleting: change.reason ? 'orphan' : 'down' } : {}),
    };
    const { impl, found } = change;
    if (change.action === 'delete') {
      if (found) await impl.destroy(found, ctx);
      return { action: 'delete', ref: found?.ref };
    }
    const node = change.node;
    if (!node) throw new Error(`engine: change "${change.key}" has no node`);
    const spec = node.spec(refs);
    assertKnown(spec, node.id);
    let result: Found<unknown>;
    let action: Action;
    if (!found) {
      result = await impl.create(spec, ctx);
      action = 'create';
    } else {
      const diff = impl.diff(found.state, spec);
      if (diff.replace) {
        await impl.destroy(found, ctx);
        result = await impl.create(spec, ctx);
        action = 'replace';
      } else if (diff.changes.length > 0) {
        result = await impl.update(found, spec, diff.changes, ctx);
        action = 'update';
      } else {
        result = found;
        action = 'noop';
      }
    }
    outputs.set(node.id, impl.outputs(result));
    return { action, ref: result.ref };
  };

  const run = (change: PlannedChange<Ctx>): Promise<Result> => {
    let pending = results.get(change.key);
    if (pending) return pending;
    pending = (async (): Promise<Result> => {
      const deps = await Promise.all(change.after.map((key) => byKey.get(key)).filter((c) => c !== undefined).map(run));
      if (deps.some((r) => r !== 'ok')) return skip(change, 'a change it depends on did not complete');
      if (change.action === 'noop' && change.found && change.node) {
        outputs.set(change.node.id, change.impl.outputs(change.found));
        return 'ok';
      }
      return limit(async (): Promise<Result> => {
        if (signal.aborted) return skip(change, 'interrupted');
        const started = performance.now();
        emit({ type: 'start', key: change.key });
        try {
          const { action, ref } = await act(change);
          outcome.done.set(change.key, action);
          emit({ type: 'done', key: change.key, action, ref, ms: performance.now() - started });
          return 'ok';
        } catch (error) {
          outcome.failed.push({ change: change as PlannedChange<unknown>, error });
          emit({ type: 'failed', key: change.key, error, ms: performance.now() - started });
          return 'failed';
        }
      });
    })();
    results.set(change.key, pending);
    return pending;
  };

  const skip = (change: PlannedChange<Ctx>, reason: string): Result => {
    outcome.skipped.push(change.key);
    emit({ type: 'skipped', key: change.key, reason });
    return 'skipped';
  };

  await Promise.all(plan.changes.map(run));
  return outcome;
}

function assertKnown(value: unknown, id: string, path = 'spec'): void {
  if (isUnknown(value)) throw new Error(`engine: ${id} ${path} is still unknown at apply time`);
  if (Array.isArray(value)) value.forEach((v, i) => assertKnown(v, id, `${path}[${i}]`));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) assertKnown(v, id, `${path}.${k}`);
}
