import { randomBytes, randomInt, X509Certificate } from 'node:crypto';
import { parse, stringify } from 'yaml';
import { createCa, describeKey, generatePrivateKey, type PemPair, parsePrivateKey, publicKeyMatches } from './pki.ts';

/**
 * A Talos secrets bundle, in the layout of `talosctl gen secrets` (Talos v1.13): bring your own
 * secrets.yaml, or take ours to talosctl. Everything a cluster's machine configs are made from.
 */
export interface SecretsBundle {
  cluster: { id: string; secret: string };
  secrets: { bootstraptoken: string; secretboxencryptionsecret: string };
  trustdinfo: { token: string };
  certs: {
    etcd: PemPair;
    k8s: PemPair;
    k8saggregator: PemPair;
    k8sserviceaccount: { key: string };
    os: PemPair;
  };
}

/** Talos CAs last ten years (secrets.CAValidityTime). */
const CA_VALIDITY_MS = 87_600 * 3_600_000;
const TOKEN_CHARS = '0123456789abcdefghijklmnopqrstuvwxyz';

/** `abcdef.0123456789abcdef`, the kubeadm/trustd token shape. */
function token(): string {
  const part = (n: number) => Array.from({ length: n }, () => TOKEN_CHARS[randomInt(TOKEN_CHARS.length)]).join('');
  return `${part(6)}.${part(16)}`;
}

export async function generateBundle(now = new Date()): Promise<SecretsBundle> {
  const validity = { notBefore: now, notAfter: new Date(now.getTime() + CA_VALIDITY_MS) };
  const [etcd, k8s, k8saggregator, os, serviceAccountKey] = await Promise.all([
    createCa('ecdsa-p256', { ...validity, organizations: ['etcd'] }),
    createCa('ecdsa-p256', { ...validity, organizations: ['kubernetes'] }),
    createCa('ecdsa-p256', { ...validity, commonName: 'front-proxy' }),
    createCa('ed25519', { ...validity, organizations: ['talos'] }),
    generatePrivateKey('rsa-4096'),
  ]);
  return {
    cluster: { id: randomBytes(32).toString('base64url') + '=', secret: randomBytes(32).toString('base64') },
    secrets: { bootstraptoken: token(), secretboxencryptionsecret: randomBytes(32).toString('base64') },
    trustdinfo: { token: token() },
    certs: { etcd, k8s, k8saggregator, k8sserviceaccount: { key: serviceAccountKey }, os },
  };
}

const b64 = (text: string) => Buffer.from(text).toString('base64');
const unb64 = (text: string) => Buffer.from(text, 'base64').toString('utf8');

/** Certificates and keys are base64-encoded PEM in the file, as talosctl writes them. */
export function bundleToYaml(bundle: SecretsBundle): string {
  const pair = (p: PemPair) => ({ crt: b64(p.crt), key: b64(p.key) });
  return stringify({
    cluster: bundle.cluster,
    secrets: bundle.secrets,
    trustdinfo: bundle.trustdinfo,
    certs: {
      etcd: pair(bundle.certs.etcd),
      k8s: pair(bundle.certs.k8s),
      k8saggregator: pair(bundle.certs.k8saggregator),
      k8sserviceaccount: { key: b64(bundle.certs.k8sserviceaccount.key) },
      os: pair(bundle.certs.os),
    },
  });
}

export class SecretsError extends Error {
  override name = 'SecretsError';
}

/** Reads a secrets.yaml (ours or talosctl's) and checks that every part is there and usable. */
export function parseBundle(text: string, source: string): SecretsBundle {
  const raw = parse(text) as Record<string, Record<string, unknown>> | null;
  const problems: string[] = [];
  const str = (path: string): string => {
    const value = path.split('.').reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), raw);
    if (typeof value !== 'string' || value === '') {
      problems.push(`${path} is missing`);
      return '';
    }
    return value;
  };
  const pair = (name: string, expected: string): PemPair => {
    const crt = unb64(str(`certs.${name}.crt`));
    const key = unb64(str(`certs.${name}.key`));
    if (!crt || !key) return { crt, key };
    try {
      new X509Certificate(crt);
      const type = describeKey(parsePrivateKey(key));
      if (type !== expected) problems.push(`certs.${name}.key is ${type}, expected ${expected}`);
      else if (!publicKeyMatches(crt, key)) problems.push(`certs.${name}: the key does not belong to the certificate`);
    } catch (error) {
      problems.push(`certs.${name} does not parse: ${(error as Error).message}`);
    }
    return { crt, key };
  };
  if (raw?.secrets?.aescbcencryptionsecret && !raw?.secrets?.secretboxencryptionsecret) {
    problems.push('secrets.aescbcencryptionsecret is for Talos before v1.3; this bundle needs secrets.secretboxencryptionsecret');
  }
  const bundle: SecretsBundle = {
    cluster: { id: str('cluster.id'), secret: str('cluster.secret') },
    secrets: { bootstraptoken: str('secrets.bootstraptoken'), secretboxencryptionsecret: str('secrets.secretboxencryptionsecret') },
    trustdinfo: { token: str('trustdinfo.token') },
    certs: {
      etcd: pair('etcd', 'ECDSA-P256'),
      k8s: pair('k8s', 'ECDSA-P256'),
      k8saggregator: pair('k8saggregator', 'ECDSA-P256'),
      k8sserviceaccount: { key: unb64(str('certs.k8sserviceaccount.key')) },
      os: pair('os', 'Ed25519'),
    },
  };
  if (bundle.certs.k8sserviceaccount.key) {
    try {
      parsePrivateKey(bundle.certs.k8sserviceaccount.key);
    } catch (error) {
      problems.push(`certs.k8sserviceaccount.key does not parse: ${(error as Error).message}`);
    }
  }
  if (problems.length > 0) throw new SecretsError(`${source} is not a usable Talos secrets bundle: ${problems.join('; ')}`);
  return bundle;
}
