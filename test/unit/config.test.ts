import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config/load.ts';
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

  it('checks zone lists', () => {
    expect(problems(exampleWith(['availabilityZones: 2', 'availabilityZones: [eu-central-1a, eu-central-1a]']))).toContain(
      'aws.availabilityZones[1]: is listed twice',
    );
    expect(problems(exampleWith(['availabilityZones: 2', 'availabilityZones: [eu-central-1z]']))[0]).toContain('is not supported');
  });
});
