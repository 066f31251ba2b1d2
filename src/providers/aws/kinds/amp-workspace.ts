import { type AmpClient, CreateWorkspaceCommand, DeleteWorkspaceCommand, DescribeWorkspaceCommand, TagResourceCommand, type WorkspaceDescription, paginateListWorkspaces } from '@aws-sdk/client-amp';
import { collect, deleting, untilActive } from '../calls.ts';
import { TAG_CLUSTER, type Tags } from '../naming.ts';
import type { AwsAct, AwsKind } from '../provider.ts';
import { componentOf, missingTags, tagChange } from '../tags.ts';

export interface AmpWorkspaceSpec {
  alias: string;
  tags: Tags;
}

export interface AmpWorkspaceState {
  workspaceId: string;
  alias: string;
  arn: string;
  /** `https://aps-workspaces.<region>.amazonaws.com/workspaces/<id>/` */
  endpoint: string;
  /** ACTIVE, CREATING, … */
  status: string;
  tags: Tags;
}

const ACTIVE_WAIT_MS = 10 * 60_000;

/**
 * An Amazon Managed Service for Prometheus workspace: where both sites' Prometheus remote-write
 * with SigV4 when monitoring.managedPrometheus is on. Found by its cluster tag; created and
 * waited for until ACTIVE, since a remote write before that is refused.
 */
export const ampWorkspaceKind: AwsKind<AmpWorkspaceSpec, AmpWorkspaceState> = {
  kind: 'amp-workspace',

  async observe({ provider }) {
    const found = await clusterWorkspaces(provider.clients.amp, provider.cluster);
    return found.map((state) => ({ id: componentOf(state.tags) ?? state.workspaceId, ref: state.workspaceId, state }));
  },

  diff(state, spec) {
    if (state.alias !== spec.alias) return { changes: [{ field: 'alias', from: state.alias, to: spec.alias }], replace: 'the workspace alias is its name here' };
    return { changes: tagChange(state.tags, spec.tags) };
  },

  describe(spec) {
    return { alias: spec.alias, use: 'remote-write target of both sites (SigV4)' };
  },

  async create(spec, ctx) {
    const created = await ctx.provider.clients.amp.send(new CreateWorkspaceCommand({ alias: spec.alias, tags: spec.tags }));
    const workspaceId = created.workspaceId ?? '';
    const active = await waitActive(ctx.provider.clients.amp, workspaceId, ctx);
    return { id: ctx.id, ref: workspaceId, state: stateOf(active, spec.tags) };
  },

  async update(found, spec, _changes, ctx) {
    const missing = missingTags(found.state.tags, spec.tags);
    if (Object.keys(missing).length > 0) await ctx.provider.clients.amp.send(new TagResourceCommand({ resourceArn: found.state.arn, tags: missing }));
    return { ...found, state: { ...found.state, tags: { ...found.state.tags, ...spec.tags } } };
  },

  async destroy(found, ctx) {
    await deleting(() => ctx.provider.clients.amp.send(new DeleteWorkspaceCommand({ workspaceId: found.state.workspaceId })));
  },

  outputs(found) {
    return { workspaceId: found.state.workspaceId, arn: found.state.arn, endpoint: found.state.endpoint };
  },
};

/** The cluster's workspaces (by its tag), not being deleted, as AWS describes them. */
export async function clusterWorkspaces(amp: AmpClient, cluster: string): Promise<AmpWorkspaceState[]> {
  const pages = await collect(paginateListWorkspaces({ client: amp }, {}));
  const ours = pages.flatMap((p) => p.workspaces ?? []).filter((w) => w.tags?.[TAG_CLUSTER] === cluster && w.status?.statusCode !== 'DELETING');
  return Promise.all(ours.map(async (summary) => stateOf((await amp.send(new DescribeWorkspaceCommand({ workspaceId: summary.workspaceId }))).workspace, summary.tags ?? {})));
}

function stateOf(w: WorkspaceDescription | undefined, tags: Tags): AmpWorkspaceState {
  return { workspaceId: w?.workspaceId ?? '', alias: w?.alias ?? '', arn: w?.arn ?? '', endpoint: w?.prometheusEndpoint ?? '', status: w?.status?.statusCode ?? '', tags };
}

function waitActive(amp: AmpClient, workspaceId: string, ctx: Pick<AwsAct, 'report' | 'signal'>): Promise<WorkspaceDescription | undefined> {
  const read = async () => {
    const { workspace } = await amp.send(new DescribeWorkspaceCommand({ workspaceId }));
    return { status: workspace?.status?.statusCode, value: workspace };
  };
  return untilActive(ctx, `the Prometheus workspace ${workspaceId}`, read, { failed: ['CREATION_FAILED'], timeoutMs: ACTIVE_WAIT_MS, pollMs: 5_000 });
}
