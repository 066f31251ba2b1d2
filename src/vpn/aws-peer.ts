import { DescribeAddressesCommand } from '@aws-sdk/client-ec2';
import type { StateDir } from '../core/state.ts';
import { clusterFilter } from '../providers/aws/ec2-util.ts';
import { TAG_COMPONENT } from '../providers/aws/naming.ts';
import type { AwsProvider } from '../providers/aws/provider.ts';

/** Where the on-prem gateway finds the AWS gateway: its Elastic IP. */
export interface AwsGatewayAddress {
  publicIp: string;
}

/** Reads the AWS gateway's address for the on-prem side, which may run without AWS in the same command. */
export interface AwsPeer {
  /** The address; null when AWS has none yet; undefined when AWS cannot be asked and none is remembered. */
  read(): Promise<AwsGatewayAddress | null | undefined>;
  /** AWS can be asked in this run. */
  readonly online: boolean;
}

/** The last address seen, so that a run without AWS credentials renders the same on-prem config. */
const CACHE_FILE = 'wireguard/aws-gateway-address';

/** One DescribeAddresses call per read, filtered to the cluster's VPN Elastic IP. */
export function awsPeer(provider: AwsProvider | undefined, state: StateDir, eipId: string): AwsPeer {
  return {
    online: provider !== undefined,
    async read() {
      if (!provider) {
        const cached = (await state.read(CACHE_FILE))?.trim();
        return cached ? { publicIp: cached } : undefined;
      }
      const result = await provider.clients.ec2.send(
        new DescribeAddressesCommand({ Filters: [...clusterFilter(provider), { Name: `tag:${TAG_COMPONENT}`, Values: [eipId] }] }),
      );
      const publicIp = result.Addresses?.[0]?.PublicIp;
      if (!publicIp) return null;
      // Only where `up` has made the VPN's keys: `plan` on a new config leaves no state behind.
      if ((await state.exists('wireguard')) && (await state.read(CACHE_FILE))?.trim() !== publicIp) await state.write(CACHE_FILE, `${publicIp}\n`);
      return { publicIp };
    },
  };
}
