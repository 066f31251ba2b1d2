import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { writeAmis } from './amis.ts';
import { awsEnv, runCli, writeConfig } from './cli.ts';
import { NO_MONITORING, exampleWith } from './config.ts';
import { clients } from './inventory.ts';
import { type Testbed, startTestbed } from './kube.ts';
import { HARNESS_KEY, type Moto, freePort, startMoto } from './moto.ts';
import { type NodeProxy, startNodeProxy } from './node-proxy.ts';
import { type Registry, goEnv, startRegistry } from './registry.ts';
import { type FakeNode, type TalosFleet, startTalosServer } from './talos.ts';

export const LB_DNS = 'demo-api-1.eu-central-1.elb.amazonaws.com';

/** Loopback addresses one bed uses; two beds at once need different ones. */
export interface HybridBedAddresses {
  /** `127.0.N`: the on-prem control plane is `.11`, its worker `.21` (both listed in the config). */
  onpremNet: string;
  /** Where the AWS site's API server listens. */
  awsApi: string;
  /** `127.0.N`: the node proxy boots the AWS site's fake Talos nodes here. */
  awsNodesNet: string;
}

/**
 * Both sites with everything behind them: moto with Talos images, a fake Talos fleet per site,
 * a real control plane per site (the AWS one reached as its kubeconfig says, by the load
 * balancer's name, through the CONNECT proxy), and a registry holding the pushed service image.
 */
export interface HybridBed {
  moto: Moto;
  registry: Registry;
  kube: Record<'aws' | 'onprem', Testbed>;
  /** The CONNECT proxy in front of the AWS site: its `connects` are every tunnel hybridctl opened. */
  proxy: NodeProxy;
  env: Record<string, string | undefined>;
  /** The on-prem control plane's address. */
  onpremCp: string;
  /** The image pushed by `image push`, by digest. */
  digest: string;
  /** The example config for this bed; `service` is appended to the `service:` block. */
  config(service?: string): string;
  stop(): Promise<void>;
}

/** The admin kubeconfig Talos would hand out on AWS: the load balancer's name, reached here through the proxy. */
export function awsKubeconfig(testbed: Testbed, proxyPort: number): string {
  const file = parse(testbed.kubeconfig);
  for (const c of file.clusters) Object.assign(c.cluster, { server: `https://${LB_DNS}:6443`, 'proxy-url': `http://127.0.0.1:${proxyPort}` });
  const path = join(mkdtempSync(join(tmpdir(), 'hybridctl-kc-')), 'kubeconfig');
  writeFileSync(path, stringify(file), { mode: 0o600 });
  return path;
}

