import type { PolicyDocument } from './kinds/iam-role.ts';

/** What each site's shipper writes into the telemetry bucket (docs/DATA.md). */
export const LAKE_SIGNALS = ['metrics', 'logs', 'states'] as const;

/**
 * What a site's shipper may do, and nothing else: put objects under its own site's partitions,
 * read and write its own watermark, and use the bucket's key through S3 only (SSE-KMS needs a
 * data key to write and decrypt to read the watermark back).
 */
export function shipperPolicy(bucket: string, site: string, kmsKeyArn: string, region: string): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      { Sid: 'ShipTelemetry', Effect: 'Allow', Action: 's3:PutObject', Resource: LAKE_SIGNALS.map((signal) => `arn:aws:s3:::${bucket}/signal=${signal}/site=${site}/*`) },
      { Sid: 'KeepWatermark', Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: `arn:aws:s3:::${bucket}/_shipper/site=${site}/*` },
      {
        Sid: 'EncryptThroughS3',
        Effect: 'Allow',
        Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
        Resource: kmsKeyArn,
        Condition: { StringEquals: { 'kms:ViaService': `s3.${region}.amazonaws.com` } },
      },
    ],
  };
}

/** Both sites' Prometheus write into the managed workspace, and may do nothing else with it. */
export function remoteWritePolicy(workspaceArn: string): PolicyDocument {
  return { Version: '2012-10-17', Statement: [{ Sid: 'RemoteWriteMetrics', Effect: 'Allow', Action: 'aps:RemoteWrite', Resource: workspaceArn }] };
}

/** Reading a managed Prometheus workspace, as a Grafana data source does, and nothing else. */
export function prometheusQueryPolicy(workspaceArn: string): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [{ Sid: 'QueryMetrics', Effect: 'Allow', Action: ['aps:QueryMetrics', 'aps:GetSeries', 'aps:GetLabels', 'aps:GetMetricMetadata'], Resource: workspaceArn }],
  };
}
