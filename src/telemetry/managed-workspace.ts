import { type AmpClient, paginateListWorkspaces } from '@aws-sdk/client-amp';
import type { ResourceKind } from '../core/engine/model.ts';
import { awaitAwsSide } from '../providers/aws/await-aws-side.ts';
import { collect } from '../providers/aws/calls.ts';
import { TAG_CLUSTER } from '../providers/aws/naming.ts';

interface WorkspaceFound {
  workspaceId: string;
  endpoint: string;
}

/**
 * A condition of the on-prem site under monitoring.managedPrometheus: the AWS site's workspace
 * exists and is ACTIVE; its endpoint is where the on-prem Prometheus writes. When both sites are
 * built in one run, waits for the AWS side to make it.
 */
export function managedWorkspaceCondition(amp: AmpClient, cluster: string, region: string, options: { awsInRun: boolean; timeoutMs: number; offline: boolean }): ResourceKind<Record<string, never>, WorkspaceFound, unknown> {
  const read = async (): Promise<WorkspaceFound | undefined> => {
    const pages = await collect(paginateListWorkspaces({ client: amp }, {}));
    const ours = pages.flatMap((p) => p.workspaces ?? []).find((w) => w.tags?.[TAG_CLUSTER] === cluster && w.status?.statusCode === 'ACTIVE');
    return ours?.workspaceId ? { workspaceId: ours.workspaceId, endpoint: `https://aps-workspaces.${region}.amazonaws.com/workspaces/${ours.workspaceId}/` } : undefined;
  };
  return {
    kind: 'prometheus-workspace-ready',
    condition: true,

    async observe() {
      // Planning without credentials: the workspace is shown as waited for.
      if (options.offline) return [];
      const found = await read();
      return found ? [{ id: MANAGED_WORKSPACE_ID, ref: found.workspaceId, state: found }] : [];
    },

    diff() {
      return { changes: [] };
    },

    describe() {
      return { waitsFor: `the AWS site's managed Prometheus workspace${options.awsInRun ? ' (built in this run)' : ''}` };
    },

    async create(_spec, ctx) {
      const found = await awaitAwsSide("the AWS site's managed Prometheus workspace", async () => (await read()) ?? null, options, ctx);
      return { id: ctx.id, ref: found.workspaceId, state: found };
    },

    async update(found) {
      return found;
    },

    async destroy() {},

    outputs(found) {
      return { endpoint: found.state.endpoint };
    },
  };
}

/** The same id as the AWS site's workspace node, so the telemetry nodes read `endpoint` the same way on both sites. */
export const MANAGED_WORKSPACE_ID = 'prometheus-workspace';
