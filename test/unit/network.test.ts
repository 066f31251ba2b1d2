import { describe, expect, it } from 'vitest';
import { isIpv4Cidr, networkOf, overlaps, subnetAt } from '../../src/core/net/cidr.ts';
import { layoutSubnets, natZones } from '../../src/providers/aws/network-plan.ts';

describe('CIDR helpers', () => {
  it.each([
    ['10.40.0.0/16', true],
    ['10.40.0.0/33', false],
    ['10.40.0.0', false],
    ['256.1.1.1/8', false],
    ['10.040.0.0/16', false],
    ['0.0.0.0/0', true],
  ])('%s is a CIDR: %s', (cidr, ok) => expect(isIpv4Cidr(cidr)).toBe(ok));

  it('finds overlaps and network addresses', () => {
    expect(overlaps('10.0.0.0/8', '10.244.0.0/16')).toBe(true);
    expect(overlaps('10.96.0.0/12', '10.112.0.0/12')).toBe(false);
    expect(networkOf('10.40.1.7/16')).toBe('10.40.0.0/16');
  });

  it('carves the n-th block', () => {
    expect(subnetAt('10.40.0.0/16', 20, 0)).toBe('10.40.0.0/20');
    expect(subnetAt('10.40.0.0/16', 20, 8)).toBe('10.40.128.0/20');
    expect(subnetAt('10.40.128.0/20', 24, 3)).toBe('10.40.131.0/24');
    expect(() => subnetAt('10.40.0.0/16', 20, 16)).toThrow('holds 16 blocks');
  });
});

describe('layoutSubnets', () => {
  it('gives each zone a public and a private subnet from its letter', () => {
    expect(layoutSubnets('10.40.0.0/16', ['eu-central-1a', 'eu-central-1b'])).toEqual([
      { zone: 'eu-central-1a', letter: 'a', privateCidr: '10.40.0.0/20', publicCidr: '10.40.128.0/24' },
      { zone: 'eu-central-1b', letter: 'b', privateCidr: '10.40.16.0/20', publicCidr: '10.40.129.0/24' },
    ]);
  });

  it('never renumbers a zone when zones are added, removed or reordered', () => {
    const two = layoutSubnets('10.40.0.0/16', ['eu-central-1b', 'eu-central-1c']);
    const three = layoutSubnets('10.40.0.0/16', ['eu-central-1c', 'eu-central-1a', 'eu-central-1b']);
    for (const zone of two) expect(three).toContainEqual(zone);
  });

  it('fits the smallest VPC allowed, and keeps subnets disjoint', () => {
    const layout = layoutSubnets('10.1.0.0/20', ['x-1a', 'x-1b', 'x-1h']);
    expect(layout.map((z) => [z.privateCidr, z.publicCidr])).toEqual([
      ['10.1.0.0/24', '10.1.8.0/28'],
      ['10.1.1.0/24', '10.1.8.16/28'],
      ['10.1.7.0/24', '10.1.8.112/28'],
    ]);
    const all = layout.flatMap((z) => [z.privateCidr, z.publicCidr]);
    for (const a of all) for (const b of all) if (a !== b) expect(overlaps(a, b)).toBe(false);
  });

  it('places NAT gateways per mode', () => {
    const layout = layoutSubnets('10.40.0.0/16', ['r-1a', 'r-1b', 'r-1c']);
    expect(natZones('single', layout).map((z) => z.letter)).toEqual(['a']);
    expect(natZones('perAz', layout).map((z) => z.letter)).toEqual(['a', 'b', 'c']);
    expect(natZones('none', layout)).toEqual([]);
  });
});
