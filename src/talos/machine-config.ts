import { Document, stringify } from 'yaml';
import type { SecretsBundle } from './secrets.ts';

export type Role = 'controlplane' | 'worker';
/** `metal`: installed to a disk from Talos media; `cloud`: an image that needs no install (AWS). */
export type Platform = 'metal' | 'cloud';

export interface MachineConfigInput {
  bundle: SecretsBundle;
  clusterName: string;
  /** The Kubernetes API endpoint, `https://host:6443`. */
  endpoint: string;
  role: Role;
  platform: Platform;
  talosVersion: string;
  kubernetesVersion: string;
  podSubnet: string;
  serviceSubnet: string;
  /** Extra names and addresses for the Talos and Kubernetes API certificates. */
  certSANs: string[];
  installDisk?: string;
  hostname?: string;
}

export type ConfigDocument = Record<string, unknown>;

const b64 = (text: string) => Buffer.from(text).toString('base64');

/**
 * A node's machine config as Talos v1.13's generator shapes it: the v1alpha1 document and a
 * HostnameConfig document. Workers get certificates without keys and no control-plane secrets.
 */
export function machineConfig(input: MachineConfigInput): ConfigDocument[] {
  const { bundle, role } = input;
  const controlPlane = role === 'controlplane';
  const keyIfControlPlane = (key: string) => (controlPlane ? b64(key) : '');
  const image = (name: string) => `registry.k8s.io/${name}:v${input.kubernetesVersion}`;

  const machine: ConfigDocument = {
    type: role,
    token: bundle.trustdinfo.token,
    ca: { crt: b64(bundle.certs.os.crt), key: keyIfControlPlane(bundle.certs.os.key) },
    certSANs: input.certSANs,
    kubelet: {
      image: `ghcr.io/siderolabs/kubelet:v${input.kubernetesVersion}`,
      defaultRuntimeSeccompProfileEnabled: true,
      disableManifestsDirectory: true,
    },
    ...(input.platform === 'metal'
      ? { install: { disk: input.installDisk, image: `ghcr.io/siderolabs/installer:${input.talosVersion}`, wipe: false, grubUseUKICmdline: true } }
      : {}),
    features: {
      diskQuotaSupport: true,
      kubePrism: { enabled: true, port: 7445 },
      hostDNS: { enabled: true, forwardKubeDNSToHost: true },
    },
    ...(controlPlane ? { nodeLabels: { 'node.kubernetes.io/exclude-from-external-load-balancers': '' } } : {}),
  };

  const cluster: ConfigDocument = {
    id: bundle.cluster.id,
    secret: bundle.cluster.secret,
    controlPlane: { endpoint: input.endpoint },
    clusterName: input.clusterName,
    network: { dnsDomain: 'cluster.local', podSubnets: [input.podSubnet], serviceSubnets: [input.serviceSubnet] },
    token: bundle.secrets.bootstraptoken,
    ...(controlPlane ? { secretboxEncryptionSecret: bundle.secrets.secretboxencryptionsecret } : {}),
    ca: { crt: b64(bundle.certs.k8s.crt), key: keyIfControlPlane(bundle.certs.k8s.key) },
    ...(controlPlane
      ? {
          aggregatorCA: { crt: b64(bundle.certs.k8saggregator.crt), key: b64(bundle.certs.k8saggregator.key) },
          serviceAccount: { key: b64(bundle.certs.k8sserviceaccount.key) },
          apiServer: { image: image('kube-apiserver'), certSANs: input.certSANs, admissionControl: [podSecurityDefaults()] },
          controllerManager: { image: image('kube-controller-manager') },
          proxy: { image: image('kube-proxy') },
          scheduler: { image: image('kube-scheduler') },
        }
      : {}),
    discovery: { enabled: true, registries: { kubernetes: { disabled: true }, service: {} } },
    ...(controlPlane ? { etcd: { ca: { crt: b64(bundle.certs.etcd.crt), key: b64(bundle.certs.etcd.key) } } } : {}),
  };

  const hostname: ConfigDocument = input.hostname
    ? { apiVersion: 'v1alpha1', kind: 'HostnameConfig', hostname: input.hostname }
    : { apiVersion: 'v1alpha1', kind: 'HostnameConfig', auto: 'stable' };

  return [{ version: 'v1alpha1', debug: false, persist: true, machine, cluster }, hostname];
}

function podSecurityDefaults(): ConfigDocument {
  return {
    name: 'PodSecurity',
    configuration: {
      apiVersion: 'pod-security.admission.config.k8s.io/v1alpha1',
      kind: 'PodSecurityConfiguration',
      defaults: { audit: 'restricted', 'audit-version': 'latest', enforce: 'baseline', 'enforce-version': 'latest', warn: 'restricted', 'warn-version': 'latest' },
      exemptions: { namespaces: ['kube-system'], runtimeClasses: [], usernames: [] },
    },
  };
}

/**
 * Multi-document YAML, compact (no line folding), as ApplyConfiguration and EC2 user-data take it.
 * No anchors or aliases, as Talos's own encoder writes it: a list used twice (the certSANs of the
 * machine and of the API server) must be written out twice, or editing one on a node would
 * silently change the other.
 */
export function encodeConfig(documents: ConfigDocument[]): string {
  return documents.map((d) => stringify(new Document(d, { aliasDuplicateObjects: false }), { lineWidth: 0 })).join('---\n');
}
