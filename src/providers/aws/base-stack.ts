import type { HybridConfig } from '../../core/config/schema.ts';
import { type Node, type Refs, isUnknown } from '../../core/engine/model.ts';
import { ebsEncryptionKind, EBS_ENCRYPTION_ID } from './kinds/ebs-encryption.ts';
import { ecrPrefix, ecrRepositoryKind } from './kinds/ecr-repository.ts';
import { instanceProfileKind } from './kinds/instance-profile.ts';
import { iamRoleKind, type PolicyDocument } from './kinds/iam-role.ts';
import { iamUserKind } from './kinds/iam-user.ts';
import { internetGatewayKind } from './kinds/internet-gateway.ts';
import { KMS_ALIAS_ID, kmsAliasKind } from './kinds/kms-alias.ts';
import { clusterKeyPolicy, kmsKeyKind } from './kinds/kms-key.ts';
import { natGatewayKind } from './kinds/nat-gateway.ts';
import { elasticIpKind } from './kinds/elastic-ip.ts';
import { routeTableKind } from './kinds/route-table.ts';
import { bucketIdFor, type LifecycleRule, type PolicyStatement, s3BucketKind } from './kinds/s3-bucket.ts';
import { accessLogsIdFor, s3AccessLoggingKind } from './kinds/s3-access-logging.ts';
import { flowLogKind } from './kinds/flow-log.ts';
import { rulesIdFor, securityGroupRulesKind } from './kinds/security-group-rules.ts';
import { securityGroupKind } from './kinds/security-group.ts';
import { DEFAULT_SG_ID, defaultSecurityGroupKind } from './kinds/default-security-group.ts';
import { subnetKind } from './kinds/subnet.ts';
import { vpcKind } from './kinds/vpc.ts';
import { bucketName, iamName, kmsAlias, nameOf, tagsFor } from './naming.ts';
import { layoutSubnets, natZones } from './network-plan.ts';
import { prometheusQueryPolicy, remoteWritePolicy, shipperPolicy } from './lake-grants.ts';
import { ampWorkspaceKind } from './kinds/amp-workspace.ts';
import type { AwsProvider } from './provider.ts';
import { type CrossSitePort, type ReaderPort, type ServiceEntry, controlPlaneIngress, loadBalancerIngress, workerIngress } from './security-rules.ts';
import type { IngressRule } from './kinds/security-group-rules.ts';

type AwsNode = Node<AwsProvider>;

/** The load balancer's security group. */
export const NLB_SG_ID = 'sg-nlb';

/**
 * Who may assume a role: an AWS service (`ec2.amazonaws.com`, say), on behalf of this account only
 * (`aws:SourceAccount`, against the confused deputy).
 */
export function serviceTrustPolicy(service: string, account: string): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'aws:SourceAccount': account } } }],
  };
}

/** Who may assume the node role: EC2, for an instance in this account only. */
export function ec2TrustPolicy(account: string): PolicyDocument {
  return serviceTrustPolicy('ec2.amazonaws.com', account);
}

/**
 * The AWS base layer: network, security groups, node identity, encryption key and buckets.
 * Ids are logical names (and component tags); zone-bound ones end in the zone's letter.
 * `crossSite`: the ports the workers accept from the on-prem network (over the VPN); `entry`: the
 * service's public port on the load balancer and the NodePort behind it, when traffic is built;
 * `readers`: node ports that a layer's own security group reaches (on control planes and workers).
 */