function bedConfig(registry: Registry, cp: string, worker: string, service: string, monitoring: boolean): string {
  return writeConfig(
    exampleWith(
      ['cidr: 192.168.10.0/24', `cidr: ${cp.split('.').slice(0, 3).join('.')}.0/24`],
      ['controlPlaneEndpoint: https://192.168.10.10:6443', `controlPlaneEndpoint: https://${cp}:6443`],
      [
        / {4}- \{ address: 192\.168\.10\.11.*\n {4}- \{ address: 192\.168\.10\.21.*\n/,
        `    - { address: ${cp}, role: controlplane, installDisk: /dev/sda, hostname: onprem-cp-1 }\n    - { address: ${worker}, role: worker, installDisk: /dev/sda, hostname: onprem-worker-1 }\n`,
      ],
      ['controlPlane: { count: 3,', 'controlPlane: { count: 1,'],
      // Loopback addresses cannot carry a tunnel: the VPN has a bed of its own (vpn-bed.ts).
      ['enabled: true ', 'enabled: false '],
      ...(monitoring ? [] : [NO_MONITORING]),
      ['workers: { count: 2,', 'workers: { count: 1,'],
      ['version: v1.13.9', 'version: v1.13.9\n  timeouts: { reachSeconds: 2, installSeconds: 60, healthSeconds: 60 }'],
      [
        'port: 51820',
        `port: 51820\nservice:\n${service.includes('rolloutSeconds') ? '' : '  rolloutSeconds: 60\n'}  image:\n    registry: ${registry.url}\n    repository: team/readings\n    tag: v1\n    credentials: { usernameEnv: REGISTRY_USER, passwordEnv: REGISTRY_PASSWORD }\n${service}`,
      ],
    ),
  );
}

/**
 * The Talos side of both sites: a fleet per site, each handing out its site's kubeconfig; the
 * on-prem nodes are listed, the AWS ones boot from their user-data when the CONNECT proxy (the
 * bastion) first reaches their instance. `awsNetns`: where the AWS nodes make their network.
 */
export async function startTalosSites(
  options: { moto: Moto; kube: Record<'aws' | 'onprem', Testbed>; onpremNodes: FakeNode[]; at: Pick<HybridBedAddresses, 'awsApi' | 'awsNodesNet'>; awsNetns?: string },
  stops: (() => Promise<unknown>)[],
): Promise<{ fleets: Record<'aws' | 'onprem', TalosFleet>; proxy: NodeProxy }> {
  const { moto, kube, at } = options;
  const proxyPort = await freePort();
  const aws = await startTalosServer([], { kubeconfig: awsKubeconfig(kube.aws, proxyPort) });
  stops.push(() => aws.stop());
  const onprem = await startTalosServer(options.onpremNodes, { kubeconfig: kube.onprem.kubeconfigFile });
  stops.push(() => onprem.stop());
  const proxy = await startNodeProxy({
    aws: clients(moto.endpoint, 'eu-central-1', HARNESS_KEY),
    fleetStatusUrl: aws.statusUrl,
    subnet: at.awsNodesNet,
    port: proxyPort,
    routes: { [`${LB_DNS}:6443`]: `${at.awsApi}:${kube.aws.port}` },
    ...(options.awsNetns ? { netns: options.awsNetns } : {}),
  });
  stops.push(() => proxy.stop());
  return { fleets: { aws, onprem }, proxy };
}

/** `monitoring`: deploy it too (the service's own tests leave it out). */
export async function startHybridBed(at: HybridBedAddresses, options: { monitoring?: boolean } = {}): Promise<HybridBed> {
  const cp = `${at.onpremNet}.11`;
  const worker = `${at.onpremNet}.21`;
  const stops: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };
  try {
    const registry = await startRegistry();
    stops.push(() => registry.stop());
    const moto = await startMoto({ env: { MOTO_AMIS_PATH: writeAmis() } });
    stops.push(() => moto.stop());
    const [aws, onprem] = await Promise.all([
      startTestbed({ cluster: 'demo-aws', listen: at.awsApi, nodes: ['aws-controlplane-1:controlplane', 'aws-worker-1:worker'], sans: [LB_DNS] }),
      startTestbed({ cluster: 'demo-onprem', listen: cp, port: 6443, nodes: ['onprem-cp-1:controlplane', 'onprem-worker-1:worker'] }),
    ]);
    // Stopped through kube, so a test that stops one early does not stop it twice.
    const kube = { aws, onprem };
    stops.push(() => Promise.all([kube.aws.stop(), kube.onprem.stop()]));
    const onpremNodes: FakeNode[] = [
      { ip: cp, role: 'controlplane' },
      { ip: worker, role: 'worker' },
    ];
    const { proxy } = await startTalosSites({ moto, kube, onpremNodes, at }, stops);
    const env = awsEnv(moto.endpoint, {
      grpc_proxy: proxy.url,
      // The on-prem nodes are reached directly, as from the site's own network.
      no_grpc_proxy: `${cp},${worker}`,
      REGISTRY_USER: registry.username,
      REGISTRY_PASSWORD: registry.password,
      ...(await goEnv()),
    });
    const config = (service = '') => bedConfig(registry, cp, worker, service, options.monitoring ?? false);
    const push = await runCli(['image', 'push', '-c', config(), '-o', 'json'], env);
    if (push.code !== 0) throw new Error(`image push failed: ${push.stdout}${push.stderr}`);
    return { moto, registry, kube, proxy, env, onpremCp: cp, digest: JSON.parse(push.stdout).digest, config, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
