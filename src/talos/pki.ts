import 'reflect-metadata';
import { createHash, createPrivateKey, createPublicKey, type KeyObject, randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as never);

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
type Algorithm = webcrypto.Algorithm;

/** The key types Talos uses: Ed25519 for the Talos API, ECDSA P-256 for etcd and Kubernetes, RSA for service accounts. */
export type KeyType = 'ed25519' | 'ecdsa-p256' | 'rsa-4096';

export interface PemPair {
  crt: string;
  key: string;
}

const ALGORITHMS: Record<Exclude<KeyType, 'rsa-4096'>, webcrypto.EcKeyGenParams | Algorithm> = {
  ed25519: { name: 'Ed25519' },
  'ecdsa-p256': { name: 'ECDSA', namedCurve: 'P-256' } as webcrypto.EcKeyGenParams,
};

/** PEM block types as Talos (siderolabs/crypto) writes and reads them. */
export function privateKeyPem(key: KeyObject): string {
  switch (key.asymmetricKeyType) {
    case 'ed25519':
      return pem('ED25519 PRIVATE KEY', key.export({ format: 'der', type: 'pkcs8' }));
    case 'ec':
      return key.export({ format: 'pem', type: 'sec1' }).toString();
    case 'rsa':
      return key.export({ format: 'pem', type: 'pkcs1' }).toString();
    default:
      throw new Error(`unsupported key type ${key.asymmetricKeyType}`);
  }
}

/** Reads any of the PEM private keys Talos writes (ED25519/EC/RSA/PKCS#8). */
export function parsePrivateKey(text: string): KeyObject {
  const ed = /-----BEGIN ED25519 PRIVATE KEY-----([\s\S]*?)-----END ED25519 PRIVATE KEY-----/.exec(text);
  if (ed?.[1]) return createPrivateKey({ key: Buffer.from(ed[1].replace(/\s+/g, ''), 'base64'), format: 'der', type: 'pkcs8' });
  return createPrivateKey(text);
}

export function describeKey(key: KeyObject): string {
  if (key.asymmetricKeyType === 'ed25519') return 'Ed25519';
  if (key.asymmetricKeyType === 'ec') return `ECDSA-${key.asymmetricKeyDetails?.namedCurve === 'prime256v1' ? 'P256' : key.asymmetricKeyDetails?.namedCurve}`;
  if (key.asymmetricKeyType === 'rsa') return `RSA-${key.asymmetricKeyDetails?.modulusLength}`;
  return String(key.asymmetricKeyType);
}

function pem(type: string, der: Buffer): string {
  const body = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${type}-----\n${body}\n-----END ${type}-----\n`;
}

async function generateWebKeys(type: Exclude<KeyType, 'rsa-4096'>): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ALGORITHMS[type], true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function toKeyObject(key: CryptoKey): Promise<KeyObject> {
  return createPrivateKey({ key: Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key)), format: 'der', type: 'pkcs8' });
}

export async function generatePrivateKey(type: KeyType): Promise<string> {
  if (type === 'rsa-4096') {
    const { generateKeyPair } = await import('node:crypto');
    const key = await new Promise<KeyObject>((resolve, reject) =>
      generateKeyPair('rsa', { modulusLength: 4096 }, (error, _pub, priv) => (error ? reject(error) : resolve(priv))),
    );
    return privateKeyPem(key);
  }
  return privateKeyPem(await toKeyObject((await generateWebKeys(type)).privateKey));
}

export interface CertificateOptions {
  /** Subject organisations (Talos roles for client certificates). */
  organizations?: string[];
  commonName?: string;
  notBefore: Date;
  notAfter: Date;
  isCa?: boolean;
  /** Extended key usages: `serverAuth`, `clientAuth`. */
  extendedKeyUsages: ('serverAuth' | 'clientAuth')[];
  ipAddresses?: string[];
  dnsNames?: string[];
}

function subject(options: CertificateOptions): string {
  const parts = [...(options.organizations ?? []).map((o) => `O=${o}`), ...(options.commonName ? [`CN=${options.commonName}`] : [])];
  return parts.join(', ');
}

async function extensions(options: CertificateOptions, publicKey: CryptoKey): Promise<x509.Extension[]> {
  const usages = options.isCa ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.digitalSignature : x509.KeyUsageFlags.digitalSignature;
  const list: x509.Extension[] = [
    new x509.KeyUsagesExtension(usages, true),
    new x509.ExtendedKeyUsageExtension(options.extendedKeyUsages.map((u) => x509.ExtendedKeyUsage[u])),
    await x509.SubjectKeyIdentifierExtension.create(publicKey),
  ];
  if (options.isCa) list.unshift(new x509.BasicConstraintsExtension(true, undefined, true));
  const names = [...(options.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })), ...(options.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value }))];
  if (names.length > 0) list.push(new x509.SubjectAlternativeNameExtension(names));
  return list;
}

function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f; // positive
  return bytes.toString('hex');
}

function signingAlgorithm(type: Exclude<KeyType, 'rsa-4096'>): Algorithm {
  return type === 'ed25519' ? { name: 'Ed25519' } : ({ name: 'ECDSA', hash: 'SHA-256' } as webcrypto.EcdsaParams);
}

/** A self-signed CA like Talos's: server and client auth, cert signing, random serial and key id. */
export async function createCa(type: Exclude<KeyType, 'rsa-4096'>, options: Omit<CertificateOptions, 'isCa' | 'extendedKeyUsages'>): Promise<PemPair> {
  const keys = await generateWebKeys(type);
  const full: CertificateOptions = { ...options, isCa: true, extendedKeyUsages: ['serverAuth', 'clientAuth'] };
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: subject(full),
    notBefore: options.notBefore,
    notAfter: options.notAfter,
    signingAlgorithm: signingAlgorithm(type),
    keys,
    extensions: await extensions(full, keys.publicKey),
  });
  return { crt: cert.toString('pem'), key: privateKeyPem(await toKeyObject(keys.privateKey)) };
}

/** A leaf certificate signed by a CA (its key type follows the CA's). */
export async function issueCertificate(ca: PemPair, options: CertificateOptions): Promise<PemPair> {
  const caKey = parsePrivateKey(ca.key);
  const type: Exclude<KeyType, 'rsa-4096'> = caKey.asymmetricKeyType === 'ed25519' ? 'ed25519' : 'ecdsa-p256';
  const keys = await generateWebKeys(type);
  const caCert = new x509.X509Certificate(ca.crt);
  const signingKey = await webcrypto.subtle.importKey('pkcs8', caKey.export({ format: 'der', type: 'pkcs8' }), ALGORITHMS[type], false, ['sign']);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: subject(options),
    issuer: caCert.subject,
    notBefore: options.notBefore,
    notAfter: options.notAfter,
    signingAlgorithm: signingAlgorithm(type),
    publicKey: keys.publicKey,
    signingKey,
    extensions: [...(await extensions(options, keys.publicKey)), await x509.AuthorityKeyIdentifierExtension.create(caCert)],
  });
  return { crt: cert.toString('pem'), key: privateKeyPem(await toKeyObject(keys.privateKey)) };
}

/** Talos's certificate fingerprint: base64 of the SHA-256 of the SubjectPublicKeyInfo. */
export function spkiFingerprint(certDer: Buffer): string {
  const spki = new X509Certificate(certDer).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

export function publicKeyMatches(certPem: string, keyPem: string): boolean {
  const fromCert = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  const fromKey = createPublicKey(parsePrivateKey(keyPem)).export({ type: 'spki', format: 'der' });
  return fromCert.equals(fromKey);
}
