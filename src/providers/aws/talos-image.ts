import { DescribeImagesCommand, DescribeInstanceTypeOfferingsCommand, DescribeInstanceTypesCommand } from '@aws-sdk/client-ec2';
import type { HybridConfig } from '../../core/config/schema.ts';
import { UsageError } from '../../core/errors.ts';
import type { AwsClients } from './clients.ts';

/** Sidero Labs publishes the official Talos AMIs from this account. */
export const SIDERO_LABS_ACCOUNT = '540036508848';

export type Arch = 'amd64' | 'arm64';

export interface NodeImages {
  /** AMI per role, matching the architecture of the role's instance type. */
  controlplane: string;
  worker: string;
  /** The VPN gateway's (vpn.awsGateway.instanceType). */
  gateway: string;
}

/**
 * Finds the Talos image for each role: the instance type's architecture, then Sidero Labs'
 * `talos-<version>-<region>-<arch>` (newest if several), unless aws.talosAmi names one. Also
 * checks that each instance type is offered in every zone that role's nodes go to.
 */
export async function resolveNodeImages(config: HybridConfig, clients: AwsClients, zones: readonly string[]): Promise<NodeImages> {
  const roles = [
    { role: 'controlplane' as const, path: 'aws.controlPlane.instanceType', type: config.aws.controlPlane.instanceType, count: config.aws.controlPlane.count },
    { role: 'worker' as const, path: 'aws.workers.instanceType', type: config.aws.workers.instanceType, count: config.aws.workers.count },
    { role: 'gateway' as const, path: 'vpn.awsGateway.instanceType', type: config.vpn.awsGateway.instanceType, count: config.vpn.enabled ? 1 : 0 },
  ].filter((r) => r.count > 0);
  const types = [...new Set(roles.map((r) => r.type))];
  const [described, offerings] = await Promise.all([
    clients.ec2.send(new DescribeInstanceTypesCommand({ InstanceTypes: types as never[] })).catch((error: unknown) => {
      if (/InvalidInstanceType/.test(String((error as { code?: string }).code ?? error)))
        throw new UsageError(`an instance type in aws.controlPlane, aws.workers or vpn.awsGateway does not exist: ${(error as Error).message}`);
      throw error;
    }),
    clients.ec2.send(new DescribeInstanceTypeOfferingsCommand({ LocationType: 'availability-zone', Filters: [{ Name: 'instance-type', Values: types }] })),
  ]);
  const archOf = new Map(
    (described.InstanceTypes ?? []).map((t) => [t.InstanceType ?? '', t.ProcessorInfo?.SupportedArchitectures?.includes('arm64') ? ('arm64' as const) : ('amd64' as const)]),
  );
  for (const { role, path, type, count } of roles) {
    if (!archOf.has(type)) throw new UsageError(`${path}: "${type}" is not an instance type AWS knows in ${config.aws.region}`);
    const offered = new Set((offerings.InstanceTypeOfferings ?? []).filter((o) => o.InstanceType === type).map((o) => o.Location ?? ''));
    const used = zones.slice(0, Math.min(count, zones.length));
    const missing = used.filter((z) => !offered.has(z));
    if (missing.length > 0) {
      throw new UsageError(
        `${path}: "${type}" is not offered in ${missing.join(', ')} (${role} nodes go there); choose aws.availabilityZones where it is offered (${[...offered].sort().join(', ') || 'none'}) or another instance type`,
      );
    }
  }
  const images: Partial<NodeImages> = {};
  for (const { role, type } of roles) images[role] = config.aws.talosAmi ?? (await findTalosAmi(clients, config.talos.version, config.aws.region, archOf.get(type) ?? 'amd64'));
  return { controlplane: images.controlplane ?? '', worker: images.worker ?? images.controlplane ?? '', gateway: images.gateway ?? images.worker ?? images.controlplane ?? '' };
}

export async function findTalosAmi(clients: AwsClients, version: string, region: string, arch: Arch): Promise<string> {
  const name = `talos-${version}-${region}-${arch}`;
  const result = await clients.ec2.send(
    new DescribeImagesCommand({ Owners: [SIDERO_LABS_ACCOUNT], Filters: [{ Name: 'name', Values: [name] }, { Name: 'state', Values: ['available'] }] }),
  );
  const newest = (result.Images ?? []).sort((a, b) => (b.CreationDate ?? '').localeCompare(a.CreationDate ?? ''))[0];
  if (!newest?.ImageId) {
    throw new UsageError(
      `no official Talos image for Talos ${version} in ${region} for ${arch} (looked for "${name}" from Sidero Labs, account ${SIDERO_LABS_ACCOUNT}); ` +
        'check talos.version and the instance types, or set aws.talosAmi to an AMI you trust',
    );
  }
  return newest.ImageId;
}
