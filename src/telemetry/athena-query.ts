import {
  type AthenaClient,
  type ColumnInfo,
  GetQueryExecutionCommand,
  type QueryExecution,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  paginateGetQueryResults,
} from '@aws-sdk/client-athena';
import { setTimeout as sleep } from 'node:timers/promises';
import { ActionError, UsageError } from '../core/errors.ts';
import type { QueryResult } from './lake-query.ts';

export interface AthenaQuery {
  sql: string;
  workgroup: string;
  database: string;
  /** Called now and then while the query runs. */
  progress?: (state: string, elapsedMs: number, scannedBytes: number) => void;
  signal?: AbortSignal;
}

/** Athena's error category for a problem in the query itself (1 system, 2 user, 3 other). */
const USER_ERROR = 2;

/**
 * Runs a query in the lake's workgroup (which fixes where results go and how they are encrypted)
 * with the lake's database as context, waits for it, and reads every page of the result.
 */
export async function queryAthena(athena: AthenaClient, query: AthenaQuery): Promise<QueryResult> {
  const started = await athena.send(
    new StartQueryExecutionCommand({ QueryString: query.sql, WorkGroup: query.workgroup, QueryExecutionContext: { Database: query.database } }),
  );
  const id = started.QueryExecutionId ?? '';
  const execution = await waitFor(athena, id, query);
  const state = execution.Status?.State;
  if (state !== 'SUCCEEDED') {
    const reason = execution.Status?.StateChangeReason ?? state ?? 'unknown state';
    if (execution.Status?.AthenaError?.ErrorCategory === USER_ERROR) throw new UsageError(`Athena refused the query (${id}): ${reason}`);
    throw new ActionError(`the Athena query ${id} ended ${state}: ${reason}`);
  }
  return readResults(athena, id, execution.StatementType === 'DML');
}

async function waitFor(athena: AthenaClient, id: string, query: AthenaQuery): Promise<QueryExecution> {
  const start = Date.now();
  let lastReport = start;
  for (let delay = 200; ; delay = Math.min(delay * 2, 2_000)) {
    const { QueryExecution: execution = {} } = await athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
    const state = execution.Status?.State ?? 'QUEUED';
    if (state === 'SUCCEEDED' || state === 'FAILED' || state === 'CANCELLED') return execution;
    if (Date.now() - lastReport >= 5_000) {
      lastReport = Date.now();
      query.progress?.(state, lastReport - start, execution.Statistics?.DataScannedInBytes ?? 0);
    }
    try {
      await sleep(delay, undefined, query.signal ? { signal: query.signal } : {});
    } catch (error) {
      // Interrupted: the query would go on running (and costing) in Athena.
      await athena.send(new StopQueryExecutionCommand({ QueryExecutionId: id })).catch(() => undefined);
      throw error;
    }
  }
}

async function readResults(athena: AthenaClient, id: string, selectLike: boolean): Promise<QueryResult> {
  let info: ColumnInfo[] = [];
  const values: (string | undefined)[][] = [];
  for await (const page of paginateGetQueryResults({ client: athena }, { QueryExecutionId: id })) {
    if (info.length === 0) info = page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? [];
    for (const row of page.ResultSet?.Rows ?? []) values.push((row.Data ?? []).map((d) => d.VarCharValue));
  }
  const names = info.map((c, i) => c.Name ?? c.Label ?? `_col${i}`);
  // A SELECT's first row repeats the column names.
  if (selectLike && values[0] && names.length > 0 && names.every((name, i) => values[0]![i] === name)) values.shift();
  const width = Math.max(names.length, ...values.map((v) => v.length));
  const columns = Array.from({ length: width }, (_, i) => ({ name: names[i] ?? `_col${i}`, type: info[i]?.Type ?? 'varchar' }));
  const rows = values.map((row) => Object.fromEntries(columns.map((c, i) => [c.name, typed(row[i], c.type)])));
  return { columns, rows };
}

function typed(value: string | undefined, type: string): unknown {
  if (value === undefined) return null;
  if (/^(tinyint|smallint|integer|int|bigint)$/i.test(type)) {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : value;
  }
  if (/^(double|float|real|decimal)/i.test(type)) {
    const n = Number(value);
    return Number.isFinite(n) ? n : value;
  }
  if (/^boolean$/i.test(type)) return value === 'true';
  return value;
}
