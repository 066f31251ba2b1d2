import type { HybridConfig } from '../../src/core/config/schema.ts';
import type { Node } from '../../src/core/engine/model.ts';
import type { DashboardFile } from '../../src/grafana/dashboard-files.ts';
import { grafanaLayer } from '../../src/grafana/layer.ts';
import { baseStack } from '../../src/providers/aws/base-stack.ts';
import type { AwsKind, AwsProvider } from '../../src/providers/aws/provider.ts';

/** The node the in-VPC data source reads: a stand-in for the instance node, which the Grafana tests do not build. */
export const WORKER_IP = '10.40.8.10';

const workerStandIn: AwsKind<Record<string, never>, { privateIp: string }> = {
  kind: 'instance-stand-in',
  condition: true,
  observe: async () => [{ id: 'worker-1', ref: 'worker-1', state: { privateIp: WORKER_IP } }],
  diff: () => ({ changes: [] }),
  describe: () => ({}),
  create: async (_s, ctx) => ({ id: ctx.id, ref: ctx.id, state: { privateIp: WORKER_IP } }),
  update: async (found) => found,
  destroy: async () => {},
  outputs: (found) => ({ privateIp: found.state.privateIp }),
};

/** What the managed workspace stands on from the base layer: the VPC, its private subnets, the nodes' groups and their rules, the managed Prometheus. */
const BASE_IDS = new Set(['vpc', 'subnet-private-a', 'subnet-private-b', 'sg-controlplane', 'sg-workers', 'sg-nlb', 'sg-controlplane-ingress', 'sg-workers-ingress', 'prometheus-workspace']);

/** The managed Grafana nodes of `config` with what they stand on, as `up` builds them, for the engine. */
export function managedGrafanaStack(config: HybridConfig, provider: AwsProvider, zones: readonly string[], dashboards: readonly DashboardFile[]): Node<AwsProvider>[] {
  const layer = grafanaLayer(config, 'managed', dashboards);
  const base = baseStack(config, provider, zones, [], undefined, layer.readers).filter((n) => BASE_IDS.has(n.id));
  const worker: Node<AwsProvider> = { id: 'worker-1', kind: workerStandIn, dependsOn: [], spec: () => ({}) };
  return [...base, worker, ...layer.awsNodes(provider, zones, { node: 'worker-1' })];
}
