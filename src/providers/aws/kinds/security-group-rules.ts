import { AuthorizeSecurityGroupIngressCommand, type IpPermission, RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import { type Val, isUnknown, known } from '../../../core/engine/model.ts';
import { errorCode } from '../errors.ts';
import { deleting } from '../calls.ts';
import type { AwsAct, AwsKind } from '../provider.ts';
import { securityGroupKind } from './security-group.ts';

/** One ingress permission: a protocol and port range from one source. */
export interface IngressRule {
  /** `tcp`, `udp`, `icmp` or `-1` (everything). */
  protocol: string;
  fromPort?: number;
  toPort?: number;
  /** Exactly one source: an IPv4 or IPv6 CIDR, a managed prefix list, or another security group. */
  cidr?: string;
  cidrIpv6?: string;
  prefixListId?: string;
  groupId?: Val;
  description: string;
}

export interface SecurityGroupRulesSpec {
  groupId: Val;
  rules: IngressRule[];
}

export interface SecurityGroupRulesState {
  groupId: string;
  rules: IngressRule[];
}

/** The id of the rules resource that belongs to a security group's logical id. */
export function rulesIdFor(groupId: string): string {
  return `${groupId}-ingress`;
}

/**
 * The ingress rules of one security group, kept apart from the group itself so that groups can
 * refer to each other without a dependency cycle. Reads the groups' observation: no calls of its own.
 */
export const securityGroupRulesKind: AwsKind<SecurityGroupRulesSpec, SecurityGroupRulesState> = {
  kind: 'security-group-rules',

  async observe(ctx) {
    const groups = await ctx.observe(securityGroupKind);
    return groups
      .filter((g) => g.state.ingress.length > 0)
      .map((g) => ({ id: rulesIdFor(g.id), ref: `${g.state.groupId}/ingress`, state: { groupId: g.state.groupId, rules: flatten(g.state.ingress) } }));
  },

  diff(state, spec) {
    if (isUnknown(spec.groupId)) return { changes: [{ field: 'rules', to: spec.rules.map(show) }] };
    const { add, remove } = compare(state.rules, spec.rules);
    if (add.length === 0 && remove.length === 0) return { changes: [] };
    return { changes: [{ field: 'rules', from: remove.map(show), to: add.map(show) }] };
  },

  describe(spec) {
    return { rules: spec.rules.map(show) };
  },

  async create(spec, ctx) {
    const groupId = known(spec.groupId);
    await authorize(ctx, groupId, spec.rules);
    return { id: ctx.id, ref: `${groupId}/ingress`, state: { groupId, rules: resolved(spec.rules) } };
  },

  async update(found, spec, _changes, ctx) {
    const { add, remove } = compare(found.state.rules, spec.rules);
    // New rules first, so that traffic moving from one source to another (a CIDR to a group) is never cut off.
    await authorize(ctx, found.state.groupId, add);
    await revoke(ctx, found.state.groupId, remove);
    return { ...found, state: { groupId: found.state.groupId, rules: resolved(spec.rules) } };
  },

  async destroy(found, ctx) {
    await deleting(() => revoke(ctx, found.state.groupId, found.state.rules));
  },

  outputs(found) {
    return { groupId: found.state.groupId };
  },
};

function source(rule: IngressRule): string {
  return rule.cidr ?? rule.cidrIpv6 ?? rule.prefixListId ?? String(rule.groupId);
}

function key(rule: IngressRule): string {
  const ports = rule.protocol === '-1' ? 'all' : `${rule.fromPort}-${rule.toPort}`;
  return `${rule.protocol}/${ports}/${source(rule)}`;
}

function show(rule: IngressRule): string {
  const ports = rule.protocol === '-1' ? 'all traffic' : `${rule.protocol} ${rule.fromPort === rule.toPort ? rule.fromPort : `${rule.fromPort}-${rule.toPort}`}`;
  return `${ports} from ${source(rule)} (${rule.description})`;
}

function resolved(rules: IngressRule[]): IngressRule[] {
  return rules.map((r) => (r.groupId === undefined ? r : { ...r, groupId: known(r.groupId) }));
}

function compare(actual: IngressRule[], wanted: IngressRule[]): { add: IngressRule[]; remove: IngressRule[] } {
  const have = new Set(actual.map(key));
  const want = new Set(wanted.map(key));
  return { add: wanted.filter((r) => !have.has(key(r))), remove: actual.filter((r) => !want.has(key(r))) };
}

/**
 * AWS groups sources under one permission per protocol and port range; we compare one rule per
 * source. Every kind of source counts, so that a rule added behind our back (from `::/0`, say,
 * or a prefix list) is seen, and revoked.
 */
export function flatten(permissions: IpPermission[]): IngressRule[] {
  return permissions.flatMap((p) => {
    const protocol = p.IpProtocol ?? '-1';
    const ports = protocol === '-1' ? {} : { fromPort: p.FromPort, toPort: p.ToPort };
    return [
      ...(p.IpRanges ?? []).map((r) => ({ protocol, ...ports, cidr: r.CidrIp, description: r.Description ?? '' })),
      ...(p.Ipv6Ranges ?? []).map((r) => ({ protocol, ...ports, cidrIpv6: r.CidrIpv6, description: r.Description ?? '' })),
      ...(p.PrefixListIds ?? []).map((r) => ({ protocol, ...ports, prefixListId: r.PrefixListId, description: r.Description ?? '' })),
      ...(p.UserIdGroupPairs ?? []).map((g) => ({ protocol, ...ports, groupId: g.GroupId, description: g.Description ?? '' })),
    ];
  });
}

export function toPermission(rule: IngressRule): IpPermission {
  const ports = rule.protocol === '-1' ? {} : { FromPort: rule.fromPort, ToPort: rule.toPort };
  const Description = rule.description || undefined;
  const from =
    rule.cidr !== undefined
      ? { IpRanges: [{ CidrIp: rule.cidr, Description }] }
      : rule.cidrIpv6 !== undefined
        ? { Ipv6Ranges: [{ CidrIpv6: rule.cidrIpv6, Description }] }
        : rule.prefixListId !== undefined
          ? { PrefixListIds: [{ PrefixListId: rule.prefixListId, Description }] }
          : { UserIdGroupPairs: [{ GroupId: known(rule.groupId ?? ''), Description }] };
  return { IpProtocol: rule.protocol, ...ports, ...from };
}

async function authorize(ctx: AwsAct, groupId: string, rules: IngressRule[]): Promise<void> {
  if (rules.length === 0) return;
  try {
    await ctx.provider.clients.ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: rules.map(toPermission) }));
  } catch (error) {
    if (errorCode(error) !== 'InvalidPermission.Duplicate') throw error;
    // Some are there already (another run got there first): add the rest one at a time.
    if (rules.length > 1) for (const rule of rules) await authorize(ctx, groupId, [rule]);
  }
}

async function revoke(ctx: AwsAct, groupId: string, rules: IngressRule[]): Promise<void> {
  if (rules.length === 0) return;
  await ctx.provider.clients.ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: rules.map(toPermission) }));
}
