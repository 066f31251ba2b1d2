import {
  type AuthenticationProviderTypes,
  CreateWorkspaceCommand,
  DeleteWorkspaceCommand,
  DescribeWorkspaceCommand,
  type GrafanaClient,
  TagResourceCommand,
  UpdateWorkspaceAuthenticationCommand,
  UpdateWorkspaceCommand,
  type WorkspaceDescription,
  paginateListWorkspaces,
} from '@aws-sdk/client-grafana';
import { GetResourcesCommand } from '@aws-sdk/client-resource-groups-tagging-api';
import { diffFields, sorted } from '../../../core/engine/diff.ts';
import { collect, deleting, untilActive } from '../calls.ts';
import { TAG_CLUSTER, type Tags } from '../naming.ts';
import type { AwsAct, AwsKind } from '../provider.ts';
import { componentOf, missingTags, tagChange } from '../tags.ts';

export type SignIn = 'AWS_SSO' | 'SAML';

export interface GrafanaWorkspaceSpec {
  name: string;
  description: string;
  signIn: SignIn;
  /** The workspace's IAM role (permission type CUSTOMER_MANAGED): the data sources' read access. */
  roleArn: string;
  /** Into the VPC's private subnets, to reach the Prometheus there; none when it reads a managed workspace. */
  vpc?: { subnetIds: string[]; securityGroupIds: string[] };
  tags: Tags;
}

export interface GrafanaWorkspaceState {
  workspaceId: string;
  name: string;
  description: string;
  signIn: string[];
  roleArn: string;
  vpc?: { subnetIds: string[]; securityGroupIds: string[] };
  /** `g-….grafana-workspace.<region>.amazonaws.com` */
  endpoint: string;
  status: string;
  tags: Tags;
}

const WAIT_MS = 20 * 60_000;
const WAIT_POLL_MS = 10_000;

/**
 * An Amazon Managed Grafana workspace, found by its cluster tag: sign-in through IAM Identity
 * Center (or SAML), the workspace role hybridctl makes, and when it reads the in-VPC Prometheus
 * a VPC configuration into the private subnets. Created and updated until ACTIVE.
 */
export const grafanaWorkspaceKind: AwsKind<GrafanaWorkspaceSpec, GrafanaWorkspaceState> = {
  kind: 'grafana-workspace',

  async observe({ provider }) {
    const found = await clusterGrafanaWorkspaces(provider.clients.grafana, provider.cluster);
    return found.map((state) => ({ id: componentOf(state.tags) ?? state.workspaceId, ref: state.workspaceId, state }));
  },

  diff(state, spec) {
    const changes = diffFields(
      { name: state.name, description: state.description, signIn: sorted(state.signIn), roleArn: state.roleArn, vpc: normalVpc(state.vpc) },
      { name: spec.name, description: spec.description, signIn: [spec.signIn], roleArn: spec.roleArn, vpc: normalVpc(spec.vpc) },
    );
    return { changes: [...changes, ...tagChange(state.tags, spec.tags)] };
  },

  describe(spec) {
    return { name: spec.name, signIn: spec.signIn === 'AWS_SSO' ? 'IAM Identity Center' : 'SAML', network: spec.vpc ? 'private subnets of the VPC' : 'public (reads the managed Prometheus)' };
  },

  async create(spec, ctx) {
    const created = await ctx.provider.clients.grafana.send(
      new CreateWorkspaceCommand({
        workspaceName: spec.name,
        workspaceDescription: spec.description,
        accountAccessType: 'CURRENT_ACCOUNT',
        permissionType: 'CUSTOMER_MANAGED',
        authenticationProviders: [spec.signIn as AuthenticationProviderTypes],
        workspaceRoleArn: spec.roleArn,
        workspaceDataSources: ['PROMETHEUS'],
        ...(spec.vpc ? { vpcConfiguration: spec.vpc } : {}),
        tags: { ...spec.tags },
      }),
    );
    const id = created.workspace?.id ?? '';
    const active = await waitActive(ctx.provider.clients.grafana, id, ctx);
    return { id: ctx.id, ref: id, state: stateOf(active, spec.tags) };
  },

  async update(found, spec, changes, ctx) {
    const grafana = ctx.provider.clients.grafana;
    const workspaceId = found.state.workspaceId;
    const fields = new Set(changes.map((c) => c.field));
    if (['name', 'description', 'roleArn', 'vpc'].some((f) => fields.has(f))) {
      await grafana.send(
        new UpdateWorkspaceCommand({
          workspaceId,
          workspaceName: spec.name,
          workspaceDescription: spec.description,
          permissionType: 'CUSTOMER_MANAGED',
          workspaceRoleArn: spec.roleArn,
          ...(spec.vpc ? { vpcConfiguration: spec.vpc } : { removeVpcConfiguration: true }),
        }),
      );
      await waitActive(grafana, workspaceId, ctx);
    }
    if (fields.has('signIn')) {
      await grafana.send(new UpdateWorkspaceAuthenticationCommand({ workspaceId, authenticationProviders: [spec.signIn as AuthenticationProviderTypes] }));
    }
    const missing = missingTags(found.state.tags, spec.tags);
    if (Object.keys(missing).length > 0) await grafana.send(new TagResourceCommand({ resourceArn: workspaceArn(ctx.provider, workspaceId), tags: missing }));
    const now = await grafana.send(new DescribeWorkspaceCommand({ workspaceId }));
    return { ...found, state: stateOf(now.workspace, { ...found.state.tags, ...spec.tags }) };
  },

  async destroy(found, ctx) {
    await deleting(() => ctx.provider.clients.grafana.send(new DeleteWorkspaceCommand({ workspaceId: found.state.workspaceId })));
  },

  outputs(found) {
    return { workspaceId: found.state.workspaceId, endpoint: found.state.endpoint };
  },
};