export function baseStack(
  config: HybridConfig,
  provider: AwsProvider,
  zones: readonly string[],
  crossSite: readonly CrossSitePort[] = [],
  entry?: ServiceEntry,
  readers: readonly ReaderPort[] = [],
): AwsNode[] {
  const tags = (id: string) => tagsFor(provider, id);
  const layout = layoutSubnets(config.aws.vpc.cidr, zones);
  const nats = natZones(config.aws.natGateways, layout);
  const vpcId = (refs: Refs) => refs.get('vpc', 'vpcId');
  const nodes: AwsNode[] = [];
  const add = <Spec>(id: string, kind: AwsNode['kind'], dependsOn: string[], spec: (refs: Refs) => Spec, options: Pick<AwsNode, 'deleteLast'> = {}) =>
    nodes.push({ id, kind, dependsOn, spec, ...options });

  add('vpc', vpcKind, [], () => ({ cidr: config.aws.vpc.cidr, tags: tags('vpc') }));
  add('internet-gateway', internetGatewayKind, ['vpc'], (refs) => ({ vpcId: vpcId(refs), tags: tags('internet-gateway') }));
  for (const z of layout) {
    for (const [tier, cidr] of [['public', z.publicCidr], ['private', z.privateCidr]] as const) {
      const id = `subnet-${tier}-${z.letter}`;
      add(id, subnetKind, ['vpc'], (refs) => ({ vpcId: vpcId(refs), cidr, zone: z.zone, tags: { ...tags(id), 'hybridctl.dev/tier': tier } }));
    }
  }
  for (const z of nats) {
    add(`nat-eip-${z.letter}`, elasticIpKind, [], () => ({ tags: tags(`nat-eip-${z.letter}`) }));
    // A NAT gateway needs the internet gateway attached before it can come up.
    add(`nat-${z.letter}`, natGatewayKind, [`subnet-public-${z.letter}`, `nat-eip-${z.letter}`, 'internet-gateway'], (refs) => ({
      subnetId: refs.get(`subnet-public-${z.letter}`, 'subnetId'),
      allocationId: refs.get(`nat-eip-${z.letter}`, 'allocationId'),
      tags: tags(`nat-${z.letter}`),
    }));
  }
  add('routes-public', routeTableKind, ['vpc', 'internet-gateway', ...layout.map((z) => `subnet-public-${z.letter}`)], (refs) => ({
    vpcId: vpcId(refs),
    routes: [{ destination: '0.0.0.0/0', target: refs.get('internet-gateway', 'gatewayId') }],
    subnetIds: layout.map((z) => refs.get(`subnet-public-${z.letter}`, 'subnetId')),
    tags: tags('routes-public'),
  }));
  for (const z of layout) {
    const nat = nats.find((n) => n.letter === z.letter) ?? nats[0];
    const id = `routes-private-${z.letter}`;
    add(id, routeTableKind, ['vpc', `subnet-private-${z.letter}`, ...(nat ? [`nat-${nat.letter}`] : [])], (refs) => ({
      vpcId: vpcId(refs),
      routes: nat ? [{ destination: '0.0.0.0/0', target: refs.get(`nat-${nat.letter}`, 'natGatewayId') }] : [],
      subnetIds: [refs.get(`subnet-private-${z.letter}`, 'subnetId')],
      tags: tags(id),
    }));
  }

  // The load balancer's group lives here, with the nodes' groups, because the control planes
  // admit their APIs from it: the base layer's rules can then refer to it before any load balancer exists.
  for (const [id, role] of [['sg-controlplane', 'control plane nodes'], ['sg-workers', 'worker nodes'], [NLB_SG_ID, 'API load balancer']] as const) {
    add(id, securityGroupKind, ['vpc'], (refs) => ({ vpcId: vpcId(refs), groupName: nameOf(config.metadata.name, id), description: `hybridctl ${config.metadata.name}: ${role}`, tags: tags(id) }));
  }
  const groups = (refs: Refs) => ({ controlPlane: refs.get('sg-controlplane', 'groupId'), workers: refs.get('sg-workers', 'groupId') });
  const readerRules = (refs: Refs): IngressRule[] =>
    readers.map((r) => ({ protocol: 'tcp', fromPort: r.port, toPort: r.port, groupId: refs.get(r.groupNode, 'groupId'), description: r.what }));
  const readerGroups = readers.map((r) => r.groupNode);
  add(rulesIdFor('sg-controlplane'), securityGroupRulesKind, ['sg-controlplane', 'sg-workers', NLB_SG_ID, ...readerGroups], (refs) => ({
    groupId: refs.get('sg-controlplane', 'groupId'),
    rules: [...controlPlaneIngress({ ...groups(refs), loadBalancer: refs.get(NLB_SG_ID, 'groupId') }), ...readerRules(refs)],
  }));
  add(rulesIdFor('sg-workers'), securityGroupRulesKind, ['sg-controlplane', 'sg-workers', NLB_SG_ID, ...readerGroups], (refs) => ({
    groupId: refs.get('sg-workers', 'groupId'),
    rules: [...workerIngress(config, { ...groups(refs), loadBalancer: refs.get(NLB_SG_ID, 'groupId') }, crossSite, entry), ...readerRules(refs)],
  }));
  add(rulesIdFor(NLB_SG_ID), securityGroupRulesKind, [NLB_SG_ID], (refs) => ({ groupId: refs.get(NLB_SG_ID, 'groupId'), rules: loadBalancerIngress(config, entry) }));
  // Security Hub EC2.2: the VPC's default group admits and sends nothing (nothing of ours uses it).
  add(DEFAULT_SG_ID, defaultSecurityGroupKind, ['vpc'], (refs) => ({ vpcId: vpcId(refs) }));

  const ships = config.monitoring.enabled && config.monitoring.shipper.enabled;
  const managed = config.monitoring.enabled && config.monitoring.managedPrometheus;
  if (managed) add(PROMETHEUS_WORKSPACE_ID, ampWorkspaceKind, [], () => ({ alias: iamName(config.metadata.name, 'metrics'), tags: tags(PROMETHEUS_WORKSPACE_ID) }));
  // What the telemetry on a site may do: ship into its own partitions, remote-write into the workspace.
  const telemetryGrants = (site: 'aws' | 'onprem', refs: Refs): Record<string, PolicyDocument> => ({
    ...(ships ? { 'telemetry-shipper': shipperPolicy(bucketName(provider, 'telemetry'), site, refs.get('kms-key', 'arn') as string, provider.region) } : {}),
    ...(managed ? { 'prometheus-remote-write': remoteWritePolicy(refs.get(PROMETHEUS_WORKSPACE_ID, 'arn') as string) } : {}),
    // Grafana in the cluster reads the workspace with its site's credentials; on either site, since it follows the traffic.
    ...(managed && config.monitoring.grafana === 'incluster' ? { 'prometheus-query': prometheusQueryPolicy(refs.get(PROMETHEUS_WORKSPACE_ID, 'arn') as string) } : {}),
  });
  const grantDeps = [...(ships ? ['kms-key'] : []), ...(managed ? [PROMETHEUS_WORKSPACE_ID] : [])];
  add('node-role', iamRoleKind, grantDeps, (refs) => ({
    roleName: iamName(config.metadata.name, 'node'),
    description: `Talos nodes of hybridctl cluster ${config.metadata.name}`,
    trustPolicy: ec2TrustPolicy(provider.account),
    // The AWS site's shipper and Prometheus run in the host's network and use this role.
    inlinePolicies: telemetryGrants('aws', refs),
    tags: tags('node-role'),
  }));
  if (ships || managed) {
    // On-prem there is no instance role: a user of its own, allowed the same on its own site's partitions.
    add(SHIPPER_USER_ID, iamUserKind, grantDeps, (refs) => ({
      userName: iamName(config.metadata.name, SHIPPER_USER_ID),
      inlinePolicies: telemetryGrants('onprem', refs),
      tags: tags(SHIPPER_USER_ID),
    }));
  }
  add('node-profile', instanceProfileKind, ['node-role'], (refs) => ({
    profileName: iamName(config.metadata.name, 'node'),
    roleName: refs.get('node-role', 'roleName'),
    tags: tags('node-profile'),
  }));

  add('kms-key', kmsKeyKind, [], () => ({
    description: `hybridctl ${config.metadata.name}: buckets, volumes and state`,
    policy: clusterKeyPolicy(provider.account, provider.region),
    tags: tags('kms-key'),
  }));
  add(KMS_ALIAS_ID, kmsAliasKind, ['kms-key'], (refs) => ({ aliasName: kmsAlias(config.metadata.name), targetKeyId: refs.get('kms-key', 'keyId') }));
  add(EBS_ENCRYPTION_ID, ebsEncryptionKind, ['kms-key'], (refs) => ({ kmsKeyArn: refs.get('kms-key', 'arn') }));

  const lifecycles: Record<string, LifecycleRule[]> = {
    state: [{ id: 'state-retention', enabled: true, noncurrentExpireDays: 90, abortIncompleteUploadDays: 7 }],
    telemetry: [
      {
        id: 'telemetry-tiering',
        enabled: true,
        transitionToInfrequentAccessDays: config.aws.telemetryBucket.infrequentAccessAfterDays,
        expireDays: config.aws.telemetryBucket.expireAfterDays,
        noncurrentExpireDays: 30,
        abortIncompleteUploadDays: 7,
      },
    ],
  };
  // The telemetry bucket receives the logs: it lets the delivery services write them.
  const grants = (purpose: string): PolicyStatement[] =>
    purpose === 'telemetry'
      ? [...accessLogGrants(provider, bucketName(provider, purpose), [{ purpose: 'state', source: bucketName(provider, 'state') }]), ...flowLogGrants(provider, bucketName(provider, purpose))]
      : [];
  for (const [purpose, lifecycle] of Object.entries(lifecycles)) {
    const id = bucketIdFor(purpose);
    add(
      id,
      s3BucketKind,
      ['kms-key'],
      (refs) => ({
        bucketName: bucketName(provider, purpose),
        kmsKeyArn: refs.get('kms-key', 'arn'),
        lifecycle,
        grants: grants(purpose),
        tags: tags(id),
      }),
      // The state bucket holds the secrets and the run lock: `down` deletes it only once all else is gone.
      { deleteLast: purpose === 'state' },
    );
  }
  // Security Hub S3.9: requests to the state bucket are logged into the telemetry bucket.
  add(accessLogsIdFor(bucketIdFor('state')), s3AccessLoggingKind, [bucketIdFor('state'), bucketIdFor('telemetry')], (refs) => ({
    bucketName: refs.get(bucketIdFor('state'), 'bucketName'),
    targetBucket: refs.get(bucketIdFor('telemetry'), 'bucketName'),
    targetPrefix: accessLogPrefix('state'),
  }));
  // Security Hub EC2.6: the VPC's traffic, accepted and rejected, into the telemetry bucket.
  add(FLOW_LOG_ID, flowLogKind, ['vpc', bucketIdFor('telemetry')], (refs) => {
    const bucketArn = refs.get(bucketIdFor('telemetry'), 'arn');
    return { vpcId: vpcId(refs), destination: isUnknown(bucketArn) ? bucketArn : `${bucketArn}${FLOW_LOG_PREFIX}`, tags: tags(FLOW_LOG_ID) };
  });
  if (config.service.image.registry === 'ecr') {
    add(ECR_REPOSITORY_ID, ecrRepositoryKind, ['kms-key'], (refs) => ({
      name: `${ecrPrefix(config.metadata.name)}${config.service.image.repository}`,
      kmsKeyArn: refs.get('kms-key', 'arn'),
      tags: tags(ECR_REPOSITORY_ID),
    }));
  }
  return nodes;
}

