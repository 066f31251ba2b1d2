import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';

/** A WireGuard key pair in `wg genkey` / `wg pubkey` form: base64 of the raw 32-byte Curve25519 keys. */
export interface WireguardKeyPair {
  privateKey: string;
  publicKey: string;
}

/** A new key pair, the private key clamped as `wg genkey` writes it. */
export function generateKeyPair(): WireguardKeyPair {
  const key = randomBytes(32);
  key[0] = (key[0] ?? 0) & 248;
  key[31] = ((key[31] ?? 0) & 127) | 64;
  const privateKey = key.toString('base64');
  return { privateKey, publicKey: publicKeyOf(privateKey) };
}

/** The PKCS#8 header of an X25519 private key (RFC 8410); the raw key follows it. */
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

/** `wg pubkey`: the X25519 public key of a private key. */
export function publicKeyOf(privateKey: string): string {
  const raw = Buffer.from(privateKey, 'base64');
  if (raw.length !== 32) throw new Error('a WireGuard private key is 32 bytes, base64-encoded');
  const key = createPrivateKey({ key: Buffer.concat([X25519_PKCS8_PREFIX, raw]), format: 'der', type: 'pkcs8' });
  const jwk = createPublicKey(key).export({ format: 'jwk' });
  return Buffer.from(jwk.x ?? '', 'base64url').toString('base64');
}

export function isWireguardKey(text: string): boolean {
  return /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/.test(text);
}
