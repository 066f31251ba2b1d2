import { CreateFlowLogsCommand, DeleteFlowLogsCommand, type FlowLog, paginateDescribeFlowLogs } from '@aws-sdk/client-ec2';
import { randomUUID } from 'node:crypto';
import { diffFields } from '../../../core/engine/diff.ts';
import { type FieldChange, type Val, known } from '../../../core/engine/model.ts';
import { collect } from '../calls.ts';
import { clusterFilter, tagSpecs, tagsOnlyUpdate } from '../ec2-util.ts';
import type { Tags } from '../naming.ts';
import type { AwsKind } from '../provider.ts';
import { componentOf, tagChange, toRecord } from '../tags.ts';

/**
 * How flow log files are laid out for the tools that read them later (Athena, Spark, DuckDB):
 * Parquet, with Hive-style `key=value` partitions by account, region, day and hour.
 */
export const FLOW_LOG_LAYOUT = { fileFormat: 'parquet', hiveCompatiblePartitions: true, perHourPartition: true } as const;

export interface FlowLogSpec {
  vpcId: Val;
  /** `arn:aws:s3:::<bucket>` or `arn:aws:s3:::<bucket>/<prefix>/`. */
  destination: Val;
  tags: Tags;
}

export interface FlowLogLayout {
  fileFormat: string | undefined;
  hiveCompatiblePartitions: boolean | undefined;
  perHourPartition: boolean | undefined;
}

export interface FlowLogState {
  flowLogId: string;
  resourceId: string;
  destinationType: string;
  destination: string;
  trafficType: string;
  maxAggregationInterval: number | undefined;
  /** As EC2 reports it; undefined when it reports none (some emulators do not keep it). */
  layout: FlowLogLayout | undefined;
  tags: Tags;
}

/** Every packet accepted or rejected, in 10-minute records (the default, and the cheaper interval). */
const TRAFFIC = 'ALL';
const INTERVAL_SECONDS = 600;

/**
 * VPC flow logs delivered to S3 (Security Hub EC2.6). Tagged in the create call and found by the
 * cluster tag, like the other EC2 resources. A flow log cannot be changed: any difference but
 * its tags replaces it.
 */
export const flowLogKind: AwsKind<FlowLogSpec, FlowLogState> = {
  kind: 'vpc-flow-log',

  async observe({ provider }) {
    const pages = await collect(paginateDescribeFlowLogs({ client: provider.clients.ec2 }, { Filter: clusterFilter(provider) }));
    return pages.flatMap((p) => p.FlowLogs ?? []).map((fl) => {
      const tags = toRecord(fl.Tags);
      const state = stateOf(fl, tags);
      return { id: componentOf(tags) ?? state.flowLogId, ref: state.flowLogId, state };
    });
  },

  diff(state, spec) {
    const fixed: FieldChange[] = diffFields(state, {
      resourceId: spec.vpcId,
      destinationType: 's3',
      destination: spec.destination,
      trafficType: TRAFFIC,
      maxAggregationInterval: INTERVAL_SECONDS,
    });
    if (state.layout) fixed.push(...diffFields({ layout: state.layout }, { layout: { ...FLOW_LOG_LAYOUT } }));
    if (fixed.length > 0) return { changes: fixed, replace: 'a flow log cannot be changed, only replaced' };
    return { changes: tagChange(state.tags, spec.tags) };
  },

  describe(spec) {
    return { vpcId: spec.vpcId, traffic: 'all (accepted and rejected)', destination: spec.destination, layout: 'Parquet, Hive-compatible partitions, per hour' };
  },

  async create(spec, ctx) {
    const vpcId = known(spec.vpcId);
    const destination = known(spec.destination);
    const created = await ctx.provider.clients.ec2.send(
      new CreateFlowLogsCommand({
        ResourceType: 'VPC',
        ResourceIds: [vpcId],
        TrafficType: TRAFFIC,
        LogDestinationType: 's3',
        LogDestination: destination,
        MaxAggregationInterval: INTERVAL_SECONDS,
        DestinationOptions: {
          FileFormat: FLOW_LOG_LAYOUT.fileFormat,
          HiveCompatiblePartitions: FLOW_LOG_LAYOUT.hiveCompatiblePartitions,
          PerHourPartition: FLOW_LOG_LAYOUT.perHourPartition,
        },
        TagSpecifications: tagSpecs('vpc-flow-log', spec.tags),
        ClientToken: randomUUID(),
      }),
    );
    const failed = created.Unsuccessful?.[0]?.Error;
    if (failed) throw new Error(`ec2:CreateFlowLogs failed for ${vpcId}: ${failed.Message ?? failed.Code} (${failed.Code})`);
    const flowLogId = created.FlowLogIds?.[0] ?? '';
    const state: FlowLogState = {
      flowLogId,
      resourceId: vpcId,
      destinationType: 's3',
      destination,
      trafficType: TRAFFIC,
      maxAggregationInterval: INTERVAL_SECONDS,
      layout: { ...FLOW_LOG_LAYOUT },
      tags: spec.tags,
    };
    return { id: ctx.id, ref: flowLogId, state };
  },

  update: tagsOnlyUpdate((state) => state.flowLogId),

  async destroy(found, ctx) {
    const deleted = await ctx.provider.clients.ec2.send(new DeleteFlowLogsCommand({ FlowLogIds: [found.state.flowLogId] }));
    const failed = deleted.Unsuccessful?.[0]?.Error;
    if (failed && !/NotFound/.test(failed.Code ?? '')) throw new Error(`ec2:DeleteFlowLogs failed for ${found.state.flowLogId}: ${failed.Message ?? failed.Code} (${failed.Code})`);
  },

  outputs(found) {
    return { flowLogId: found.state.flowLogId };
  },
};

function stateOf(fl: FlowLog, tags: Tags): FlowLogState {
  const options = fl.DestinationOptions;
  return {
    flowLogId: fl.FlowLogId ?? '',
    resourceId: fl.ResourceId ?? '',
    destinationType: fl.LogDestinationType ?? '',
    destination: fl.LogDestination ?? '',
    trafficType: fl.TrafficType ?? '',
    maxAggregationInterval: fl.MaxAggregationInterval,
    layout: options ? { fileFormat: options.FileFormat, hiveCompatiblePartitions: options.HiveCompatiblePartitions, perHourPartition: options.PerHourPartition } : undefined,
    tags,
  };
}

