import { excludeCidr, mergeCidr, parseCidr } from 'cidr-tools';
import { contains, isIpv4, isIpv4Cidr, networkOf, overlaps, prefixLength } from '../net/cidr.ts';
import { NODE_PORT_RANGE, RESERVED_PORTS } from './ports.ts';
import type { ConfigProblem } from './problems.ts';
import { VPN_TUNNEL_CIDR } from './schema.ts';
import { KUBERNETES_FOR_TALOS, talosMinor } from './talos-versions.ts';

/** The address ranges that must never collide: routing between the sites depends on it. */
export const ADDRESS_RANGES = [
  'aws.vpc.cidr',
  'onprem.cidr',
  'kubernetes.aws.podSubnet',
  'kubernetes.aws.serviceSubnet',
  'kubernetes.onprem.podSubnet',
  'kubernetes.onprem.serviceSubnet',
  'vpn.tunnelCidr',
] as const;

/** The shape the schema accepts for aws.region. */
const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

export const VPC_PREFIX = { min: 16, max: 20 } as const;
/** Zone letters a..h map to subnet slots 0..7 (see providers/aws/network-plan.ts). */
export const MAX_ZONE_LETTER = 'h';

const DEFAULT_RANGES: Record<string, string> = {
  'kubernetes.aws.podSubnet': '10.244.0.0/16',
  'kubernetes.aws.serviceSubnet': '10.96.0.0/12',
  'kubernetes.onprem.podSubnet': '10.245.0.0/16',
  'kubernetes.onprem.serviceSubnet': '10.112.0.0/12',
  'vpn.tunnelCidr': VPN_TUNNEL_CIDR,
};

/**
 * Checks that need more than one field. Runs on the raw document so that it can report
 * alongside type errors elsewhere; every check skips values that are not well-formed
 * (the schema reports those).
 */
export function semanticProblems(raw: unknown): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const at = (path: string): unknown => path.split('.').reduce<unknown>((node, key) => (isObject(node) ? node[key] : undefined), raw);
  const cidrAt = (path: string): string | undefined => {
    const value = at(path) ?? DEFAULT_RANGES[path];
    return typeof value === 'string' && isIpv4Cidr(value) ? value : undefined;
  };

  const vpnEnabled = at('vpn.enabled') !== false;
  const ranges: { path: string; cidr: string }[] = [];
  for (const path of ADDRESS_RANGES) {
    const cidr = path.startsWith('vpn.') && !vpnEnabled ? undefined : cidrAt(path);
    if (!cidr) continue;
    if (networkOf(cidr) !== cidr) {
      problems.push({ path, value: cidr, message: `has host bits set (did you mean ${networkOf(cidr)}?)` });
      continue;
    }
    const clash = ranges.find((r) => overlaps(r.cidr, cidr));
    if (clash) problems.push({ path, value: cidr, message: `overlaps ${clash.path} (${clash.cidr}); every site network, pod and service subnet must be distinct` });
    ranges.push({ path, cidr });
  }

  const vpc = cidrAt('aws.vpc.cidr');
  if (vpc) {
    const prefix = prefixLength(vpc);
    if (prefix < VPC_PREFIX.min || prefix > VPC_PREFIX.max)
      problems.push({ path: 'aws.vpc.cidr', value: vpc, message: `must be between /${VPC_PREFIX.min} and /${VPC_PREFIX.max} (room for a public and a private subnet per zone)` });
  }
  for (const site of ['aws', 'onprem']) {
    const service = cidrAt(`kubernetes.${site}.serviceSubnet`);
    if (service && (prefixLength(service) < 12 || prefixLength(service) > 24))
      problems.push({ path: `kubernetes.${site}.serviceSubnet`, value: service, message: 'must be between /12 and /24 (Kubernetes service range limits)' });
    const pods = cidrAt(`kubernetes.${site}.podSubnet`);
    if (pods && (prefixLength(pods) < 8 || prefixLength(pods) > 22))
      problems.push({ path: `kubernetes.${site}.podSubnet`, value: pods, message: 'must be between /8 and /22 (each node takes a /24 of it)' });
  }

  checkAdminCidrs(at('aws.adminCidrs'), at('aws.allowPublicAdmin') === true, problems);
  checkZones(at('aws.availabilityZones'), at('aws.region'), problems);
  checkOnpremNodes(at('onprem.nodes'), cidrAt('onprem.cidr'), problems);

  if (vpnEnabled) checkVpn(at, cidrAt('vpn.tunnelCidr'), problems);
  checkTraffic(at, vpnEnabled, problems);

  const talos = at('talos.version');
  if (typeof talos === 'string' && /^v\d+\.\d+\.\d+$/.test(talos) && !(talosMinor(talos) in KUBERNETES_FOR_TALOS))
    problems.push({ path: 'talos.version', value: talos, message: `is not supported by this hybridctl (supported: ${Object.keys(KUBERNETES_FOR_TALOS).map((m) => `${m}.x`).join(', ')})` });

  const ia = at('aws.telemetryBucket.infrequentAccessAfterDays') ?? 30;
  const expire = at('aws.telemetryBucket.expireAfterDays');
  if (typeof ia === 'number' && typeof expire === 'number' && expire <= ia)
    problems.push({ path: 'aws.telemetryBucket.expireAfterDays', value: expire, message: `must be greater than infrequentAccessAfterDays (${ia})` });
  return problems;
}

