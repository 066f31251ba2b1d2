import { prefixLength, subnetAt } from '../../core/net/cidr.ts';

export interface ZoneSubnets {
  zone: string;
  /** The zone's letter (a, b, …): it names the zone's resources and fixes its subnet slot. */
  letter: string;
  publicCidr: string;
  privateCidr: string;
}

export type NatMode = 'single' | 'perAz' | 'none';

/**
 * Carves one public and one private subnet per zone out of the VPC range. A zone's slot comes
 * from its letter, not its position in a list, so adding or removing a zone never renumbers
 * the others. For a /16: private subnets are the /20s 0-7 (zones a-h), public subnets the
 * /24s of the ninth /20; the remaining /20s stay free for later use.
 */
export function layoutSubnets(vpcCidr: string, zones: readonly string[]): ZoneSubnets[] {
  const prefix = prefixLength(vpcCidr);
  const publicBlock = subnetAt(vpcCidr, prefix + 4, 8);
  return [...zones]
    .sort()
    .map((zone) => {
      const letter = zone.slice(-1);
      const slot = letter.charCodeAt(0) - 'a'.charCodeAt(0);
      return { zone, letter, privateCidr: subnetAt(vpcCidr, prefix + 4, slot), publicCidr: subnetAt(publicBlock, prefix + 8, slot) };
    });
}

/** The zones that get a NAT gateway; private subnets elsewhere route through the first. */
export function natZones(mode: NatMode, layout: readonly ZoneSubnets[]): ZoneSubnets[] {
  if (mode === 'none') return [];
  return mode === 'perAz' ? [...layout] : layout.slice(0, 1);
}
