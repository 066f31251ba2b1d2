import type { Paint } from '../output/terminal.ts';
import { HANDSHAKE_NOTE, type VpnCheckReport } from '../vpn/check.ts';
import type { DirectionCheck, GatewayCheck } from '../vpn/diagnose.ts';
import { LINK_NAME } from '../vpn/plan.ts';

const SITE = { aws: 'AWS', onprem: 'on-prem' } as const;
const key = (k: string | undefined) => (k ? `${k.slice(0, 10)}…` : '(none)');

/** The check as a person reads it: each gateway's link, each direction's probe, the verdict and the likely causes. */
export function renderVpnCheck(report: VpnCheckReport, port: number, paint: Paint): string {
  const lines = [`VPN check: WireGuard link ${LINK_NAME}, UDP ${port}`];
  for (const g of report.gateways) lines.push(`  ${gatewayLine(g)}`);
  lines.push(`  last handshake: ${HANDSHAKE_NOTE}`);
  for (const d of report.directions) lines.push(`  ${directionLine(d, paint)}`);
  if (report.verdict === 'crossed') lines.push(paint('green', 'traffic crosses the tunnel both ways'));
  else if (report.verdict === 'unproven') lines.push(paint('yellow', 'the links are as expected, but no probe could run, so no packet is proven to cross'));
  else lines.push(paint('red', 'no traffic crosses the tunnel'));
  if (report.causes.length > 0) {
    lines.push(report.verdict === 'crossed' ? 'but:' : 'likely causes:');
    for (const cause of report.causes) lines.push(`  - ${cause}`);
  }
  return `${lines.join('\n')}\n`;
}

function gatewayLine(g: GatewayCheck): string {
  const head = `${SITE[g.site]} gateway ${g.address}:`;
  if (g.error) return `${head} cannot be read (${g.error})`;
  if (!g.link) return `${head} no ${LINK_NAME} link`;
  const peer = g.link.peers[0];
  const other = g.site === 'aws' ? 'on-prem' : 'AWS';
  const where = peer?.endpoint ? (g.site === 'aws' ? `, last heard from ${peer.endpoint}` : ` at ${peer.endpoint}`) : g.site === 'aws' ? ', not heard from yet' : ', no endpoint';
  const traffic = g.counters ? `; ${bytes(g.counters.after?.rxBytes ?? g.counters.before.rxBytes)} in, ${bytes(g.counters.after?.txBytes ?? g.counters.before.txBytes)} out` : '';
  return `${head} link ${g.link.state === 'down' ? 'down' : 'up'} (Talos: ${g.link.state}), key ${key(g.link.publicKey)}; peer ${other} key ${key(peer?.publicKey)}${where}${traffic}`;
}

function directionLine(d: DirectionCheck, paint: Paint): string {
  const route = `${d.from} → ${d.to}`;
  if (d.skipped) return paint('yellow', `- ${route}: not probed (${d.skipped})`);
  if (!d.crossed) return paint('red', `✖ ${route}: no answer from ${d.targets.join(', ')}${d.error ? ` (${d.error})` : ''}`);
  return paint('green', `✔ ${route}: ${d.answered} answered by ${d.answeredBy}${d.rttMs !== undefined ? `, round trip ${d.rttMs} ms (median)` : ''}`);
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 ** 2).toFixed(1)} MiB`;
}
