import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config/load.ts';
import { problemJson } from '../../src/core/config/problems.ts';
import { ConfigError } from '../../src/core/errors.ts';
import { EXAMPLE, exampleWith } from '../support/config.ts';
import { ROOT } from '../support/paths.ts';

function problems(text: string): string[] {
  try {
    parseConfig(text);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.path}: ${p.message}`);
    throw error;
  }
  return [];
}

/** The ConfigError a document makes (fails when it makes none). */
function configError(text: string): ConfigError {
  try {
    parseConfig(text);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('the document is valid');
}

/** A secret-looking value: its head is fine to show, nothing after the first 60 characters is. */
const SECRET_HEAD = 'ghp_' + 'A'.repeat(56);
const SECRET_TAIL = 'TAILs3cr3tTAIL'.repeat(10);
const SECRET = SECRET_HEAD + SECRET_TAIL;

describe('config', () => {
  it('loads the example, the starter and the contract example as written', () => {
    const example = parseConfig(EXAMPLE);
    expect(example.metadata.name).toBe('demo');
    expect(example.aws.controlPlane).toEqual({ count: 3, instanceType: 't3.medium', diskGiB: 20 });
    expect(parseConfig(readFileSync(`${ROOT}templates/init/hybrid.yaml`, 'utf8')).aws.natGateways).toBe('single');
  });

  it('fills defaults for what may be left out', () => {
    const minimal = exampleWith([/ {2}natGateways: single.*\n/, ''], [/kubernetes:\n(.*\n){2}/, ''], [/vpn:\n(.*\n)+/, 'vpn: { onpremGateway: 192.168.10.21 }\n'], [/ {2}workers: .*\n/, '']);
    const config = parseConfig(minimal);
    expect(config.aws.natGateways).toBe('single');
    expect(config.kubernetes.onprem.podSubnet).toBe('10.245.0.0/16');
    expect(config.vpn).toEqual({
      enabled: true,
      type: 'wireguard',
      port: 51820,
      onpremGateway: '192.168.10.21',
      awsGateway: { instanceType: 't3.small', diskGiB: 20 },
      tunnelCidr: '10.255.255.252/30',
    });
    expect(config.aws.workers.count).toBe(0);
  });

  it('accepts 0.0.0.0/0 for admins only when told to', () => {
    expect(problems(exampleWith(['[203.0.113.10/32]', '[0.0.0.0/0]'], ['allowPublicAdmin: false', 'allowPublicAdmin: true']))).toEqual([]);
  });

  it('finds every overlap between site networks and Kubernetes ranges', () => {
    const found = problems(exampleWith(['serviceSubnet: 10.112.0.0/12', 'serviceSubnet: 10.96.0.0/12'], ['cidr: 192.168.10.0/24', 'cidr: 10.244.5.0/24']));
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringContaining('kubernetes.aws.podSubnet: overlaps onprem.cidr (10.244.5.0/24)'),
        expect.stringContaining('kubernetes.onprem.serviceSubnet: overlaps kubernetes.aws.serviceSubnet'),
      ]),
    );
  });

  it('suggests the field that was meant', () => {
    expect(problems(exampleWith(['adminCidrs:', 'adminCidr:']))).toContain('aws.adminCidr: is not a known field (did you mean "adminCidrs"?)');
    expect(problems(exampleWith(['  port: 51820', '  portt: 51820']))).toContain('vpn.portt: is not a known field (did you mean "port"?)');
  });

  it('checks the VPN: a gateway from the inventory, a free port, a tunnel range of its own', () => {
    expect(problems(exampleWith([/ {2}onpremGateway: .*\n/, '']))).toEqual([
      'vpn.onpremGateway: is required while the VPN is enabled: the address of the on-prem node that runs it (one of onprem.nodes: 192.168.10.11, 192.168.10.21); or set vpn.enabled: false',
    ]);
    expect(problems(exampleWith([/ {2}onpremGateway: .*\n/, ''], ['enabled: true ', 'enabled: false ']))).toEqual([]);
    expect(problems(exampleWith(['onpremGateway: 192.168.10.21', 'onpremGateway: 192.168.10.99']))).toEqual([
      'vpn.onpremGateway: is not an on-prem node (one of onprem.nodes: 192.168.10.11, 192.168.10.21)',
    ]);
    expect(problems(exampleWith(['port: 51820', 'port: 50000']))).toEqual(['vpn.port: is taken on the nodes by the Talos API (apid); choose another UDP port (the default is 51820)']);
    expect(problems(exampleWith(['port: 51820', 'port: 30500']))[0]).toContain("is in Kubernetes' NodePort range (30000-32767)");
    expect(problems(exampleWith(['tunnelCidr: 10.255.255.252/30', 'tunnelCidr: 10.40.255.0/30']))).toEqual([
      'vpn.tunnelCidr: overlaps aws.vpc.cidr (10.40.0.0/16); every site network, pod and service subnet must be distinct',
    ]);
    expect(problems(exampleWith(['tunnelCidr: 10.255.255.252/30', 'tunnelCidr: 10.255.255.254/31']))).toEqual(['vpn.tunnelCidr: must be between /24 and /30 (it holds one address per gateway)']);
  });

  it('checks the public entry: a free port, the on-prem edge with DNS', () => {
    expect(problems(exampleWith(['port: 80  ', 'port: 6443  ']))).toEqual(['traffic.port: is taken on the load balancer by the Kubernetes API; choose another TCP port (the default is 80)']);
    expect(problems(exampleWith(['port: 80  ', 'port: 0  ']))[0]).toMatch(/^traffic\.port: /);
    // Without the VPN there is no entry (the plan says so), and nothing to complain about.
    expect(problems(exampleWith(['enabled: true ', 'enabled: false '], ['port: 80  ', 'port: 6443  ']))).toEqual([]);
    const dns = ['# dns:', 'dns:'] as [string, string];
    expect(problems(exampleWith(dns))).toEqual([
      "onprem.ingress: is required with traffic.dns: the address and port where your edge forwards to an on-prem worker's NodePort (the SECONDARY record)",
    ]);
    expect(problems(exampleWith(dns, ['# ingress:', 'ingress:']))).toEqual([]);
    expect(problems(exampleWith(dns, ['# ingress:', 'ingress:'], ['port: 80 }', 'port: 8080 }']))).toEqual([
      'onprem.ingress.port: must equal traffic.port (80) with traffic.dns: a DNS answer carries no port, so clients use the same one at either site',
    ]);
    expect(problems(exampleWith(dns, ['Z0123456789ABCDEFGHIJ', 'example.com'])).join('\n')).toContain('traffic.dns.hostedZoneId: is not a Route 53 hosted zone id');
    expect(problems(exampleWith(['path: /readyz', 'path: readyz'])).join('\n')).toContain('traffic.healthCheck.path: is not an HTTP path (expected like /readyz)');
  });

  it('checks monitoring: a Prometheus retention, a shipping interval that divides an hour', () => {
    expect(problems(exampleWith(['retention: 15d', 'retention: 15 days']))).toEqual(['monitoring.retention: is not a Prometheus duration (expected like 15d)']);
    expect(problems(exampleWith(['intervalMinutes: 5', 'intervalMinutes: 7']))).toEqual(['monitoring.shipper.intervalMinutes: must divide an hour (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30 or 60)']);
    expect(problems(exampleWith(['intervalMinutes: 5', 'intervalMinutes: 15']))).toEqual([]);
  });

  it('checks zone lists', () => {
    expect(problems(exampleWith(['availabilityZones: 2', 'availabilityZones: [eu-central-1a, eu-central-1a]']))).toContain(
      'aws.availabilityZones[1]: is listed twice',
    );
    expect(problems(exampleWith(['availabilityZones: 2', 'availabilityZones: [eu-central-1z]']))[0]).toContain('is not supported');
  });

  it('quotes at most a 60-character prefix of any value, in text and in JSON', () => {
    const error = configError(exampleWith(['name: demo', `name: ${SECRET}`], ['team: platform', `${SECRET}: platform`]));
    expect(error.message).toContain(`metadata.name: "${SECRET_HEAD}"… (${SECRET.length} characters) is not a valid cluster name`);
    // A map key is quoted back too (in the path): cut the same way.
    expect(error.message).toContain(`aws.tags.${SECRET_HEAD}…: `);
    expect(error.message).not.toContain('TAIL');
    const json = JSON.stringify(error.problems.map(problemJson));
    expect(json).toContain(`"value":"${SECRET_HEAD}…"`);
    expect(json).not.toContain('TAIL');
  });

  it('names the line and column of a YAML syntax error', () => {
    const error = configError(exampleWith(['  region: eu-central-1', '  region: eu-central-1: x']));
    expect(error.problems).toEqual([expect.objectContaining({ path: '(yaml)', line: 8, column: 11 })]);
    expect(error.message).toContain('hybrid.yaml:8:11: not valid YAML: Nested mappings are not allowed in compact mappings');
  });

  it('refuses a YAML alias bomb at once', () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++) levels.push(`${'abcdefghi'[i]}: &${'abcdefghi'[i]} [${Array(9).fill(`*${'abcdefghi'[i - 1]}`).join(', ')}]`);
    const started = Date.now();
    const error = configError(`${levels.join('\n')}\n`);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(error.message).toContain('hybrid.yaml: not valid YAML: its aliases expand too far');
    // Aliases as people use them are fine.
    expect(problems(exampleWith(['team: platform', 'team: &team platform\n    owner: *team']))).toEqual([]);
  });

  it('judges adminCidrs by how much public address space they open together', () => {
    const admins = (list: string, allow = false) =>
      problems(exampleWith(['[203.0.113.10/32]', list], ...(allow ? [['allowPublicAdmin: false', 'allowPublicAdmin: true'] as [string, string]] : [])));
    const advice = 'list your own addresses, or set aws.allowPublicAdmin: true to accept that';
    expect(admins('[0.0.0.0/0]')).toEqual([`aws.adminCidrs[0]: opens the Talos and Kubernetes APIs to the whole internet; ${advice} (without it, admin ranges may add up to less than a /8 of public addresses, 16,777,216; private ranges do not count)`]);
    // Halves of the internet: each is far too much on its own.
    expect(admins('[0.0.0.0/1, 128.0.0.0/1]')).toEqual([
      expect.stringMatching(/^aws\.adminCidrs\[0\]: opens the Talos and Kubernetes APIs to 2,109,734,912 public addresses \(50% of the internet\)/),
      expect.stringMatching(/^aws\.adminCidrs\[1\]: opens the Talos and Kubernetes APIs to 2,146,304,000 public addresses \(50% of the internet\)/),
    ]);
    // 256 /16s are a /8 together, though none is much alone: judged on the union.
    const slices = Array.from({ length: 256 }, (_, i) => `45.${i}.0.0/16`).join(', ');
    expect(admins(`[${slices}]`)).toEqual([expect.stringMatching(/^aws\.adminCidrs: together open the Talos and Kubernetes APIs to 16,777,216 public addresses \(0\.4% of the internet\)/)]);
    expect(admins(`[${slices.replace(', 45.255.0.0/16', '')}]`)).toEqual([]);
    // One entry of a /8's worth is refused on its own line.
    expect(admins('[0.0.0.0/8]')).toEqual([expect.stringMatching(/^aws\.adminCidrs\[0\]: opens the Talos and Kubernetes APIs to 16,777,216 public addresses \(0\.4% of the internet\); list your own/)]);
    expect(admins('[198.51.100.0/24, 11.0.0.0/8]')[0]).toMatch(/^aws\.adminCidrs\[1\]: opens/);
    // Two halves of a /8 add up to one.
    expect(admins('[64.0.0.0/9, 64.128.0.0/9]')[0]).toMatch(/^aws\.adminCidrs: together open the Talos and Kubernetes APIs to 16,777,216 public addresses/);
    // 10.0.0.0/7 is 10/8 (private, not counted) and 11/8 (public).
    expect(admins('[10.0.0.0/7]')[0]).toContain('16,777,216 public addresses');
    // Private ranges open nothing to the world, however large; overlaps count once; less than a /8 passes.
    expect(admins('[10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, 169.254.0.0/16]')).toEqual([]);
    expect(admins('[64.0.0.0/9, 64.0.0.0/9, 64.0.0.0/10]')).toEqual([]);
    expect(admins('[64.0.0.0/9, 64.128.0.0/10, 64.192.0.0/11, 203.0.113.0/24]')).toEqual([]);
    // Told to, anything goes.
    expect(admins('[0.0.0.0/1, 128.0.0.0/1]', true)).toEqual([]);
    expect(admins('[0.0.0.0/8]', true)).toEqual([]);
  });
});
