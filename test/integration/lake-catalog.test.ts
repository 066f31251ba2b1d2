import { AthenaClient, GetWorkGroupCommand, ListTagsForResourceCommand, ListWorkGroupsCommand, UpdateWorkGroupCommand } from '@aws-sdk/client-athena';
import { GetDatabasesCommand, GetTableCommand, GetTablesCommand, GetTagsCommand, GlueClient, type Table, UpdateTableCommand } from '@aws-sdk/client-glue';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config/load.ts';
import type { HybridConfig } from '../../src/core/config/schema.ts';
import { execute } from '../../src/core/engine/execute.ts';
import type { Node } from '../../src/core/engine/model.ts';
import { Observation, type Plan, planDown, planUp } from '../../src/core/engine/plan.ts';
import { baseStack } from '../../src/providers/aws/base-stack.ts';
import { AwsClients } from '../../src/providers/aws/clients.ts';
import type { AwsProvider } from '../../src/providers/aws/provider.ts';
import { LAKE_DATABASE_ID, LAKE_WORKGROUP_ID, catalogNodes, lakeTableId } from '../../src/telemetry/lake-catalog.ts';
import { awsEnv, runCli, writeConfig } from '../support/cli.ts';
import { EXAMPLE } from '../support/config.ts';
import { recordedRequests } from '../support/inventory.ts';
import { HARNESS_KEY, type Moto, startMoto } from '../support/moto.ts';
import { CA_CERT } from '../support/tls.ts';

/**
 * The lake's Glue catalog and Athena workgroup, driven through the engine (plan + apply) in this
 * process against moto and read back with the harness's own clients; then `data query --engine
 * athena` through the real CLI (moto does not run SQL: it records the submission and answers
 * with results queued through its API).
 */

process.env.AWS_ACCESS_KEY_ID = 'testing';
process.env.AWS_SECRET_ACCESS_KEY = 'testing';

const ACCOUNT = '123456789012';
const REGION = 'eu-central-1';
const BUCKET = `hctl-demo-telemetry-${ACCOUNT}-${REGION}`;
const DATABASE = 'demo_telemetry';
const WORKGROUP = 'demo-telemetry';

let moto: Moto;
let glue: GlueClient;
let athena: AthenaClient;
let provider: AwsProvider;
let config: HybridConfig;
let configFile: string;

beforeAll(async () => {
  moto = await startMoto();
  const harness = {
    endpoint: moto.endpoint,
    region: REGION,
    credentials: { accessKeyId: HARNESS_KEY, secretAccessKey: 'testing' },
    requestHandler: new NodeHttpHandler({ httpsAgent: new Agent({ ca: readFileSync(CA_CERT) }) }),
  };
  glue = new GlueClient(harness);
  athena = new AthenaClient(harness);
  provider = { cluster: 'demo', region: REGION, account: ACCOUNT, userTags: {}, clients: new AwsClients({ region: REGION, endpoint: moto.endpoint }) };
  configFile = writeConfig(EXAMPLE);
  config = parseConfig(EXAMPLE, configFile);
});
afterAll(async () => moto?.stop());

/** The catalog with what it stands on: the cluster's key and the telemetry bucket, from the base stack. */
function stack(): Node<AwsProvider>[] {
  const base = baseStack(config, provider, [`${REGION}a`, `${REGION}b`]).filter((n) => n.id === 'kms-key' || n.id === 'bucket-telemetry');
  return [...base, ...catalogNodes(config, provider)];
}

async function apply(plan: Plan<AwsProvider>): Promise<Plan<AwsProvider>> {
  const outcome = await execute(plan, provider);
  expect(outcome.failed.map((f) => String(f.error))).toEqual([]);
  return plan;
}
const actions = (plan: Plan<AwsProvider>) => Object.fromEntries(plan.changes.map((c) => [c.key, c.action]));

const TABLE_IDS = ['metrics', 'logs', 'states', 'flows'].map(lakeTableId);

