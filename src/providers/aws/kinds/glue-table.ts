import { CreateTableCommand, DeleteTableCommand, type Table, type TableInput, UpdateTableCommand, paginateGetTables } from '@aws-sdk/client-glue';
import { diffFields } from '../../../core/engine/diff.ts';
import { type FieldChange, type Val, isUnknown, known } from '../../../core/engine/model.ts';
import { collect, deleting } from '../calls.ts';
import { TAG_CLUSTER, TAG_COMPONENT } from '../naming.ts';
import type { AwsKind } from '../provider.ts';
import { glueDatabaseKind, ownershipParameters } from './glue-database.ts';

export interface GlueColumn {
  name: string;
  /** A Hive type: int, bigint, string, double, boolean, timestamp, date. */
  type: string;
}

/** Parquet files read through Hive's Parquet SerDe, as Athena and Glue ETL read them. */
export const PARQUET_FORMAT = {
  inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
  outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
  serde: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
} as const;

export interface GlueTableSpec {
  databaseName: Val;
  name: string;
  description: string;
  columns: GlueColumn[];
  partitionKeys: GlueColumn[];
  /** `s3://bucket/prefix/`. */
  location: Val;
  /** Table parameters besides the ownership marks (classification, partition projection, …). */
  parameters: Readonly<Record<string, Val>>;
}

export interface GlueTableState {
  databaseName: string;
  name: string;
  description: string;
  tableType: string;
  columns: GlueColumn[];
  partitionKeys: GlueColumn[];
  location: string;
  inputFormat: string;
  outputFormat: string;
  serde: string;
  parameters: Readonly<Record<string, string>>;
}

const TABLE_TYPE = 'EXTERNAL_TABLE';

/** Parameters this kind manages even after the spec stops naming them: dropping a projection setting must reach Glue. */
const MANAGED_PARAMETER = /^(projection\.|storage\.location\.template$)/;

/**
 * An external table of Parquet files in the Glue Data Catalog. Glue tables take no tags: the
 * ownership marks are table parameters, read in the same GetTables listing. A table lives in
 * one database: moving it replaces it.
 */
export const glueTableKind: AwsKind<GlueTableSpec, GlueTableState> = {
  kind: 'glue-table',

  async observe(ctx) {
    const glue = ctx.provider.clients.glue;
    const databases = await ctx.observe(glueDatabaseKind);
    const tables = await Promise.all(databases.map(async (d) => (await collect(paginateGetTables({ client: glue }, { DatabaseName: d.state.name }))).flatMap((p) => p.TableList ?? [])));
    return tables
      .flat()
      .filter((t) => t.Parameters?.[TAG_CLUSTER] === ctx.provider.cluster)
      .map((t) => {
        const state = stateOf(t);
        return { id: state.parameters[TAG_COMPONENT] ?? state.name, ref: `${state.databaseName}.${state.name}`, state };
      });
  },

  diff(state, spec) {
    const fixed = diffFields(state, { databaseName: spec.databaseName, name: spec.name });
    if (fixed.length > 0) return { changes: fixed, replace: 'a Glue table cannot move to another database or name' };
    const changes = diffFields(state, {
      description: spec.description,
      tableType: TABLE_TYPE,
      columns: spec.columns,
      partitionKeys: spec.partitionKeys,
      location: spec.location,
      inputFormat: PARQUET_FORMAT.inputFormat,
      outputFormat: PARQUET_FORMAT.outputFormat,
      serde: PARQUET_FORMAT.serde,
    });
    return { changes: [...changes, ...parameterChange(state.parameters, spec.parameters)] };
  },

  describe(spec) {
    return { table: `${String(spec.databaseName)}.${spec.name}`, location: spec.location, partitions: spec.partitionKeys.map((k) => k.name).join(', ') };
  },

  async create(spec, ctx) {
    const input = tableInput(spec, ctx.provider.cluster, ctx.id);
    await ctx.provider.clients.glue.send(new CreateTableCommand({ DatabaseName: known(spec.databaseName), TableInput: input }));
    return { id: ctx.id, ref: `${known(spec.databaseName)}.${spec.name}`, state: stateOf({ ...input, Name: spec.name, DatabaseName: known(spec.databaseName) }) };
  },

  async update(found, spec, _changes, ctx) {
    const input = tableInput(spec, ctx.provider.cluster, found.id);
    await ctx.provider.clients.glue.send(new UpdateTableCommand({ DatabaseName: found.state.databaseName, TableInput: input }));
    return { ...found, state: stateOf({ ...input, Name: spec.name, DatabaseName: found.state.databaseName }) };
  },

  async destroy(found, ctx) {
    await deleting(() => ctx.provider.clients.glue.send(new DeleteTableCommand({ DatabaseName: found.state.databaseName, Name: found.state.name })));
  },

  outputs(found) {
    return { databaseName: found.state.databaseName, tableName: found.state.name };
  },
};

function desiredParameters(spec: GlueTableSpec, cluster: string, id: string): Record<string, string> {
  return { ...Object.fromEntries(Object.entries(spec.parameters).map(([k, v]) => [k, known(v)])), ...ownershipParameters(cluster, id) };
}

function tableInput(spec: GlueTableSpec, cluster: string, id: string): TableInput {
  const columns = (list: GlueColumn[]) => list.map((c) => ({ Name: c.name, Type: c.type }));
  return {
    Name: spec.name,
    Description: spec.description,
    TableType: TABLE_TYPE,
    Parameters: desiredParameters(spec, cluster, id),
    PartitionKeys: columns(spec.partitionKeys),
    StorageDescriptor: {
      Columns: columns(spec.columns),
      Location: known(spec.location),
      InputFormat: PARQUET_FORMAT.inputFormat,
      OutputFormat: PARQUET_FORMAT.outputFormat,
      SerdeInfo: { SerializationLibrary: PARQUET_FORMAT.serde, Parameters: { 'serialization.format': '1' } },
    },
  };
}

/** The wanted parameters that differ, and managed ones no longer wanted (ownership marks are checked by observe). */
function parameterChange(actual: Readonly<Record<string, string>>, wanted: Readonly<Record<string, Val>>): FieldChange[] {
  const from: Record<string, string | undefined> = {};
  const to: Record<string, Val | undefined> = {};
  for (const [key, value] of Object.entries(wanted))
    if (isUnknown(value) || actual[key] !== value) {
      from[key] = actual[key];
      to[key] = value;
    }
  for (const key of Object.keys(actual))
    if (MANAGED_PARAMETER.test(key) && !(key in wanted)) {
      from[key] = actual[key];
      to[key] = undefined;
    }
  return Object.keys(to).length === 0 ? [] : [{ field: 'parameters', from, to }];
}

function stateOf(table: Table | (TableInput & { DatabaseName: string })): GlueTableState {
  const sd = table.StorageDescriptor;
  const columns = (list: { Name?: string; Type?: string }[] | undefined) => (list ?? []).map((c) => ({ name: c.Name ?? '', type: c.Type ?? '' }));
  return {
    databaseName: table.DatabaseName ?? '',
    name: table.Name ?? '',
    description: table.Description ?? '',
    tableType: table.TableType ?? '',
    columns: columns(sd?.Columns),
    partitionKeys: columns(table.PartitionKeys),
    location: sd?.Location ?? '',
    inputFormat: sd?.InputFormat ?? '',
    outputFormat: sd?.OutputFormat ?? '',
    serde: sd?.SerdeInfo?.SerializationLibrary ?? '',
    parameters: table.Parameters ?? {},
  };
}