/**
 * Ranges that are not the public internet and that admins' own machines really come from, so
 * listing them opens nothing to the world: RFC 1918, the shared address space of RFC 6598
 * (carrier-grade NAT, overlay VPNs), loopback and link-local. Every other address counts as
 * public, reserved ones too (0.0.0.0/8, 240.0.0.0/4): a broad entry there is a mistake, most
 * often a mistyped 0.0.0.0/0, never a need.
 */
export const NON_PUBLIC_RANGES = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16'] as const;
/** Without aws.allowPublicAdmin, admin ranges together reach fewer public addresses than a /8 holds. */
export const MAX_PUBLIC_ADMIN_ADDRESSES = 2n ** 24n;
const ALL_PUBLIC = publicAddresses(['0.0.0.0/0']);

/** How many public addresses the union of some IPv4 networks holds (overlaps counted once). */
export function publicAddresses(cidrs: readonly string[]): bigint {
  if (cidrs.length === 0) return 0n;
  const outside = excludeCidr(mergeCidr([...cidrs]), [...NON_PUBLIC_RANGES]);
  return outside.reduce((sum, cidr) => {
    const { start, end } = parseCidr(cidr);
    return sum + (end - start + 1n);
  }, 0n);
}

/**
 * The admin ports (Talos API 50000, Kubernetes API 6443) must not open to a large part of the
 * internet by accident: judged on the union of every entry, so splitting 0.0.0.0/0 into halves
 * does not get past it.
 */
function checkAdminCidrs(value: unknown, allowPublic: boolean, problems: ConfigProblem[]): void {
  if (!Array.isArray(value)) return;
  const networks: string[] = [];
  let flagged = false;
  value.forEach((cidr, i) => {
    if (typeof cidr !== 'string' || !isIpv4Cidr(cidr)) return;
    const path = `aws.adminCidrs[${i}]`;
    if (networkOf(cidr) !== cidr) {
      problems.push({ path, value: cidr, message: `has host bits set (did you mean ${networkOf(cidr)}?)` });
      return;
    }
    networks.push(cidr);
    const reach = publicAddresses([cidr]);
    if (!allowPublic && reach >= MAX_PUBLIC_ADMIN_ADDRESSES) {
      problems.push({ path, value: cidr, message: `opens the Talos and Kubernetes APIs to ${describeReach(reach)}; ${ADMIN_ADVICE}` });
      flagged = true;
    }
  });
  if (allowPublic || flagged) return;
  const reach = publicAddresses(networks);
  if (reach >= MAX_PUBLIC_ADMIN_ADDRESSES)
    problems.push({ path: 'aws.adminCidrs', value, message: `together open the Talos and Kubernetes APIs to ${describeReach(reach)}; ${ADMIN_ADVICE}` });
}

const ADMIN_ADVICE =
  'list your own addresses, or set aws.allowPublicAdmin: true to accept that (without it, admin ranges may add up to less than a /8 of public addresses, 16,777,216; private ranges do not count)';

function describeReach(count: bigint): string {
  if (count >= ALL_PUBLIC) return 'the whole internet';
  const share = (Number(count) / Number(ALL_PUBLIC)) * 100;
  return `${count.toLocaleString('en-US')} public addresses (${share >= 1 ? Math.round(share) : share.toFixed(1)}% of the internet)`;
}

function checkZones(value: unknown, region: unknown, problems: ConfigProblem[]): void {
  // A region that is not one is the schema's to report (and is not quoted back whole).
  if (!Array.isArray(value) || typeof region !== 'string' || !AWS_REGION.test(region)) return;
  const seen = new Set<string>();
  value.forEach((zone, i) => {
    if (typeof zone !== 'string') return;
    const path = `aws.availabilityZones[${i}]`;
    const letter = zone.slice(-1);
    if (zone.slice(0, -1) !== region) problems.push({ path, value: zone, message: `is not a zone of aws.region ${region}` });
    else if (letter > MAX_ZONE_LETTER) problems.push({ path, value: zone, message: `is not supported (zones ${region}a to ${region}${MAX_ZONE_LETTER})` });
    if (seen.has(zone)) problems.push({ path, value: zone, message: 'is listed twice' });
    seen.add(zone);
  });
}

