import type { AmpClient } from '@aws-sdk/client-amp';
import type { ResourceKind } from '../core/engine/model.ts';
import { awaitAwsSide } from '../providers/aws/await-aws-side.ts';
import { PROMETHEUS_WORKSPACE_ID } from '../providers/aws/base-stack.ts';
import { clusterWorkspaces } from '../providers/aws/kinds/amp-workspace.ts';

interface WorkspaceFound {
  workspaceId: string;
  endpoint: string;
}

/**
 * A condition of the on-prem site under monitoring.managedPrometheus: the AWS site's workspace
 * exists and is ACTIVE; its endpoint is where the on-prem Prometheus writes. When both sites are
 * built in one run, waits for the AWS side to make it.
 */
export function managedWorkspaceCondition(amp: AmpClient, cluster: string, options: { awsInRun: boolean; timeoutMs: number; offline: boolean }): ResourceKind<Record<string, never>, WorkspaceFound, unknown> {
  const read = async (): Promise<WorkspaceFound | undefined> => {
    const active = (await clusterWorkspaces(amp, cluster)).find((w) => w.status === 'ACTIVE');
    return active && { workspaceId: active.workspaceId, endpoint: active.endpoint };
  };
  return {
    kind: 'prometheus-workspace-ready',
    condition: true,

    async observe() {
      // Planning without credentials: the workspace is shown as waited for.
      if (options.offline) return [];
      const found = await read();
      return found ? [{ id: PROMETHEUS_WORKSPACE_ID, ref: found.workspaceId, state: found }] : [];
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
