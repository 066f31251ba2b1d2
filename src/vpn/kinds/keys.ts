import type { SiteName } from '../../core/config/schema.ts';
import type { ResourceKind } from '../../core/engine/model.ts';
import type { StateDir } from '../../core/state.ts';
import { type GatewayKeyPairs, ensureGatewayKeys, keyFileName, readAllGatewayKeys, removeGatewayKeys } from '../key-store.ts';

export const VPN_KEYS_ID = 'vpn-keys';

/** What the keys kind needs from the site it is planned for. */
export interface KeysSite {
  site: SiteName;
  state: StateDir;
}

export interface VpnKeysState {
  keys: GatewayKeyPairs;
}

/**
 * The gateways' WireGuard key pairs in the state directory, made once and kept: found when both
 * exist (each gateway's config names its peer's public key). `down` removes the site's own pair.
 */
export const vpnKeysKind: ResourceKind<Record<string, never>, VpnKeysState, KeysSite> = {
  kind: 'wireguard-keys',

  async observe({ provider }) {
    const keys = await readAllGatewayKeys(provider.state);
    return keys ? [{ id: VPN_KEYS_ID, ref: provider.state.path(keyFileName(provider.site)), state: { keys } }] : [];
  },

  diff() {
    return { changes: [] };
  },

  describe() {
    return { generate: 'an X25519 key pair per gateway that has none (public keys only are ever shown)' };
  },

  async create(_spec, ctx) {
    const keys = await ensureGatewayKeys(ctx.provider.state);
    return { id: ctx.id, ref: ctx.provider.state.path(keyFileName(ctx.provider.site)), state: { keys } };
  },

  async update(found) {
    return found;
  },

  async destroy(_found, ctx) {
    await removeGatewayKeys(ctx.provider.state, ctx.provider.site);
  },

  outputs(found) {
    return { awsPublicKey: found.state.keys.aws.publicKey, onpremPublicKey: found.state.keys.onprem.publicKey };
  },
};
