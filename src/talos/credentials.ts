import type { TalosCredentials } from './client/client.ts';
import type { SecretsBundle } from './secrets.ts';
import { adminCertificate } from './talosconfig.ts';

const cache = new WeakMap<SecretsBundle, Promise<TalosCredentials>>();

/** Mutual-TLS credentials for a cluster: an os:admin certificate from its own CA, made once per run. */
export function adminCredentials(bundle: SecretsBundle): Promise<TalosCredentials> {
  let pending = cache.get(bundle);
  if (!pending) {
    pending = adminCertificate(bundle).then((pair) => ({ mode: 'configured' as const, ca: bundle.certs.os.crt, crt: pair.crt, key: pair.key }));
    cache.set(bundle, pending);
  }
  return pending;
}
