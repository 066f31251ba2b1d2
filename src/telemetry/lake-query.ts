import { ActionError, UsageError } from '../core/errors.ts';
import { SIGNALS, type Signal } from './lake-schema.ts';
import { type ViewFilter, viewSql } from './lake-views.ts';

/** A query's answer, whichever engine gave it: column names and types, rows of JSON-ready values. */
export interface QueryResult {
  columns: { name: string; type: string }[];
  rows: Record<string, unknown>[];
}

/** DuckDB's errors that mean the SQL itself is wrong, not the data or the machine. */
const USER_ERRORS = /^(Parser|Binder|Catalog|Conversion|Not implemented|Out of Range|Syntax|Dependency|Constraint) Error/;

/**
 * Runs `sql` with DuckDB (in memory, no extension downloads: it must work offline) over views of
 * local Parquet files, one view per signal. DuckDB is imported here, when a query runs, not
 * when the CLI starts.
 */
export async function queryLocalFiles(sql: string, files: Partial<Record<Signal, readonly string[]>>, filter: ViewFilter): Promise<QueryResult> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:', { autoinstall_known_extensions: 'false', autoload_known_extensions: 'false'});
  const connection = await instance.connect();
  try {
    await connection.run("SET TimeZone = 'UTC'");
    for (const signal of SIGNALS) {
      try {
        await connection.run(viewSql(signal, files[signal] ?? [], filter));
      } catch (error) {
        throw new ActionError(`could not read the ${signal} files: ${(error as Error).message}`, 'run with --refresh to fetch the files again');
      }
    }
    let reader;
    try {
      reader = await connection.runAndReadAll(sql);
    } catch (error) {
      const message = (error as Error).message;
      if (USER_ERRORS.test(message)) throw new UsageError(`the query is not valid SQL for the lake's tables (metrics, logs, states, flows):\n${message}`);
      throw new ActionError(`the query failed: ${message}`);
    }
    const names = reader.columnNames();
    const types = reader.columnTypes().map(String);
    const numeric = types.map((t) => /^(BIGINT|HUGEINT|UBIGINT|UHUGEINT|DECIMAL)/.test(t));
    const rows = reader.getRowsJson().map((row) =>
      Object.fromEntries(names.map((name, i) => [name, numeric[i] && typeof row[i] === 'string' ? asNumber(row[i] as string) : row[i]])),
    );
    return { columns: names.map((name, i) => ({ name, type: types[i] ?? '' })), rows };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Large integers stay exact: as numbers when JSON numbers hold them, else as strings. */
function asNumber(text: string): number | string {
  const value = Number(text);
  if (!Number.isFinite(value)) return text;
  if (/^-?\d+$/.test(text)) return Number.isSafeInteger(value) ? value : text;
  return value;
}
