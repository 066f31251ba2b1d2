import type { ResourceKind } from '../../core/engine/model.ts';
import { awaitAwsSide } from '../../providers/aws/await-aws-side.ts';
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
      const address = await awaitAwsSide("the AWS gateway's Elastic IP", () => peer.read(), options, ctx);
      return { id: ctx.id, ref: address.publicIp, state: address };
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
