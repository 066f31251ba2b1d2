/** Talos releases this hybridctl knows, and the Kubernetes version each one's generator defaults to. */
export const KUBERNETES_FOR_TALOS: Readonly<Record<string, string>> = {
  'v1.13': '1.36.3',
};

export function talosMinor(talosVersion: string): string {
  return /^v\d+\.\d+/.exec(talosVersion)?.[0] ?? talosVersion;
}

export function defaultKubernetesVersion(talosVersion: string): string {
  const version = KUBERNETES_FOR_TALOS[talosMinor(talosVersion)];
  if (!version) throw new Error(`talos.version ${talosVersion} is not supported`);
  return version;
}