export const ECR_REPOSITORY_ID = 'image-repository';

/** The on-prem telemetry's IAM user, for the shipper and Prometheus (iamName gives its name). */
export const SHIPPER_USER_ID = 'shipper-onprem';

/** The Amazon Managed Service for Prometheus workspace (monitoring.managedPrometheus). */
export const PROMETHEUS_WORKSPACE_ID = 'prometheus-workspace';

export const FLOW_LOG_ID = 'vpc-flow-log';

/**
 * Where in the telemetry bucket the VPC's flow logs go, after the bucket's ARN: a folder of their
 * own, under which AWS writes `AWSLogs/aws-account-id=<account>/aws-service=vpcflowlogs/…`
 * (Hive-style partitions, Parquet), beside the other telemetry.
 */
export const FLOW_LOG_PREFIX = '/vpc-flow-logs/';

/** Where a bucket's server access logs go in the telemetry bucket. */
export function accessLogPrefix(purpose: string): string {
  return `s3-access-logs/${purpose}/`;
}

/** Lets S3's logging service write each source bucket's access logs under its prefix, for this account only. */
function accessLogGrants(provider: Pick<AwsProvider, 'account'>, bucket: string, sources: { purpose: string; source: string }[]): PolicyStatement[] {
  return sources.map(({ purpose, source }) => ({
    Sid: `S3ServerAccessLogs${purpose.charAt(0).toUpperCase()}${purpose.slice(1)}`,
    Effect: 'Allow',
    Principal: { Service: 'logging.s3.amazonaws.com' },
    Action: 's3:PutObject',
    Resource: `arn:aws:s3:::${bucket}/${accessLogPrefix(purpose)}*`,
    Condition: { ArnLike: { 'aws:SourceArn': `arn:aws:s3:::${source}` }, StringEquals: { 'aws:SourceAccount': provider.account } },
  }));
}