describe('the lake catalog (Glue + Athena)', () => {
  it('creates the database, a table per signal and the workgroup', async () => {
    const plan = await apply(await planUp(stack(), new Observation(provider)));
    const created = actions(plan);
    for (const id of [LAKE_DATABASE_ID, ...TABLE_IDS, LAKE_WORKGROUP_ID]) expect(created[id], id).toBe('create');

    const databases = (await glue.send(new GetDatabasesCommand({}))).DatabaseList ?? [];
    expect(databases.map((d) => d.Name)).toEqual([DATABASE]);
    expect(databases[0]?.Parameters).toMatchObject({ 'hybridctl.dev/cluster': 'demo', 'hybridctl.dev/component': LAKE_DATABASE_ID });
    const tags = await glue.send(new GetTagsCommand({ ResourceArn: `arn:aws:glue:${REGION}:${ACCOUNT}:database/${DATABASE}` }));
    expect(tags.Tags).toMatchObject({ 'hybridctl.dev/cluster': 'demo', 'hybridctl.dev/component': LAKE_DATABASE_ID, Name: `demo-${LAKE_DATABASE_ID}` });
  });

  it('holds each signal table with its columns, partitions and partition projection', async () => {
    const { Table: metrics } = await glue.send(new GetTableCommand({ DatabaseName: DATABASE, Name: 'metrics' }));
    expect(metrics?.TableType).toBe('EXTERNAL_TABLE');
    expect(metrics?.PartitionKeys).toEqual([
      { Name: 'site', Type: 'string' },
      { Name: 'dt', Type: 'date' },
      { Name: 'hour', Type: 'int' },
    ]);
    expect(metrics?.StorageDescriptor).toMatchObject({
      Location: `s3://${BUCKET}/signal=metrics/`,
      InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
      OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
      SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
      Columns: [
        { Name: 'schema_version', Type: 'int' },
        { Name: 'site', Type: 'string' },
        { Name: 'shipper', Type: 'string' },
        { Name: 'ts', Type: 'timestamp' },
        { Name: 'name', Type: 'string' },
        { Name: 'labels', Type: 'string' },
        { Name: 'value', Type: 'double' },
      ],
    });
    expect(metrics?.Parameters).toEqual({
      EXTERNAL: 'TRUE',
      classification: 'parquet',
      'projection.enabled': 'true',
      'projection.site.type': 'enum',
      'projection.site.values': 'aws,onprem',
      'projection.dt.type': 'date',
      'projection.dt.format': 'yyyy-MM-dd',
      'projection.dt.range': `NOW-${config.aws.telemetryBucket.expireAfterDays}DAYS,NOW`,
      'projection.dt.interval': '1',
      'projection.dt.interval.unit': 'DAYS',
      'projection.hour.type': 'integer',
      'projection.hour.range': '0,23',
      'projection.hour.digits': '2',
      'storage.location.template': `s3://${BUCKET}/signal=metrics/site=\${site}/dt=\${dt}/hour=\${hour}/`,
      'hybridctl.dev/cluster': 'demo',
      'hybridctl.dev/component': lakeTableId('metrics'),
    });

    const tables: Record<string, Table> = Object.fromEntries(((await glue.send(new GetTablesCommand({ DatabaseName: DATABASE }))).TableList ?? []).map((t) => [t.Name ?? '', t]));
    expect(Object.keys(tables).sort()).toEqual(['flows', 'logs', 'metrics', 'states']);
    expect(tables.logs?.StorageDescriptor?.Columns?.map((c) => `${c.Name}:${c.Type}`)).toEqual([
      'schema_version:int', 'site:string', 'shipper:string', 'ts:timestamp', 'source:string', 'node:string', 'namespace:string', 'pod:string', 'container:string',
      'level:string', 'msg:string', 'request_id:string', 'route:string', 'status:int', 'duration_ms:double', 'line:string', 'id:string',
    ]);
    expect(tables.states?.StorageDescriptor?.Columns?.find((c) => c.Name === 'ready')?.Type).toBe('boolean');
    expect(tables.logs?.Parameters?.['storage.location.template']).toBe(`s3://${BUCKET}/signal=logs/site=\${site}/dt=\${dt}/hour=\${hour}/`);

    const flowOrigin = `s3://${BUCKET}/vpc-flow-logs/AWSLogs/aws-account-id=${ACCOUNT}/aws-service=vpcflowlogs/aws-region=${REGION}/`;
    expect(tables.flows?.StorageDescriptor?.Location).toBe(flowOrigin);
    expect(tables.flows?.PartitionKeys?.map((k) => k.Name)).toEqual(['year', 'month', 'day', 'hour']);
    expect(tables.flows?.Parameters).toMatchObject({
      'projection.enabled': 'true',
      'projection.year.type': 'date',
      'projection.year.format': 'yyyy',
      'projection.month.type': 'integer',
      'projection.month.range': '1,12',
      'projection.month.digits': '2',
      'projection.day.range': '1,31',
      'projection.hour.range': '0,23',
      'projection.hour.digits': '2',
      'storage.location.template': `${flowOrigin}year=\${year}/month=\${month}/day=\${day}/hour=\${hour}/`,
    });
  });

  it('holds the workgroup: results in the telemetry bucket, SSE-KMS with the cluster key, enforced, tagged', async () => {
    const { WorkGroup: group } = await athena.send(new GetWorkGroupCommand({ WorkGroup: WORKGROUP }));
    const key = (await new Observation(provider).observe((stack().find((n) => n.id === 'kms-key')!.kind)))[0];
    expect(group?.Configuration).toMatchObject({
      ResultConfiguration: { OutputLocation: `s3://${BUCKET}/athena-results/`, EncryptionConfiguration: { EncryptionOption: 'SSE_KMS', KmsKey: (key?.state as { arn: string }).arn } },
      EnforceWorkGroupConfiguration: true,
      PublishCloudWatchMetricsEnabled: true,
    });
    const tags = await athena.send(new ListTagsForResourceCommand({ ResourceARN: `arn:aws:athena:${REGION}:${ACCOUNT}:workgroup/${WORKGROUP}` }));
    expect(Object.fromEntries((tags.Tags ?? []).map((t) => [t.Key, t.Value]))).toMatchObject({ 'hybridctl.dev/cluster': 'demo', 'hybridctl.dev/component': LAKE_WORKGROUP_ID });
  });

  it('changes nothing on a second run: only reads', async () => {
    await moto.record();
    const plan = await apply(await planUp(stack(), new Observation(provider)));
    expect(new Set(Object.values(actions(plan)))).toEqual(new Set(['noop']));
    const calls = (await moto.calls()).filter((c) => c.service === 'glue' || c.service === 'athena');
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.filter((c) => c.mutating)).toEqual([]);
  });

  it('restores a table and the workgroup changed behind its back', async () => {
    const { Table: held } = await glue.send(new GetTableCommand({ DatabaseName: DATABASE, Name: 'metrics' }));
    const { 'projection.hour.digits': _dropped, ...parameters } = held?.Parameters ?? {};
    await glue.send(
      new UpdateTableCommand({
        DatabaseName: DATABASE,
        TableInput: { Name: 'metrics', Description: held?.Description, TableType: held?.TableType, PartitionKeys: held?.PartitionKeys, StorageDescriptor: held?.StorageDescriptor, Parameters: { ...parameters, 'projection.site.values': 'aws' } },
      }),
    );
    await athena.send(
      new UpdateWorkGroupCommand({
        WorkGroup: WORKGROUP,
        ConfigurationUpdates: { EnforceWorkGroupConfiguration: false, ResultConfigurationUpdates: { EncryptionConfiguration: { EncryptionOption: 'SSE_S3' } } },
      }),
    );

    await moto.record();
    const plan = await apply(await planUp(stack(), new Observation(provider)));
    expect(actions(plan)).toMatchObject({ [lakeTableId('metrics')]: 'update', [LAKE_WORKGROUP_ID]: 'update', [lakeTableId('logs')]: 'noop', [LAKE_DATABASE_ID]: 'noop' });
    expect(plan.changes.find((c) => c.key === lakeTableId('metrics'))?.changes).toEqual([
      { field: 'parameters', from: { 'projection.site.values': 'aws', 'projection.hour.digits': undefined }, to: { 'projection.site.values': 'aws,onprem', 'projection.hour.digits': '2' } },
    ]);
    expect(plan.changes.find((c) => c.key === LAKE_WORKGROUP_ID)?.changes.map((c) => c.field).sort()).toEqual(['encryption', 'enforced', 'kmsKeyArn']);
    const changing = (await moto.calls()).filter((c) => c.mutating && (c.service === 'glue' || c.service === 'athena'));
    expect(changing.map((c) => c.operation).sort()).toEqual(['UpdateTable', 'UpdateWorkGroup']);

    const { Table: restored } = await glue.send(new GetTableCommand({ DatabaseName: DATABASE, Name: 'metrics' }));
    expect(restored?.Parameters).toMatchObject({ 'projection.hour.digits': '2', 'projection.site.values': 'aws,onprem', 'hybridctl.dev/cluster': 'demo' });
    const { WorkGroup: group } = await athena.send(new GetWorkGroupCommand({ WorkGroup: WORKGROUP }));
    expect(group?.Configuration).toMatchObject({ EnforceWorkGroupConfiguration: true, ResultConfiguration: { EncryptionConfiguration: { EncryptionOption: 'SSE_KMS' } } });
    expect(new Set(Object.values(actions(await planUp(stack(), new Observation(provider)))))).toEqual(new Set(['noop']));
  });

  it('submits `data query --engine athena` to the workgroup with the database as context and prints the results', async () => {
    await queueAthenaResults([
      ['site', 'requests'],
      ['aws', '1200'],
      ['onprem', '34'],
    ]);
    await moto.record();
    const sql = "SELECT site, count(*) AS requests FROM logs WHERE msg = 'request' GROUP BY site";
    const result = await runCli(['data', 'query', '--engine', 'athena', sql, '-o', 'json', '-c', configFile], awsEnv(moto.endpoint));
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([
      { site: 'aws', requests: 1200 },
      { site: 'onprem', requests: 34 },
    ]);
    const submitted = (await recordedRequests(moto.endpoint)).filter((r) => r.service === 'athena' && r.operation === 'StartQueryExecution');
    expect(submitted).toHaveLength(1);
    expect(JSON.parse(submitted[0]!.body)).toMatchObject({ QueryString: sql, WorkGroup: WORKGROUP, QueryExecutionContext: { Database: DATABASE } });
    // Nothing is fetched from the lake for Athena.
    expect((await moto.calls()).filter((c) => c.service === 's3' && c.operation === 'GetObject')).toEqual([]);

    const table = await runCli(['data', 'query', '--engine', 'athena', 'SELECT 1', '-c', configFile], awsEnv(moto.endpoint));
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toContain('(0 rows)');

    const pruned = await runCli(['data', 'query', '--engine', 'athena', '--site', 'aws', 'SELECT 1', '-c', configFile], awsEnv(moto.endpoint));
    expect(pruned.code).toBe(2);
    expect(pruned.stderr).toContain('say it in the SQL');
  });

  it('deletes the tables, the database and the workgroup, and leaves nothing', async () => {
    await moto.record();
    const plan = await planDown(stack(), new Observation(provider));
    const catalogKinds = plan.changes.map((c) => c.kind).filter((k) => /^(glue|athena)-/.test(k));
    expect(catalogKinds.sort()).toEqual(['athena-workgroup', 'glue-database', 'glue-table', 'glue-table', 'glue-table', 'glue-table']);
    await apply(plan);
    const changing = (await moto.calls()).filter((c) => c.mutating && (c.service === 'glue' || c.service === 'athena'));
    expect(changing.map((c) => c.operation).sort()).toEqual(['DeleteDatabase', 'DeleteTable', 'DeleteTable', 'DeleteTable', 'DeleteTable', 'DeleteWorkGroup']);
    expect((await glue.send(new GetDatabasesCommand({}))).DatabaseList ?? []).toEqual([]);
    expect(((await athena.send(new ListWorkGroupsCommand({}))).WorkGroups ?? []).map((w) => w.Name)).not.toContain(WORKGROUP);
    const again = await planUp(stack(), new Observation(provider));
    for (const id of [LAKE_DATABASE_ID, ...TABLE_IDS, LAKE_WORKGROUP_ID]) expect(actions(again)[id], id).toBe('create');
  });
});

/** Queues results for the next query executions (moto's own API: it runs no SQL). Rows are strings, as Athena returns them; the first is the header. */
async function queueAthenaResults(rows: string[][]): Promise<void> {
  const body = JSON.stringify({
    account_id: ACCOUNT,
    region: REGION,
    results: [
      {
        rows: rows.map((row) => ({ Data: row.map((v) => ({ VarCharValue: v })) })),
        column_info: rows[0]!.map((name, i) => ({ CatalogName: 'hive', SchemaName: DATABASE, TableName: 'logs', Name: name, Label: name, Type: i === 1 ? 'bigint' : 'varchar', Precision: 0, Scale: 0, Nullable: 'UNKNOWN', CaseSensitive: false })),
      },
    ],
  });
  await new Promise<void>((resolve, reject) => {
    const req = request(`${moto.endpoint}/moto-api/static/athena/query-results`, { method: 'POST', ca: readFileSync(CA_CERT), headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 201 || res.statusCode === 200 ? resolve() : reject(new Error(`moto: HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}
