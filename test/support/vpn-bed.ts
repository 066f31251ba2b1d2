import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeAmis } from './amis.ts';
import { awsEnv, runCli, writeConfig } from './cli.ts';
import { NO_MONITORING, exampleWith } from './config.ts';
import { LB_DNS, startTalosSites } from './hybrid-bed.ts';
import { type Testbed, startTestbed } from './kube.ts';
import { type Moto, startMoto } from './moto.ts';
import { Netns } from './netns.ts';
import { type Registry, goEnv, startRegistry, unpackImage } from './registry.ts';
import { buildServiceBinaries } from './service-bin.ts';
import type { TalosFleet } from './talos.ts';

/**
 * An on-prem LAN `192.168.N.0/24`: the router (the site's NAT to the internet), the admin's machine,
 * the control plane endpoint, three nodes. The admin's end is in the root namespace, so two beds
 * at once need different LANs.
 */
export function lanOf(n: number) {
  const at = (host: number) => `192.168.${n}.${host}`;
  return { cidr: `192.168.${n}.0/24`, router: at(1), admin: at(2), endpoint: at(10), cp: at(11), gateway: at(21), worker: at(22) };
}
export type Lan = ReturnType<typeof lanOf>;
export const LAN = lanOf(77);
/** The on-prem site's public address (onprem.publicEndpoint), and moto's Elastic IP range, which the "VPC" answers for. */
export const ONPREM_PUBLIC = '198.51.100.7';
const MOTO_EIPS = '54.214.0.0/16';
const AWS_WAN = '203.0.113.1';
const PROBE_LABEL = 'hybridctl.dev/vpn-probe=true';

/**
 * Both sites joined by a real tunnel. Network namespaces stand for the VPC (`aws`), the on-prem
 * site's router (`lan`: a bridge for the LAN, NAT to the internet) and three on-prem hosts
 * (`cp`, `gw`, `w2`); the root namespace is the admin's machine on the LAN. The fake Talos nodes
 * make the WireGuard links and routes hybridctl configures for real in their namespaces, with
 * wireguard-go; the Kubernetes test beds run the VPN probe pods for real in the namespace of
 * the node they land on; the real readings service answers on each site's NodePort.
 */
export interface VpnBed {
  net: Netns;
  lan: Lan;
  ns: { aws: string; lan: string; cp: string; gw: string; w2: string };
  moto: Moto;
  registry: Registry;
  kube: Record<'aws' | 'onprem', Testbed>;
  fleets: Record<'aws' | 'onprem', TalosFleet>;
  env: Record<string, string | undefined>;
  stateDir: string;
  /** The bed's config; `replacements` change the example further. */
  config(...replacements: [string | RegExp, string][]): string;
  stop(): Promise<void>;
}

