import { parse, stringify } from 'yaml';
import { SITES, type SiteName } from '../core/config/schema.ts';
import { ActionError } from '../core/errors.ts';
import type { StateDir } from '../core/state.ts';
import { type WireguardKeyPair, generateKeyPair, isWireguardKey, publicKeyOf } from './keys.ts';

/** Each gateway's key pair lives with its site's secrets: `wireguard/<site>-gateway.yaml`, mode 0600. */
export function keyFileName(site: SiteName): string {
  return `wireguard/${site}-gateway.yaml`;
}

export type GatewayKeyPairs = Record<SiteName, WireguardKeyPair>;

export async function readGatewayKeys(state: StateDir, site: SiteName): Promise<WireguardKeyPair | undefined> {
  const text = await state.read(keyFileName(site));
  return text === undefined ? undefined : parseKeyFile(text, state.path(keyFileName(site)));
}

/** Both gateways' keys, when both exist. */
export async function readAllGatewayKeys(state: StateDir): Promise<GatewayKeyPairs | undefined> {
  const [aws, onprem] = await Promise.all(SITES.map((site) => readGatewayKeys(state, site)));
  return aws && onprem ? { aws, onprem } : undefined;
}

/**
 * Makes the key pairs that are missing, keeping those that exist: a gateway's config needs its
 * peer's public key, so each site makes sure both exist. Safe when both sites do it at once.
 */
export async function ensureGatewayKeys(state: StateDir): Promise<GatewayKeyPairs> {
  const pairs = await Promise.all(
    SITES.map(async (site) => {
      const file = await state.update(keyFileName(site), (old) => old ?? keyFileText(generateKeyPair()));
      return parseKeyFile((await state.read(keyFileName(site))) ?? '', file);
    }),
  );
  return { aws: pairs[0] as WireguardKeyPair, onprem: pairs[1] as WireguardKeyPair };
}

/** New key pairs for both gateways (`vpn rotate`); `up` then rolls them out. */
export async function replaceGatewayKeys(state: StateDir): Promise<GatewayKeyPairs> {
  const fresh: GatewayKeyPairs = { aws: generateKeyPair(), onprem: generateKeyPair() };
  await Promise.all(SITES.map((site) => state.write(keyFileName(site), keyFileText(fresh[site]))));
  return fresh;
}

export async function removeGatewayKeys(state: StateDir, site: SiteName): Promise<void> {
  await state.remove(keyFileName(site));
}

function keyFileText(pair: WireguardKeyPair): string {
  return `# hybridctl: this gateway's WireGuard key pair. Secret: never share the private key.\n${stringify({ privateKey: pair.privateKey, publicKey: pair.publicKey, created: new Date().toISOString() })}`;
}

function parseKeyFile(text: string, file: string): WireguardKeyPair {
  const raw = parse(text) as { privateKey?: unknown } | null;
  const privateKey = raw?.privateKey;
  if (typeof privateKey !== 'string' || !isWireguardKey(privateKey))
    throw new ActionError(`${file} holds no valid WireGuard private key`, 'restore it from a backup, or delete it and run `hybridctl vpn rotate` to give both gateways new keys');
  return { privateKey, publicKey: publicKeyOf(privateKey) };
}
