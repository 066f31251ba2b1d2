import type { HybridConfig } from '../../core/config/schema.ts';
import { type Node, type Refs, type Val, isUnknown } from '../../core/engine/model.ts';
import { PROMETHEUS_WORKSPACE_ID, serviceTrustPolicy } from '../../providers/aws/base-stack.ts';
import { iamRoleKind } from '../../providers/aws/kinds/iam-role.ts';
import { grafanaWorkspaceKind } from '../../providers/aws/kinds/grafana-workspace.ts';
import { securityGroupKind } from '../../providers/aws/kinds/security-group.ts';
import { prometheusQueryPolicy } from '../../providers/aws/lake-grants.ts';
import { layoutSubnets } from '../../providers/aws/network-plan.ts';
import { iamName, nameOf, tagsFor } from '../../providers/aws/naming.ts';
import type { AwsProvider } from '../../providers/aws/provider.ts';
import type { ReaderPort } from '../../providers/aws/security-rules.ts';
import { PROMETHEUS_NODE_PORT } from '../../telemetry/prometheus-config.ts';
import { FOLDER } from '../content.ts';
import type { DashboardFile } from '../dashboard-files.ts';
import { prometheusDataSource } from '../data-source.ts';
import { GRAFANA_CONTENT_ID, grafanaContentKind } from './content-kind.ts';

type AwsNode = Node<AwsProvider>;

export const GRAFANA_ROLE_ID = 'grafana-role';
export const GRAFANA_SG_ID = 'sg-grafana';
export const GRAFANA_WORKSPACE_ID = 'grafana-workspace';
const PENDING = '(known after apply)';

/** The AWS site's Prometheus, as the in-VPC workspace reaches it: a node's address and the NodePort. */
export interface InVpcPrometheus {
  /** The node whose output privateIp is the address (a worker, else a control plane). */
  node: string;
}

/** With the in-VPC Prometheus, the workspace's network interfaces get a group the nodes admit on the NodePort. */
export function grafanaReaders(config: HybridConfig): ReaderPort[] {
  return config.monitoring.managedPrometheus ? [] : [{ groupNode: GRAFANA_SG_ID, port: PROMETHEUS_NODE_PORT, what: 'Prometheus, read by Managed Grafana' }];
}

/**
 * Amazon Managed Grafana for the dashboards: the workspace's role (reading the managed
 * Prometheus when there is one, nothing otherwise), a security group and a VPC configuration into
 * the private subnets when it reads the in-VPC Prometheus, the workspace, and its content.
 */
export function managedGrafanaNodes(config: HybridConfig, provider: AwsProvider, zones: readonly string[], dashboards: readonly DashboardFile[], inVpc: InVpcPrometheus): AwsNode[] {
  const tags = (id: string) => tagsFor(provider, id);
  const amp = config.monitoring.managedPrometheus;
  const privateSubnets = layoutSubnets(config.aws.vpc.cidr, zones).map((z) => `subnet-private-${z.letter}`);
  const nodes: AwsNode[] = [];
  const add = <Spec>(id: string, kind: AwsNode['kind'], dependsOn: string[], spec: (refs: Refs) => Spec) => nodes.push({ id, kind, dependsOn, spec });

  add(GRAFANA_ROLE_ID, iamRoleKind, amp ? [PROMETHEUS_WORKSPACE_ID] : [], (refs) => ({
    roleName: iamName(config.metadata.name, 'grafana'),
    description: `Amazon Managed Grafana of hybridctl cluster ${config.metadata.name}: reads its data sources`,
    // Amazon Managed Grafana, for a workspace of this account only.
    trustPolicy: serviceTrustPolicy('grafana.amazonaws.com', provider.account),
    inlinePolicies: amp ? { 'prometheus-query': prometheusQueryPolicy(refs.get(PROMETHEUS_WORKSPACE_ID, 'arn') as string) } : {},
    tags: tags(GRAFANA_ROLE_ID),
  }));
  if (!amp) {
    add(GRAFANA_SG_ID, securityGroupKind, ['vpc'], (refs) => ({
      vpcId: refs.get('vpc', 'vpcId'),
      groupName: nameOf(config.metadata.name, GRAFANA_SG_ID),
      description: `hybridctl ${config.metadata.name}: Managed Grafana's network interfaces`,
      tags: tags(GRAFANA_SG_ID),
    }));
  }
  add(GRAFANA_WORKSPACE_ID, grafanaWorkspaceKind, [GRAFANA_ROLE_ID, ...(amp ? [] : [GRAFANA_SG_ID, ...privateSubnets])], (refs) => ({
    name: nameOf(config.metadata.name, 'dashboards'),
    description: `hybridctl cluster ${config.metadata.name}: dashboards of both sites`,
    signIn: config.monitoring.grafanaSignIn === 'saml' ? 'SAML' : 'AWS_SSO',
    roleArn: refs.get(GRAFANA_ROLE_ID, 'arn'),
    ...(amp ? {} : { vpc: { subnetIds: privateSubnets.map((s) => refs.get(s, 'subnetId')), securityGroupIds: [refs.get(GRAFANA_SG_ID, 'groupId')] } }),
    tags: tags(GRAFANA_WORKSPACE_ID),
  }));
  add(GRAFANA_CONTENT_ID, grafanaContentKind, [GRAFANA_WORKSPACE_ID, ...(amp ? [PROMETHEUS_WORKSPACE_ID] : [inVpc.node])], (refs) => {
    const url: Val = amp ? refs.get(PROMETHEUS_WORKSPACE_ID, 'endpoint') : refs.get(inVpc.node, 'privateIp');
    const target = isUnknown(url) ? PENDING : amp ? url : `http://${url}:${PROMETHEUS_NODE_PORT}`;
    return {
      workspaceId: refs.get(GRAFANA_WORKSPACE_ID, 'workspaceId'),
      endpoint: refs.get(GRAFANA_WORKSPACE_ID, 'endpoint'),
      content: {
        dataSource: prometheusDataSource({ url: target, ...(amp ? { sigv4: { region: config.aws.region, authType: 'ec2_iam_role' } } : {}) }),
        folder: FOLDER,
        dashboards,
      },
    };
  });
  return nodes;
}