export async function startVpnBed(at: { awsApi: string; awsNodesNet: string; lan?: Lan }): Promise<VpnBed> {
  const LAN = at.lan ?? lanOf(77);
  const net = new Netns();
  const stops: (() => Promise<unknown>)[] = [() => net.destroy()];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };
  try {
    const ns = await network(net, LAN);
    const bin = await buildServiceBinaries();
    const readings = (where: string, node: string, site: string, listen: string) =>
      net.spawn(where, `${bin}/readings`, [], { SITE: site, NODE_NAME: node, LISTEN_ADDR: `${listen}:30080`, DRAIN_DELAY: '0s' });
    // The NodePort on each site: the service answers there as kube-proxy would forward to it.
    readings(ns.aws, 'aws-worker-1', 'aws', '0.0.0.0');
    readings(ns.gw, 'onprem-worker-1', 'onprem', LAN.gateway);
    readings(ns.w2, 'onprem-worker-2', 'onprem', LAN.worker);

    const registry = await startRegistry();
    stops.push(() => registry.stop());
    const env = awsEnv(undefined, { REGISTRY_USER: registry.username, REGISTRY_PASSWORD: registry.password, ...(await goEnv()) });
    const stateDir = mkdtempSync(join(tmpdir(), 'hybridctl-vpn-state-'));
    const config = (...replacements: [string | RegExp, string][]) => writeConfig(bedConfig(registry, LAN, replacements));
    const push = await runCli(['image', 'push', '-c', config(), '--state-dir', stateDir, '-o', 'json'], env);
    if (push.code !== 0) throw new Error(`image push failed: ${push.stdout}${push.stderr}`);
    const digest: string = JSON.parse(push.stdout).digest;
    const rootfs = await unpackImage(registry, `${registry.host}/team/readings@${digest}`, mkdtempSync(join(tmpdir(), 'hybridctl-rootfs-')));

    const moto = await startMoto({ env: { MOTO_AMIS_PATH: writeAmis() } });
    stops.push(() => moto.stop());
    const exec = (netns: Record<string, string>) => ({ label: PROBE_LABEL, rootfs, netns });
    const [aws, onprem] = await Promise.all([
      startTestbed({
        cluster: 'demo-aws',
        listen: at.awsApi,
        nodes: ['aws-controlplane-1:controlplane', 'aws-worker-1:worker'],
        sans: [LB_DNS],
        exec: exec({ 'aws-controlplane-1': ns.aws, 'aws-worker-1': ns.aws }),
      }),
      startTestbed({
        cluster: 'demo-onprem',
        listen: LAN.endpoint,
        port: 6443,
        nodes: ['onprem-cp-1:controlplane', 'onprem-worker-1:worker', 'onprem-worker-2:worker'],
        exec: exec({ 'onprem-cp-1': ns.cp, 'onprem-worker-1': ns.gw, 'onprem-worker-2': ns.w2 }),
      }),
    ]);
    const kube = { aws, onprem };
    stops.push(() => Promise.all([kube.aws.stop(), kube.onprem.stop()]));

    const onpremNodes = [
      { ip: LAN.cp, role: 'controlplane' as const, netns: ns.cp },
      { ip: LAN.gateway, role: 'worker' as const, netns: ns.gw },
      { ip: LAN.worker, role: 'worker' as const, netns: ns.w2 },
    ];
    const { fleets, proxy } = await startTalosSites({ moto, kube, onpremNodes, at, awsNetns: ns.aws }, stops);
    // Talos calls to AWS nodes go through the proxy (a bastion); the on-prem nodes are on the admin's LAN.
    Object.assign(env, { AWS_ENDPOINT_URL: moto.endpoint, grpc_proxy: proxy.url, no_grpc_proxy: [LAN.cp, LAN.gateway, LAN.worker].join(',') });
    return { net, lan: LAN, ns, moto, registry, kube, fleets, env, stateDir, config, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The namespaces and links: the VPC, the on-prem router with its LAN and NAT, three on-prem hosts, the admin (root) on the LAN. */
async function network(net: Netns, LAN: Lan) {
  const ns = { aws: await net.add('aws'), lan: await net.add('lan'), cp: await net.add('cp'), gw: await net.add('gw'), w2: await net.add('w2') };
  const bridge = { ns: ns.lan, name: await net.bridge(ns.lan) };
  await net.run(ns.lan, 'ip', ['addr', 'add', `${LAN.router}/24`, 'dev', bridge.name]);
  for (const [host, address] of [[ns.cp, LAN.cp], [ns.gw, LAN.gateway], [ns.w2, LAN.worker]] as const) {
    await net.plug(bridge, { ns: host, name: 'eth0', address: `${address}/24` });
    await net.run(host, 'ip', ['route', 'add', 'default', 'via', LAN.router]);
  }
  const admin = `${net.prefix}-lan`;
  await net.plug(bridge, { name: admin, address: `${LAN.admin}/24` });
  await net.run(undefined, 'ip', ['addr', 'add', `${LAN.endpoint}/32`, 'dev', admin]);
  // The internet: the router's public address to the VPC, which answers for every Elastic IP moto hands out.
  const wan = await net.link({ ns: ns.lan, address: `${ONPREM_PUBLIC}/32`, peer: AWS_WAN }, { ns: ns.aws, address: `${AWS_WAN}/32`, peer: ONPREM_PUBLIC });
  await net.run(ns.lan, 'ip', ['route', 'add', MOTO_EIPS, 'via', AWS_WAN]);
  await net.run(ns.lan, 'iptables', ['-t', 'nat', '-A', 'POSTROUTING', '-o', wan.a, '-j', 'MASQUERADE']);
  await net.run(ns.aws, 'ip', ['route', 'add', 'local', MOTO_EIPS, 'dev', 'lo']);
  return ns;
}

function bedConfig(registry: Registry, LAN: Lan, replacements: [string | RegExp, string][]): string {
  return exampleWith(
    ['cidr: 192.168.10.0/24', `cidr: ${LAN.cidr}`],
    ['controlPlaneEndpoint: https://192.168.10.10:6443', `controlPlaneEndpoint: https://${LAN.endpoint}:6443`],
    [
      / {4}- \{ address: 192\.168\.10\.11.*\n {4}- \{ address: 192\.168\.10\.21.*\n/,
      [
        `    - { address: ${LAN.cp}, role: controlplane, installDisk: /dev/sda, hostname: onprem-cp-1 }`,
        `    - { address: ${LAN.gateway}, role: worker, installDisk: /dev/sda, hostname: onprem-worker-1 }`,
        `    - { address: ${LAN.worker}, role: worker, installDisk: /dev/sda, hostname: onprem-worker-2 }`,
        '',
      ].join('\n'),
    ],
    ['onpremGateway: 192.168.10.21', `onpremGateway: ${LAN.gateway}`],
    ['controlPlane: { count: 3,', 'controlPlane: { count: 1,'],
    ['workers: { count: 2,', 'workers: { count: 1,'],
    ['version: v1.13.9', 'version: v1.13.9\n  timeouts: { reachSeconds: 5, installSeconds: 60, healthSeconds: 60 }'],
    [
      'port: 51820',
      `port: 51820\nservice:\n  rolloutSeconds: 60\n  image:\n    registry: ${registry.url}\n    repository: team/readings\n    tag: v1\n    credentials: { usernameEnv: REGISTRY_USER, passwordEnv: REGISTRY_PASSWORD }\n`,
    ],
    // The VPN and failover tests are about the tunnel and the entry; monitoring has tests of its own.
    NO_MONITORING,
    ...replacements,
  );
}
