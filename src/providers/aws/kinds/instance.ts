import {
  type Instance,
  type InstanceMetadataOptionsResponse,
  ModifyInstanceAttributeCommand,
  ModifyInstanceMetadataOptionsCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
  paginateDescribeInstances,
  waitUntilInstanceRunning,
  waitUntilInstanceTerminated,
} from '@aws-sdk/client-ec2';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { diffFields } from '../../../core/engine/diff.ts';
import { type FieldChange, type Val, known } from '../../../core/engine/model.ts';
import { collect, deleting } from '../calls.ts';
import { clusterFilter, tagSpecs, tagsOnlyUpdate } from '../ec2-util.ts';
import type { Tags } from '../naming.ts';
import { errorCode } from '../errors.ts';
import type { AwsAct, AwsKind } from '../provider.ts';
import { componentOf, tagChange, toRecord } from '../tags.ts';

export const TAG_ROLE = 'hybridctl.dev/role';
export const TAG_INDEX = 'hybridctl.dev/index';

export interface InstanceSpec {
  /** `controlplane`, `worker`, or `gateway` (the VPN's). */
  role: string;
  index: number;
  zone: string;
  subnetId: Val;
  securityGroupIds: Val[];
  instanceProfileArn: Val;
  amiId: string;
  instanceType: string;
  diskGiB: number;
  kmsKeyArn: Val;
  /** The machine config, as user-data; made at launch from the site's secrets and the endpoint. */
  userData: () => Promise<string>;
  /** false for a router (the VPN gateway forwards packets that are not its own); left alone when absent. */
  sourceDestCheck?: boolean;
  tags: Tags;
}

export interface InstanceState {
  instanceId: string;
  privateIp: string;
  status: string;
  role: string;
  amiId: string;
  instanceType: string;
  networkInterfaceId: string;
  sourceDestCheck: boolean;
  /** The instance metadata service's settings, as EC2 reports them. */
  metadata: MetadataSettings;
  tags: Tags;
}

export interface MetadataSettings {
  httpTokens: string | undefined;
  httpPutResponseHopLimit: number | undefined;
  httpEndpoint: string | undefined;
}

/**
 * IMDSv2 only, and a hop limit of 1: a token's reply dies at the first hop, so pods (one hop
 * behind the node's network namespace) cannot fetch a token, and with it the user-data, which
 * is the node's machine config with its secrets. Talos itself runs in the host's namespace.
 */
export const METADATA: MetadataSettings = { httpTokens: 'required', httpPutResponseHopLimit: 1, httpEndpoint: 'enabled' };

function metadataOf(options: InstanceMetadataOptionsResponse | undefined): MetadataSettings {
  return { httpTokens: options?.HttpTokens, httpPutResponseHopLimit: options?.HttpPutResponseHopLimit, httpEndpoint: options?.HttpEndpoint };
}

const LIVE = ['pending', 'running', 'stopping', 'stopped'];

/**
 * A Talos node on EC2: private subnet, no public address, IMDSv2 only, an encrypted gp3 root
 * volume with the cluster key, the node instance profile, its machine config as user-data.
 * Matched by its tags, so a re-run never launches a second one; its config changes go through
 * the Talos API (the talos-node kind), never by replacing the instance.
 */
