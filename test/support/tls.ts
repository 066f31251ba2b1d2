import { existsSync, mkdirSync } from 'node:fs';
import { execa } from 'execa';
import { ROOT } from './paths.ts';

export const TLS_DIR = `${ROOT}.cache/tls`;
export const CA_CERT = `${TLS_DIR}/ca.pem`;
export const SERVER_CERT = `${TLS_DIR}/server.pem`;
export const SERVER_KEY = `${TLS_DIR}/server.key`;

/**
 * A throwaway CA and a certificate for 127.0.0.1, so emulators speak TLS as AWS does and
 * clients verify them the standard way (NODE_EXTRA_CA_CERTS), with no verification switched off.
 */
export async function ensureTestCa(): Promise<void> {
  if (existsSync(SERVER_CERT) && existsSync(SERVER_KEY) && existsSync(CA_CERT)) return;
  mkdirSync(TLS_DIR, { recursive: true });
  const ssl = (args: string[]) => execa('openssl', args, { cwd: TLS_DIR });
  await ssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '3650', '-subj', '/CN=hybridctl test CA', '-keyout', 'ca.key', '-out', 'ca.pem']);
  await ssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr']);
  await execa('sh', ['-c', 'printf "subjectAltName=IP:127.0.0.1,DNS:localhost\\nbasicConstraints=CA:FALSE\\nextendedKeyUsage=serverAuth\\n" > server.ext'], { cwd: TLS_DIR });
  await ssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '3650', '-extfile', 'server.ext', '-out', 'server.pem']);
}
