import { containsCidr, normalizeCidr, overlapCidr, parseCidr } from 'cidr-tools';
import { stringifyIp } from 'ip-bigint';

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIpv4(value: string): boolean {
  return IPV4.test(value);
}

export function isIpv4Cidr(value: string): boolean {
  const [ip, prefix, ...rest] = value.split('/');
  return rest.length === 0 && ip !== undefined && isIpv4(ip) && prefix !== undefined && /^(\d|[12]\d|3[0-2])$/.test(prefix);
}

export function prefixLength(cidr: string): number {
  return Number(cidr.split('/')[1]);
}

/** The network address form of a CIDR (host bits cleared): 10.40.1.0/16 -> 10.40.0.0/16. */
export function networkOf(cidr: string): string {
  return normalizeCidr(cidr);
}

export function overlaps(a: string, b: string): boolean {
  return overlapCidr(a, b);
}

export function contains(outer: string, inner: string): boolean {
  return containsCidr(outer, inner);
}

/** The index-th block of size /newPrefix inside cidr. */
export function subnetAt(cidr: string, newPrefix: number, index: number): string {
  const parsed = parseCidr(cidr);
  const prefix = prefixLength(cidr);
  if (newPrefix < prefix || newPrefix > 32) throw new RangeError(`cannot carve /${newPrefix} from ${cidr}`);
  const count = 2n ** BigInt(newPrefix - prefix);
  if (index < 0 || BigInt(index) >= count) throw new RangeError(`${cidr} holds ${count} blocks of /${newPrefix}, not ${index + 1}`);
  const start = parsed.start + BigInt(index) * 2n ** BigInt(32 - newPrefix);
  return `${stringifyIp({ number: start, version: 4 })}/${newPrefix}`;
}

/** The index-th address of a network (1 is the first host of 10.0.0.0/30: 10.0.0.1). */
export function hostAt(cidr: string, index: number): string {
  return subnetAt(cidr, 32, index).split('/')[0] ?? '';
}