export const instanceKind: AwsKind<InstanceSpec, InstanceState> = {
  kind: 'ec2-instance',

  async observe({ provider }) {
    const pages = await collect(
      paginateDescribeInstances({ client: provider.clients.ec2 }, { Filters: [...clusterFilter(provider), { Name: 'instance-state-name', Values: LIVE }] }),
    );
    return pages
      .flatMap((p) => p.Reservations ?? [])
      .flatMap((r) => r.Instances ?? [])
      .map((i) => {
        const tags = toRecord(i.Tags);
        const state: InstanceState = {
          instanceId: i.InstanceId ?? '',
          privateIp: i.PrivateIpAddress ?? '',
          status: i.State?.Name ?? '',
          role: tags[TAG_ROLE] ?? '',
          amiId: i.ImageId ?? '',
          instanceType: i.InstanceType ?? '',
          networkInterfaceId: i.NetworkInterfaces?.[0]?.NetworkInterfaceId ?? '',
          sourceDestCheck: i.SourceDestCheck ?? true,
          metadata: metadataOf(i.MetadataOptions),
          tags,
        };
        return { id: componentOf(tags) ?? state.instanceId, ref: state.instanceId, state };
      });
  },

  diff(state, spec) {
    // Image and type changes apply to new nodes only: existing ones are upgraded through Talos, not replaced.
    const check = spec.sourceDestCheck !== undefined && spec.sourceDestCheck !== state.sourceDestCheck ? [{ field: 'sourceDestCheck', from: state.sourceDestCheck, to: spec.sourceDestCheck }] : [];
    return { changes: [...check, ...metadataChanges(state.metadata), ...tagChange(state.tags, spec.tags)] };
  },

  describe(spec) {
    return {
      role: spec.role,
      zone: spec.zone,
      instanceType: spec.instanceType,
      ami: spec.amiId,
      rootVolume: `${spec.diskGiB} GiB gp3, encrypted with the cluster key`,
      metadata: 'IMDSv2 only, hop limit 1 (pods cannot read the user-data)',
      ...(spec.sourceDestCheck === false ? { sourceDestCheck: 'off (it routes for the site)' } : {}),
    };
  },

  async create(spec, ctx) {
    const ec2 = ctx.provider.clients.ec2;
    ctx.report('launching');
    const userData = await spec.userData();
    const result = await whileProfilePropagates(ctx, () => ec2.send(
      new RunInstancesCommand({
        ImageId: spec.amiId,
        InstanceType: spec.instanceType as never,
        MinCount: 1,
        MaxCount: 1,
        SubnetId: known(spec.subnetId),
        SecurityGroupIds: spec.securityGroupIds.map(known),
        IamInstanceProfile: { Arn: known(spec.instanceProfileArn) },
        UserData: Buffer.from(userData).toString('base64'),
        MetadataOptions: metadataOptions(),
        BlockDeviceMappings: [
          { DeviceName: '/dev/xvda', Ebs: { VolumeSize: spec.diskGiB, VolumeType: 'gp3', Encrypted: true, KmsKeyId: known(spec.kmsKeyArn), DeleteOnTermination: true } },
        ],
        TagSpecifications: [...tagSpecs('instance', spec.tags), ...tagSpecs('volume', spec.tags)],
        ClientToken: randomUUID(),
      }),
    ));
    const instance = result.Instances?.[0];
    const instanceId = instance?.InstanceId ?? '';
    ctx.report(`waiting for ${instanceId} to run`);
    const ran = await waitUntilInstanceRunning({ client: ec2, maxWaitTime: 600, minDelay: 5, abortSignal: ctx.signal }, { InstanceIds: [instanceId] });
    const running = (ran.reason as { Reservations?: { Instances?: Instance[] }[] } | undefined)?.Reservations?.[0]?.Instances?.[0];
    if (spec.sourceDestCheck === false) await setSourceDestCheck(ctx, instanceId, false);
    const state: InstanceState = {
      instanceId,
      privateIp: running?.PrivateIpAddress ?? instance?.PrivateIpAddress ?? '',
      status: 'running',
      role: spec.role,
      amiId: spec.amiId,
      instanceType: spec.instanceType,
      networkInterfaceId: running?.NetworkInterfaces?.[0]?.NetworkInterfaceId ?? instance?.NetworkInterfaces?.[0]?.NetworkInterfaceId ?? '',
      sourceDestCheck: spec.sourceDestCheck ?? true,
      metadata: METADATA,
      tags: spec.tags,
    };
    return { id: ctx.id, ref: instanceId, state };
  },

  async update(found, spec, changes, ctx) {
    if (spec.sourceDestCheck !== undefined && changes.some((c) => c.field === 'sourceDestCheck')) await setSourceDestCheck(ctx, found.state.instanceId, spec.sourceDestCheck);
    if (changes.some((c) => c.field in METADATA)) await setMetadataOptions(ctx, found.state.instanceId);
    const updated = await retagged(found, spec, changes, ctx);
    return { ...updated, state: { ...updated.state, sourceDestCheck: spec.sourceDestCheck ?? updated.state.sourceDestCheck, metadata: METADATA } };
  },

  async destroy(found, ctx) {
    const ec2 = ctx.provider.clients.ec2;
    ctx.report('terminating');
    await deleting(() => ec2.send(new TerminateInstancesCommand({ InstanceIds: [found.state.instanceId] })));
    await waitUntilInstanceTerminated({ client: ec2, maxWaitTime: 600, minDelay: 5, abortSignal: ctx.signal }, { InstanceIds: [found.state.instanceId] });
  },

  outputs(found) {
    return { instanceId: found.state.instanceId, privateIp: found.state.privateIp, networkInterfaceId: found.state.networkInterfaceId };
  },
};

const retagged = tagsOnlyUpdate<InstanceState>((state) => state.instanceId);

async function setSourceDestCheck(ctx: AwsAct, instanceId: string, value: boolean): Promise<void> {
  ctx.report(`turning the source/destination check ${value ? 'on' : 'off'}`);
  await ctx.provider.clients.ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: instanceId, SourceDestCheck: { Value: value } }));
}

function metadataChanges(actual: MetadataSettings): FieldChange[] {
  return diffFields(actual, { ...METADATA });
}

function metadataOptions() {
  return { HttpTokens: METADATA.httpTokens as 'required', HttpPutResponseHopLimit: METADATA.httpPutResponseHopLimit, HttpEndpoint: METADATA.httpEndpoint as 'enabled' };
}

/** In place, on a running instance: all three settings at once (any left out might be reset). */
async function setMetadataOptions(ctx: AwsAct, instanceId: string): Promise<void> {
  ctx.report('setting the instance metadata options (IMDSv2 only, hop limit 1)');
  await ctx.provider.clients.ec2.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: instanceId, ...metadataOptions() }));
}

/** A new instance profile takes a few seconds to reach EC2 ("Invalid IAM Instance Profile"): wait for it. */
async function whileProfilePropagates<T>(ctx: AwsAct, launch: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      return await launch();
    } catch (error) {
      const propagating = errorCode(error) === 'InvalidParameterValue' && /instance profile/i.test((error as Error).message);
      if (!propagating || Date.now() > deadline) throw error;
      ctx.report('waiting for the new instance profile to reach EC2');
      await sleep(5_000, undefined, { signal: ctx.signal });
    }
  }
}

export function nodeTags(role: string, index: number): Tags {
  return { [TAG_ROLE]: role, [TAG_INDEX]: String(index) };
}
