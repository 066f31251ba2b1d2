import { type SiteName, SITES } from '../core/config/schema.ts';
import { SESSION_SECONDS } from '../vpn/plan.ts';
import type { Reading, StatusFrame } from './model.ts';

/**
 * What is wrong, as short lines naming the panel: a source that failed, a node not ready or not
 * running, etcd without a member, the active site short of replicas or healthy targets, the
 * tunnel down, the lake stale. Empty when all is well (`status --once` exits 0).
 */
export function problems(frame: StatusFrame, staleAfterS: number): string[] {
  const out: string[] = [];
  const failed = (name: string, reading: Reading<unknown>) => reading.error && out.push(`${name}: ${reading.error}`);
  for (const site of SITES) {
    const reading = frame.sites[site];
    failed(`${site} site`, reading);
    for (const node of reading.value?.nodes ?? []) {
      if (node.ready === false) out.push(`${site} site: node ${node.name} is not Ready`);
      if (node.stage && node.stage !== 'running') out.push(`${site} site: node ${node.name} is ${node.stage}`);
      if (node.services?.unhealthy.length) out.push(`${site} site: node ${node.name}: ${node.services.unhealthy.join(', ')} not healthy`);
      if (node.role === 'controlplane' && node.etcd === false) out.push(`${site} site: node ${node.name} is not an etcd member`);
    }
    for (const cert of reading.value?.expiring ?? []) out.push(`${site} site: the certificate in ${cert.file} expires ${cert.expiresAt}`);
  }
  failed('service', frame.service);
  const service = frame.service.value;
  if (service) {
    const active = service.sites[service.active];
    if (active && 'error' in active) out.push(`service on the active site (${service.active}): ${active.error}`);
    else if (active && active.ready < active.desired) out.push(`service on the active site (${service.active}): ${active.ready} of ${active.desired} replicas ready`);
  }
  failed('traffic', frame.traffic);
  const targets = frame.traffic.value?.targets[(service?.active ?? 'aws') as SiteName];
  if (targets && targets.healthy < targets.total) out.push(`traffic: ${targets.healthy} of ${targets.total} targets healthy on the active site`);
  failed('vpn', frame.vpn);
  for (const g of frame.vpn.value?.gateways ?? []) {
    if (g.error) out.push(`vpn: ${g.site} gateway: ${g.error}`);
    else if (g.handshakeAgeS !== undefined && g.handshakeAgeS > SESSION_SECONDS) out.push(`vpn: ${g.site} gateway's last handshake was ${Math.round(g.handshakeAgeS)} s ago`);
  }
  failed('data', frame.data);
  for (const row of frame.data.value?.rows ?? []) {
    if (row.signal !== 'flows' && row.newestAgeS !== undefined && row.newestAgeS > staleAfterS) {
      out.push(`data: ${row.signal} from ${row.site} is ${Math.round(row.newestAgeS / 60)} min old`);
    }
  }
  return out;
}
