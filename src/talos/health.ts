import { setTimeout as sleep } from 'node:timers/promises';
import { ActionError } from '../core/errors.ts';
import type { TalosCredentials } from './client/client.ts';
import { type TalosSite, connect, withClient } from './site.ts';

/** Services that must be healthy on every control plane before the cluster counts as up. */
const CONTROL_PLANE_SERVICES = ['apid', 'etcd', 'kubelet', 'trustd'];

export interface Health {
  members: string[];
  unhealthy: string[];
}

/** Etcd members as the first control plane sees them, and which control-plane services are not healthy. */
export async function checkHealth(site: TalosSite, creds: TalosCredentials, controlPlanes: readonly string[], via?: string): Promise<Health> {
  const first = controlPlanes[0];
  if (!first) throw new Error(`the ${site.site} site has no control plane`);
  const [members] = await withClient(connect({ address: first }, creds, site.timeouts, { via }), (c) => c.etcdMembers());
  const unhealthy: string[] = [];
  for (const address of controlPlanes) {
    const node = { address };
    const [list] = await withClient(connect(node, creds, site.timeouts, { via }), (c) => c.services());
    for (const id of CONTROL_PLANE_SERVICES) {
      const service = list?.services.find((s) => s.id === id);
      if (!service?.health?.healthy) unhealthy.push(`${node.address}/${id}${service ? ` (${service.state})` : ' (missing)'}`);
    }
  }
  return { members: (members?.members ?? []).map((m) => m.hostname), unhealthy };
}

/** Waits until every control plane is an etcd member and its services are healthy. */
export async function waitHealthy(site: TalosSite, creds: TalosCredentials, controlPlanes: readonly string[], via: string | undefined, report: (message: string) => void): Promise<void> {
  const expected = controlPlanes.length;
  const deadline = Date.now() + site.timeouts.healthMs;
  let last = 'no answer yet';
  for (let delay = 500; ; delay = Math.min(delay * 2, 5_000)) {
    try {
      const health = await checkHealth(site, creds, controlPlanes, via);
      if (health.members.length >= expected && health.unhealthy.length === 0) return;
      last = `${health.members.length}/${expected} etcd members${health.unhealthy.length ? `; not healthy: ${health.unhealthy.join(', ')}` : ''}`;
    } catch (error) {
      last = (error as Error).message;
    }
    report(`waiting for the control plane: ${last}`);
    if (Date.now() + delay > deadline) {
      throw new ActionError(`the ${site.site} control plane did not become healthy within ${Math.round(site.timeouts.healthMs / 1000)}s: ${last}`, 'check the nodes with `talosctl --talosconfig <state dir>/talosconfig health` and their consoles');
    }
    await sleep(delay);
  }
}