/** What VPC flow log delivery needs, as the VPC guide gives it: write under `AWSLogs/aws-account-id=<account>/` and check the bucket, for this account's logs only. */
function flowLogGrants(provider: Pick<AwsProvider, 'account' | 'region'>, bucket: string): PolicyStatement[] {
  const from = { 'aws:SourceAccount': provider.account };
  const sourceArn = { 'aws:SourceArn': `arn:aws:logs:${provider.region}:${provider.account}:*` };
  const folder = FLOW_LOG_PREFIX.replace(/^\//, '');
  return [
    {
      Sid: 'AWSLogDeliveryWrite',
      Effect: 'Allow',
      Principal: { Service: 'delivery.logs.amazonaws.com' },
      Action: 's3:PutObject',
      Resource: `arn:aws:s3:::${bucket}/${folder}AWSLogs/aws-account-id=${provider.account}/*`,
      Condition: { StringEquals: { ...from, 's3:x-amz-acl': 'bucket-owner-full-control' }, ArnLike: sourceArn },
    },
    {
      Sid: 'AWSLogDeliveryAclCheck',
      Effect: 'Allow',
      Principal: { Service: 'delivery.logs.amazonaws.com' },
      Action: ['s3:GetBucketAcl', 's3:ListBucket'],
      Resource: `arn:aws:s3:::${bucket}`,
      Condition: { StringEquals: from, ArnLike: sourceArn },
    },
  ];
}
