import type { HybridConfig } from '../core/config/schema.ts';
import { type Node, type Refs, type Val, isUnknown } from '../core/engine/model.ts';
import { athenaWorkgroupKind } from '../providers/aws/kinds/athena-workgroup.ts';
import { glueDatabaseKind } from '../providers/aws/kinds/glue-database.ts';
import { type GlueColumn, type GlueTableSpec, glueTableKind } from '../providers/aws/kinds/glue-table.ts';
import { bucketIdFor } from '../providers/aws/kinds/s3-bucket.ts';
import { tagsFor } from '../providers/aws/naming.ts';
import type { AwsProvider } from '../providers/aws/provider.ts';
import { ATHENA_RESULTS_PREFIX, athenaWorkgroupName, glueDatabaseName } from './lake-catalog-names.ts';
import { COLUMNS, FLOW_LOGS_FOLDER, SHIPPED_SIGNALS, SITES, type ShippedSignal } from './lake-schema.ts';

type AwsNode = Node<AwsProvider>;

export const LAKE_DATABASE_ID = 'lake-database';
export const LAKE_WORKGROUP_ID = 'lake-workgroup';
export const lakeTableId = (table: string) => `lake-table-${table}`;

/** The base stack's ids this part needs: the telemetry bucket and the cluster's KMS key. */
const TELEMETRY_BUCKET_ID = bucketIdFor('telemetry');
const KMS_KEY_ID = 'kms-key';

const columns = (signal: keyof typeof COLUMNS): GlueColumn[] => COLUMNS[signal].map((c) => ({ name: c.name, type: c.type }));

/** The kinds of the catalog, looked for when monitoring is off so that what it left is deleted. */
export function catalogKinds() {
  return [glueTableKind, glueDatabaseKind, athenaWorkgroupKind];
}

/**
 * The lake registered for Athena: a Glue database, one table per signal over the telemetry
 * bucket's Hive-style partitions with partition projection (Athena computes the partitions from
 * the table's parameters: no crawler, no MSCK REPAIR), and a workgroup whose results go to
 * `athena-results/` in the same bucket, encrypted with the cluster's key.
 */
export function catalogNodes(config: HybridConfig, provider: AwsProvider): AwsNode[] {
  const cluster = config.metadata.name;
  const database = glueDatabaseName(cluster);
  const retentionDays = config.aws.telemetryBucket.expireAfterDays;
  const bucketOf = (refs: Refs): Val => refs.get(TELEMETRY_BUCKET_ID, 'bucketName');
  const under = (bucket: Val, path: string): Val => (isUnknown(bucket) ? bucket : `s3://${bucket}/${path}`);
  const table = (id: string, spec: (refs: Refs) => Omit<GlueTableSpec, 'databaseName'>): AwsNode => ({
    id,
    kind: glueTableKind,
    dependsOn: [LAKE_DATABASE_ID, TELEMETRY_BUCKET_ID],
    spec: (refs) => ({ databaseName: refs.get(LAKE_DATABASE_ID, 'databaseName'), ...spec(refs) }),
  });

  const nodes: AwsNode[] = [
    {
      id: LAKE_DATABASE_ID,
      kind: glueDatabaseKind,
      dependsOn: [],
      spec: () => ({ name: database, description: `hybridctl ${cluster}: the telemetry data lake (metrics, logs, states, flows)`, tags: tagsFor(provider, LAKE_DATABASE_ID) }),
    },
  ];
  for (const signal of SHIPPED_SIGNALS)
    nodes.push(
      table(lakeTableId(signal), (refs) => {
        const bucket = bucketOf(refs);
        return {
          name: signal,
          description: `${signal} of both sites, as the shippers write them (docs/DATA.md)`,
          columns: columns(signal),
          partitionKeys: [
            { name: 'site', type: 'string' },
            { name: 'dt', type: 'date' },
            { name: 'hour', type: 'int' },
          ],
          location: under(bucket, `signal=${signal}/`),
          parameters: { ...PARQUET_PARAMETERS, ...signalProjection(signal, bucket, retentionDays) },
        };
      }),
    );
  nodes.push(
    table(lakeTableId('flows'), (refs) => {
      const bucket = bucketOf(refs);
      const origin = `${FLOW_LOGS_FOLDER}/AWSLogs/aws-account-id=${provider.account}/aws-service=vpcflowlogs/aws-region=${provider.region}/`;
      return {
        name: 'flows',
        description: 'VPC flow logs of the AWS site, as AWS delivers them (Parquet, Hive-compatible, per hour)',
        columns: columns('flows'),
        partitionKeys: [
          { name: 'year', type: 'string' },
          { name: 'month', type: 'string' },
          { name: 'day', type: 'string' },
          { name: 'hour', type: 'string' },
        ],
        location: under(bucket, origin),
        parameters: { ...PARQUET_PARAMETERS, ...flowProjection(under(bucket, origin), retentionDays) },
      };
    }),
  );
  nodes.push({
    id: LAKE_WORKGROUP_ID,
    kind: athenaWorkgroupKind,
    dependsOn: [TELEMETRY_BUCKET_ID, KMS_KEY_ID],
    spec: (refs) => ({
      name: athenaWorkgroupName(cluster),
      description: `hybridctl ${cluster}: queries over the telemetry data lake (database ${database})`,
      outputLocation: under(bucketOf(refs), ATHENA_RESULTS_PREFIX),
      kmsKeyArn: refs.get(KMS_KEY_ID, 'arn'),
      tags: tagsFor(provider, LAKE_WORKGROUP_ID),
    }),
  });
  return nodes;
}

const PARQUET_PARAMETERS = { EXTERNAL: 'TRUE', classification: 'parquet' } as const;

/** Partition projection for `signal=<s>/site=<site>/dt=YYYY-MM-DD/hour=HH/`, back as far as the bucket keeps objects. */
function signalProjection(signal: ShippedSignal, bucket: Val, retentionDays: number): Record<string, Val> {
  return {
    'projection.enabled': 'true',
    'projection.site.type': 'enum',
    'projection.site.values': SITES.join(','),
    'projection.dt.type': 'date',
    'projection.dt.format': 'yyyy-MM-dd',
    'projection.dt.range': `NOW-${retentionDays}DAYS,NOW`,
    'projection.dt.interval': '1',
    'projection.dt.interval.unit': 'DAYS',
    'projection.hour.type': 'integer',
    'projection.hour.range': '0,23',
    'projection.hour.digits': '2',
    'storage.location.template': isUnknown(bucket) ? bucket : `s3://${bucket}/signal=${signal}/site=\${site}/dt=\${dt}/hour=\${hour}/`,
  };
}

/** Partition projection for AWS's `…/year=YYYY/month=MM/day=DD/hour=HH/` flow log layout. */
function flowProjection(origin: Val, retentionDays: number): Record<string, Val> {
  return {
    'projection.enabled': 'true',
    'projection.year.type': 'date',
    'projection.year.format': 'yyyy',
    'projection.year.range': `NOW-${Math.ceil(retentionDays / 365)}YEARS,NOW`,
    'projection.year.interval': '1',
    'projection.year.interval.unit': 'YEARS',
    'projection.month.type': 'integer',
    'projection.month.range': '1,12',
    'projection.month.digits': '2',
    'projection.day.type': 'integer',
    'projection.day.range': '1,31',
    'projection.day.digits': '2',
    'projection.hour.type': 'integer',
    'projection.hour.range': '0,23',
    'projection.hour.digits': '2',
    'storage.location.template': isUnknown(origin) ? origin : `${origin}year=\${year}/month=\${month}/day=\${day}/hour=\${hour}/`,
  };
}
