import { setTimeout as sleep } from 'node:timers/promises';
import type { ResourceKind } from '../../core/engine/model.ts';
import { ActionError } from '../../core/errors.ts';
import type { AwsGatewayAddress, AwsPeer } from '../aws-peer.ts';

export const AWS_GATEWAY_ID = 'vpn-aws-gateway';

/**
 * A condition of the on-prem site: the AWS gateway has its Elastic IP, which the on-prem gateway
 * dials. When both sites are built in one run, waits for the AWS side to make it.
 */
export function awsGatewayKind(peer: AwsPeer, options: { awsInRun: boolean; timeoutMs: number }): ResourceKind<Record<string, never>, AwsGatewayAddress, unknown> {
  return {
    kind: 'vpn-peer',
    condition: true,

    async observe() {
      const address = await peer.read();
      return address ? [{ id: AWS_GATEWAY_ID, ref: address.publicIp, state: address }] : [];
    },

    diff() {
      return { changes: [] };
    },

    describe() {
      return { waitsFor: options.awsInRun ? 'the AWS gateway\'s Elastic IP (built in this run)' : 'the AWS gateway\'s Elastic IP' };
    },

    async create(_spec, ctx) {
      const deadline = Date.now() + options.timeoutMs;
      for (;;) {
        const address = await peer.read();
        if (address) return { id: ctx.id, ref: address.publicIp, state: address };
        if (address === undefined) {
          throw new ActionError(
            'the on-prem gateway dials the AWS gateway\'s Elastic IP, and hybridctl cannot ask AWS for it (no AWS credentials)',
            'set AWS credentials (AWS_PROFILE or --profile) and re-run',
          );
        }
        if (!options.awsInRun) throw new ActionError('the AWS end of the VPN does not exist yet', 'run `hybridctl up` for both sites, or `hybridctl up --site aws` first');
        if (Date.now() > deadline) throw new ActionError(`the AWS gateway had no Elastic IP after ${Math.round(options.timeoutMs / 1000)}s`, 'see what failed on the AWS site, fix it, and re-run');
        ctx.report('waiting for the AWS gateway\'s Elastic IP');
        await sleep(3_000, undefined, { signal: ctx.signal });
      }
    },

    async update(found) {
      return found;
    },

    async destroy() {},

    outputs(found) {
      return { publicIp: found.state.publicIp };
    },
  };
}