/**
 * The kind for finding a workspace an earlier config made, when the config no longer wants one:
 * it asks the Resource Groups Tagging API first, so an account that never had one (or a region
 * without Managed Grafana) is not asked for Grafana at all.
 */
export const leftoverGrafanaWorkspaceKind: AwsKind<GrafanaWorkspaceSpec, GrafanaWorkspaceState> = {
  ...grafanaWorkspaceKind,
  async observe(ctx) {
    const { ResourceTagMappingList } = await ctx.provider.clients.tagging.send(
      new GetResourcesCommand({ ResourceTypeFilters: ['grafana'], TagFilters: [{ Key: TAG_CLUSTER, Values: [ctx.provider.cluster] }] }),
    );
    return (ResourceTagMappingList ?? []).length > 0 ? grafanaWorkspaceKind.observe(ctx) : [];
  },
};

/** The workspace's ARN, which TagResource takes. */
export function workspaceArn(provider: { region: string; account: string }, workspaceId: string): string {
  return `arn:aws:grafana:${provider.region}:${provider.account}:/workspaces/${workspaceId}`;
}

/** The cluster's workspaces (by its tag), not being deleted, as AWS describes them. */
export async function clusterGrafanaWorkspaces(grafana: GrafanaClient, cluster: string): Promise<GrafanaWorkspaceState[]> {
  const pages = await collect(paginateListWorkspaces({ client: grafana }, {}));
  const ours = pages.flatMap((p) => p.workspaces ?? []).filter((w) => w.tags?.[TAG_CLUSTER] === cluster && w.status !== 'DELETING');
  return Promise.all(ours.map(async (summary) => stateOf((await grafana.send(new DescribeWorkspaceCommand({ workspaceId: summary.id }))).workspace, summary.tags ?? {})));
}

function normalVpc(vpc: GrafanaWorkspaceState['vpc']) {
  return vpc ? { subnetIds: sorted(vpc.subnetIds), securityGroupIds: sorted(vpc.securityGroupIds) } : null;
}

function stateOf(w: WorkspaceDescription | undefined, tags: Tags): GrafanaWorkspaceState {
  const vpc = w?.vpcConfiguration;
  return {
    workspaceId: w?.id ?? '',
    name: w?.name ?? '',
    description: w?.description ?? '',
    signIn: w?.authentication?.providers ?? [],
    roleArn: w?.workspaceRoleArn ?? '',
    ...(vpc ? { vpc: { subnetIds: vpc.subnetIds ?? [], securityGroupIds: vpc.securityGroupIds ?? [] } } : {}),
    endpoint: w?.endpoint ?? '',
    status: w?.status ?? '',
    tags: { ...(w?.tags ?? {}), ...tags },
  };
}

function waitActive(grafana: GrafanaClient, workspaceId: string, ctx: Pick<AwsAct, 'report' | 'signal'>): Promise<WorkspaceDescription | undefined> {
  const read = async () => {
    const { workspace } = await grafana.send(new DescribeWorkspaceCommand({ workspaceId }));
    return { status: workspace?.status, value: workspace };
  };
  return untilActive(ctx, `the Grafana workspace ${workspaceId}`, read, { failed: ['CREATION_FAILED', 'UPDATE_FAILED'], timeoutMs: WAIT_MS, pollMs: WAIT_POLL_MS });
}
