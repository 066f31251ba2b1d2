import { DuckDBInstance } from '@duckdb/node-api';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A Parquet file's columns, as DuckDB types, and its rows as SQL literals' values. */
export interface ParquetTable {
  columns: [name: string, duckType: string][];
  rows: unknown[][];
}

const literal = (value: unknown): string => (value === null ? 'NULL' : typeof value === 'string' ? `'${value.replaceAll("'", "''")}'` : String(value));

/**
 * Writes Parquet files the way a writer of the lake contract does (typed columns, the schema
 * version in the key-value metadata) with DuckDB itself, and returns their bytes.
 */
export async function parquetFiles(tables: ParquetTable[]): Promise<Buffer[]> {
  const dir = mkdtempSync(join(tmpdir(), 'hybridctl-parquet-'));
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const out: Buffer[] = [];
    for (const [i, table] of tables.entries()) {
      const select = table.rows
        .map((row) => `SELECT ${table.columns.map(([name, type], c) => `CAST(${literal(row[c])} AS ${type}) AS "${name}"`).join(', ')}`)
        .join(' UNION ALL ');
      const path = join(dir, `${i}.parquet`);
      await connection.run(`COPY (${select}) TO '${path}' (FORMAT parquet, KV_METADATA {'hybridctl.schema_version': '1'})`);
      out.push(readFileSync(path));
    }
    return out;
  } finally {
    connection.closeSync();
    instance.closeSync();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * What a shipper run by a test reads its peers with: the test bed's kubeconfig, and moto as its S3
 * with a key of its own (no instance metadata to fall back to).
 */
export function shipperPeersEnv(motoEndpoint: string, kubeconfig: string): Record<string, string> {
  return {
    KUBECONFIG: kubeconfig,
    AWS_ENDPOINT_URL: motoEndpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'shipper',
    AWS_SECRET_ACCESS_KEY: 'shipper-secret',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}
