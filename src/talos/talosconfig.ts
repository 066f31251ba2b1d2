import { X509Certificate } from 'node:crypto';
import { parse } from 'yaml';
import { toYaml } from '../core/yaml.ts';
import { type PemPair, issueCertificate } from './pki.ts';
import type { SecretsBundle } from './secrets.ts';

/** A talosctl context: where to reach the API, which nodes it addresses, and the admin identity. */
export interface TalosContext {
  name: string;
  endpoints: string[];
  nodes: string[];
  ca: string;
  crt: string;
  key: string;
}

interface TalosconfigFile {
  context?: string;
  contexts?: Record<string, { endpoints?: string[]; nodes?: string[]; ca?: string; crt?: string; key?: string }>;
}

const YEAR_MS = 365 * 24 * 3_600_000;
const b64 = (text: string) => Buffer.from(text).toString('base64');
const unb64 = (text: string | undefined) => Buffer.from(text ?? '', 'base64').toString('utf8');

/** The admin client certificate talosctl makes: Ed25519, organisation os:admin, client auth only, one year. */
export function adminCertificate(bundle: SecretsBundle, now = new Date()): Promise<PemPair> {
  return clientCertificate(bundle, 'os:admin', now);
}

/** A client certificate for the Talos API with one role (os:admin, os:reader, …), one year. */
export function clientCertificate(bundle: SecretsBundle, role: string, now = new Date()): Promise<PemPair> {
  return issueCertificate(bundle.certs.os, {
    organizations: [role],
    notBefore: now,
    notAfter: new Date(now.getTime() + YEAR_MS),
    extendedKeyUsages: ['clientAuth'],
  });
}

export function talosconfigYaml(contexts: readonly TalosContext[], current: string): string {
  return mergeTalosconfig(undefined, contexts, current);
}

/** Adds or replaces our contexts in an existing talosconfig, leaving others alone. */
export function mergeTalosconfig(existing: string | undefined, contexts: readonly TalosContext[], current?: string): string {
  const file: TalosconfigFile = (existing ? (parse(existing) as TalosconfigFile | null) : null) ?? {};
  file.contexts ??= {};
  for (const c of contexts) file.contexts[c.name] = { endpoints: c.endpoints, nodes: c.nodes, ca: b64(c.ca), crt: b64(c.crt), key: b64(c.key) };
  if (current) file.context = current;
  return toYaml(file);
}

/** Drops contexts from a talosconfig (after `down`). */
export function removeContexts(existing: string, names: readonly string[]): string {
  const file = (parse(existing) as TalosconfigFile | null) ?? {};
  for (const name of names) delete file.contexts?.[name];
  if (file.context && names.includes(file.context)) file.context = Object.keys(file.contexts ?? {})[0];
  return toYaml(file);
}

export function readContext(existing: string | undefined, name: string): TalosContext | undefined {
  if (!existing) return undefined;
  const entry = ((parse(existing) as TalosconfigFile | null) ?? {}).contexts?.[name];
  if (!entry?.crt || !entry.key || !entry.ca) return undefined;
  return { name, endpoints: entry.endpoints ?? [], nodes: entry.nodes ?? [], ca: unb64(entry.ca), crt: unb64(entry.crt), key: unb64(entry.key) };
}

/** Whether a context's certificate is from this CA and good for at least `marginMs` more. */
export function contextUsable(context: TalosContext, bundle: SecretsBundle, marginMs = 30 * 24 * 3_600_000): boolean {
  try {
    const crt = new X509Certificate(context.crt);
    const ca = new X509Certificate(bundle.certs.os.crt);
    return crt.checkIssued(ca) && crt.verify(ca.publicKey) && new Date(crt.validTo).getTime() - Date.now() > marginMs && context.ca.trim() === bundle.certs.os.crt.trim();
  } catch {
    return false;
  }
}
