import type { SiteName } from '../core/config/schema.ts';
import { LINK_NAME } from './plan.ts';

/** The tunnel link as Talos reports it (LinkStatus). */
export interface LinkState {
  /** Talos's operational state: WireGuard links that are up report `unknown` (they have no carrier), or `up`. */
  state: string;
  publicKey: string;
  listenPort: number;
  peers: { publicKey: string; endpoint: string; allowedIps: string[] }[];
}

export interface GatewayCheck {
  site: SiteName;
  /** The node's address (on AWS, its private address). */
  address: string;
  link?: LinkState;
  /** The link's counters before and after the probes (bytes). */
  counters?: { before: Counters; after?: Counters };
  /** Why Talos could not be asked. */
  error?: string;
}

export interface Counters {
  rxBytes: number;
  txBytes: number;
}

export interface DirectionCheck {
  from: SiteName;
  to: SiteName;
  targets: string[];
  crossed: boolean;
  /** Median round trip of the best target, in milliseconds. */
  rttMs?: number;
  /** `onprem node onprem-worker-1`: who answered. */
  answeredBy?: string;
  answered?: string;
  error?: string;
  /** Why no probe ran. */
  skipped?: string;
}

/** What each gateway should hold, from the state directory and AWS. */
export interface Expected {
  awsPublicKey?: string;
  onpremPublicKey?: string;
  /** `EIP:port`, when AWS could be asked. */
  awsEndpoint?: string;
  onpremPublicAddress: string;
  port: number;
}

const short = (key: string | undefined) => (key ? `${key.slice(0, 10)}…` : '(none)');
const up = (link: LinkState | undefined) => link !== undefined && link.state !== 'down';
const grew = (c: GatewayCheck['counters'], field: keyof Counters) => c?.after !== undefined && c.after[field] > c.before[field];

/**
 * The likely causes, most specific first, from what the gateways report and what the probes saw.
 * Empty when traffic crosses both ways and the gateways hold what they should.
 */
export function diagnose(gateways: readonly GatewayCheck[], directions: readonly DirectionCheck[], expected: Expected): string[] {
  const causes: string[] = [];
  const aws = gateways.find((g) => g.site === 'aws');
  const onprem = gateways.find((g) => g.site === 'onprem');
  const name = (g: GatewayCheck) => (g.site === 'aws' ? 'the AWS gateway' : 'the on-prem gateway');

  for (const g of gateways) {
    if (g.error) causes.push(`${name(g)} (${g.address}) cannot be asked through Talos: ${g.error}`);
    else if (!g.link) causes.push(`${name(g)} (${g.address}) has no WireGuard link ${LINK_NAME}: run \`hybridctl up\``);
    else if (!up(g.link)) causes.push(`the WireGuard link on ${name(g)} (${g.address}) is down`);
  }
  const awsLink = aws?.link;
  const onpremLink = onprem?.link;
  const awsOwn = expected.awsPublicKey;
  if (awsLink && awsOwn && awsLink.publicKey !== awsOwn)
    causes.push(`key mismatch: the AWS gateway runs key ${short(awsLink.publicKey)} but this state directory has ${short(awsOwn)}; run \`hybridctl up\` from the current state, or \`hybridctl vpn rotate\``);
  if (onpremLink && expected.onpremPublicKey && onpremLink.publicKey !== expected.onpremPublicKey)
    causes.push(`key mismatch: the on-prem gateway runs key ${short(onpremLink.publicKey)} but this state directory has ${short(expected.onpremPublicKey)}; run \`hybridctl up\` from the current state, or \`hybridctl vpn rotate\``);
  if (awsLink && onpremLink) {
    const onpremPeer = onpremLink.peers[0]?.publicKey;
    const awsPeer = awsLink.peers[0]?.publicKey;
    if (onpremPeer !== awsLink.publicKey) causes.push(`key mismatch: the on-prem gateway expects the AWS key ${short(onpremPeer)} but the AWS gateway has ${short(awsLink.publicKey)}`);
    if (awsPeer !== onpremLink.publicKey) causes.push(`key mismatch: the AWS gateway expects the on-prem key ${short(awsPeer)} but the on-prem gateway has ${short(onpremLink.publicKey)}`);
  }
  const dialled = onpremLink?.peers[0]?.endpoint;
  if (onpremLink && expected.awsEndpoint && dialled !== expected.awsEndpoint)
    causes.push(`wrong public endpoint: the on-prem gateway dials ${dialled || 'nothing'}, but the AWS gateway's Elastic IP is ${expected.awsEndpoint}; run \`hybridctl up\``);

  const failed = directions.filter((d) => !d.crossed && !d.skipped);
  if (failed.length === 0 || causes.length > 0) return causes;
  const learned = awsLink?.peers[0]?.endpoint;
  if (awsLink && !learned) {
    causes.push(
      `no packet from the on-prem gateway has reached the AWS gateway (it has not learned the on-prem address): the on-prem firewall may drop UDP out to ${expected.awsEndpoint ?? `the Elastic IP, port ${expected.port}`}, ` +
        `or onprem.publicEndpoint (${expected.onpremPublicAddress}) is not the address on-prem traffic leaves from (the AWS gateway's security group accepts only that)`,
    );
    return causes;
  }
  for (const d of failed) {
    const from = gateways.find((g) => g.site === d.from);
    const to = gateways.find((g) => g.site === d.to);
    const fromName = d.from === 'aws' ? 'AWS' : 'on-prem';
    const toName = d.to === 'aws' ? 'AWS' : 'on-prem';
    if (from?.counters && !grew(from.counters, 'txBytes'))
      causes.push(`${fromName} → ${toName}: the probe's packets never entered the tunnel at the ${fromName} gateway; check the ${fromName} routes to it (${d.from === 'aws' ? 'the VPC route tables' : 'the route on the on-prem nodes'})`);
    else if (to?.counters && !grew(to.counters, 'rxBytes'))
      causes.push(`${fromName} → ${toName}: packets enter the tunnel at the ${fromName} gateway but do not come out at the ${toName} gateway (UDP ${expected.port} is dropped on the way, or the keys do not match)`);
    else
      causes.push(`${fromName} → ${toName}: the tunnel carries packets, but the ${toName} NodePort did not answer (${d.error ?? 'no answer'}); is the service running there, and does the ${toName} side accept the NodePort from ${fromName}?`);
  }
  return causes;
}