function checkOnpremNodes(value: unknown, cidr: string | undefined, problems: ConfigProblem[]): void {
  if (!Array.isArray(value)) return;
  const seen = new Map<string, number>();
  let controlPlanes = 0;
  value.forEach((node, i) => {
    if (!isObject(node)) return;
    if (node.role === 'controlplane') controlPlanes++;
    const address = node.address;
    if (typeof address !== 'string' || !isIpv4(address)) return;
    const path = `onprem.nodes[${i}].address`;
    if (cidr && !contains(cidr, `${address}/32`)) problems.push({ path, value: address, message: `is outside onprem.cidr (${cidr})` });
    const first = seen.get(address);
    if (first !== undefined) problems.push({ path, value: address, message: `is already used by onprem.nodes[${first}]` });
    else seen.set(address, i);
  });
  if (value.length > 0 && controlPlanes === 0)
    problems.push({ path: 'onprem.nodes', message: 'needs at least one node with role: controlplane' });
}

/** The VPN's gateway must be an inventory node, its port free on the nodes, its tunnel range room for two gateways. */
function checkVpn(at: (path: string) => unknown, tunnel: string | undefined, problems: ConfigProblem[]): void {
  const nodes = at('onprem.nodes');
  const addresses = Array.isArray(nodes) ? nodes.flatMap((n) => (isObject(n) && typeof n.address === 'string' && isIpv4(n.address) ? [n.address] : [])) : [];
  const choices = addresses.length > 0 ? ` (one of onprem.nodes: ${addresses.join(', ')})` : '';
  const gateway = at('vpn.onpremGateway');
  if (gateway === undefined) {
    problems.push({ path: 'vpn.onpremGateway', message: `is required while the VPN is enabled: the address of the on-prem node that runs it${choices}; or set vpn.enabled: false` });
  } else if (typeof gateway === 'string' && isIpv4(gateway) && addresses.length > 0 && !addresses.includes(gateway)) {
    problems.push({ path: 'vpn.onpremGateway', value: gateway, message: `is not an on-prem node${choices}` });
  }

  const port = at('vpn.port');
  if (typeof port === 'number' && Number.isInteger(port)) {
    const nodePort = at('service.nodePort') ?? 30080;
    if (RESERVED_PORTS[port]) problems.push({ path: 'vpn.port', value: port, message: `is taken on the nodes by ${RESERVED_PORTS[port]}; choose another UDP port (the default is 51820)` });
    else if (port === nodePort) problems.push({ path: 'vpn.port', value: port, message: 'is service.nodePort; choose another UDP port (the default is 51820)' });
    else if (port >= NODE_PORT_RANGE.min && port <= NODE_PORT_RANGE.max)
      problems.push({ path: 'vpn.port', value: port, message: `is in Kubernetes' NodePort range (${NODE_PORT_RANGE.min}-${NODE_PORT_RANGE.max}), which kube-proxy owns on every node; choose another UDP port (the default is 51820)` });
  }

  if (tunnel && (prefixLength(tunnel) < 24 || prefixLength(tunnel) > 30))
    problems.push({ path: 'vpn.tunnelCidr', value: tunnel, message: 'must be between /24 and /30 (it holds one address per gateway)' });
}

/** The public entry needs the service and the VPN (the load balancer reaches on-prem workers through it). */
function checkTraffic(at: (path: string) => unknown, vpnEnabled: boolean, problems: ConfigProblem[]): void {
  if (at('traffic.enabled') === false || at('service.enabled') === false) return;
  // Without the VPN there is no entry to build (the plan says so): nothing here to check.
  if (!vpnEnabled) return;
  const port = at('traffic.port') ?? 80;
  if (port === 6443 || port === 50000)
    problems.push({ path: 'traffic.port', value: port, message: `is taken on the load balancer by ${RESERVED_PORTS[port]}; choose another TCP port (the default is 80)` });
  if (at('traffic.dns') === undefined) return;
  const ingress = at('onprem.ingress');
  if (!isObject(ingress))
    problems.push({ path: 'onprem.ingress', message: 'is required with traffic.dns: the address and port where your edge forwards to an on-prem worker\'s NodePort (the SECONDARY record)' });
  else if ((ingress.port ?? 80) !== port)
    problems.push({ path: 'onprem.ingress.port', value: ingress.port ?? 80, message: `must equal traffic.port (${port}) with traffic.dns: a DNS answer carries no port, so clients use the same one at either site` });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
