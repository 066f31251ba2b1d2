import type { HybridConfig } from '../../core/config/schema.ts';
import type { Node, Refs } from '../../core/engine/model.ts';
import { ebsEncryptionKind, EBS_ENCRYPTION_ID } from './kinds/ebs-encryption.ts';
import { ecrPrefix, ecrRepositoryKind } from './kinds/ecr-repository.ts';
import { instanceProfileKind } from './kinds/instance-profile.ts';
import { iamRoleKind, type PolicyDocument } from './kinds/iam-role.ts';
import { internetGatewayKind } from './kinds/internet-gateway.ts';
import { KMS_ALIAS_ID, kmsAliasKind } from './kinds/kms-alias.ts';
import { kmsKeyKind } from './kinds/kms-key.ts';
import { natGatewayKind } from './kinds/nat-gateway.ts';
import { elasticIpKind } from './kinds/elastic-ip.ts';
import { routeTableKind } from './kinds/route-table.ts';
import { bucketIdFor, type LifecycleRule, s3BucketKind } from './kinds/s3-bucket.ts';
import { rulesIdFor, securityGroupRulesKind } from './kinds/security-group-rules.ts';
import { securityGroupKind } from './kinds/security-group.ts';
import { subnetKind } from './kinds/subnet.ts';
import { vpcKind } from './kinds/vpc.ts';
import { bucketName, iamName, kmsAlias, nameOf, tagsFor } from './naming.ts';
import { layoutSubnets, natZones } from './network-plan.ts';
import type { AwsProvider } from './provider.ts';
import { type CrossSitePort, controlPlaneIngress, workerIngress } from './security-rules.ts';

type AwsNode = Node<AwsProvider>;

export const EC2_TRUST_POLICY: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
};

/**
 * The AWS base layer: network, security groups, node identity, encryption key and buckets.
 * Ids are logical names (and component tags); zone-bound ones end in the zone's letter.
 * `crossSite`: the ports the workers accept from the on-prem network (over the VPN).
 */
export function baseStack(config: HybridConfig, provider: AwsProvider, zones: readonly string[], crossSite: readonly CrossSitePort[] = []): AwsNode[] {
  const tags = (id: string) => tagsFor(provider, id);
  const layout = layoutSubnets(config.aws.vpc.cidr, zones);
  const nats = natZones(config.aws.natGateways, layout);
  const vpcId = (refs: Refs) => refs.get('vpc', 'vpcId');
  const nodes: AwsNode[] = [];
  const add = <Spec>(id: string, kind: AwsNode['kind'], dependsOn: string[], spec: (refs: Refs) => Spec) => nodes.push({ id, kind, dependsOn, spec });

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

  for (const [id, role] of [['sg-controlplane', 'control plane nodes'], ['sg-workers', 'worker nodes']] as const) {
    add(id, securityGroupKind, ['vpc'], (refs) => ({ vpcId: vpcId(refs), groupName: nameOf(config.metadata.name, id), description: `hybridctl ${config.metadata.name}: ${role}`, tags: tags(id) }));
  }
  const groups = (refs: Refs) => ({ controlPlane: refs.get('sg-controlplane', 'groupId'), workers: refs.get('sg-workers', 'groupId') });
  add(rulesIdFor('sg-controlplane'), securityGroupRulesKind, ['sg-controlplane', 'sg-workers'], (refs) => ({
    groupId: refs.get('sg-controlplane', 'groupId'),
    rules: controlPlaneIngress(config, groups(refs), layout.map((z) => z.publicCidr)),
  }));
  add(rulesIdFor('sg-workers'), securityGroupRulesKind, ['sg-controlplane', 'sg-workers'], (refs) => ({
    groupId: refs.get('sg-workers', 'groupId'),
    rules: workerIngress(config, groups(refs), crossSite),
  }));

  add('node-role', iamRoleKind, [], () => ({
    roleName: iamName(config.metadata.name, 'node'),
    description: `Talos nodes of hybridctl cluster ${config.metadata.name}`,
    trustPolicy: EC2_TRUST_POLICY,
    inlinePolicies: {},
    tags: tags('node-role'),
  }));
  add('node-profile', instanceProfileKind, ['node-role'], (refs) => ({
    profileName: iamName(config.metadata.name, 'node'),
    roleName: refs.get('node-role', 'roleName'),
    tags: tags('node-profile'),
  }));

  add('kms-key', kmsKeyKind, [], () => ({ description: `hybridctl ${config.metadata.name}: buckets, volumes and state`, tags: tags('kms-key') }));
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
  for (const [purpose, lifecycle] of Object.entries(lifecycles)) {
    const id = bucketIdFor(purpose);
    add(id, s3BucketKind, ['kms-key'], (refs) => ({ bucketName: bucketName(provider, purpose), kmsKeyArn: refs.get('kms-key', 'arn'), lifecycle, tags: tags(id) }));
  }
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
