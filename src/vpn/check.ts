import type { HybridConfig, SiteName } from '../core/config/schema.ts';
import { Observation } from '../core/engine/plan.ts';
import { messageOf } from '../core/errors.ts';
import type { KubeObject } from '../kube/client.ts';
import type { KubeSite } from '../kube/object-kind.ts';
import type { AwsSite } from '../providers/aws/talos-site.ts';
import type { OnpremSite } from '../providers/metal/site.ts';
import { SERVICE_NAMESPACE } from '../service/manifests.ts';
import { adminCredentials } from '../talos/credentials.ts';
import { readSiteBundle } from '../talos/kinds/secrets.ts';
import { type TalosSite, connect, withClient } from '../talos/site.ts';
import { GATEWAY_TALOS_ID } from './aws-stack.ts';
import { type Counters, type DirectionCheck, type GatewayCheck, type LinkState, diagnose } from './diagnose.ts';
import { readAllGatewayKeys } from './key-store.ts';
import type { VpnLayer } from './layer.ts';
import { LINK_NAME } from './plan.ts';
import { type ProbeResult, runProbe } from './probe-job.ts';

export interface VpnCheckInput {
  config: HybridConfig;
  vpn: VpnLayer;
  /** The AWS site, when AWS can be asked. */
  aws?: AwsSite;
  onprem: OnpremSite;
  /** How long each probe keeps trying. */
  deadlineSeconds: number;
  report(message: string): void;
  signal?: AbortSignal;
}

export type Verdict = 'crossed' | 'failed' | 'unproven';

export interface VpnCheckReport {
  gateways: GatewayCheck[];
  directions: DirectionCheck[];
  /** crossed: a probe's packets crossed each way; unproven: no probe could run (the service is not deployed, say). */
  verdict: Verdict;
  causes: string[];
}

/** Talos reports no WireGuard handshake times; what stands in for them. */
export const HANDSHAKE_NOTE = 'not reported by Talos (its LinkStatus has no handshake time): the peer endpoint the AWS side learned and the probes stand in for it';

interface LinkStatusSpec {
  operationalState?: string;
  kind?: string;
  wireguard?: { publicKey?: string; listenPort?: number; peers?: { publicKey?: string; endpoint?: string; allowedIPs?: string[] }[] };
}

/**
 * Proves the VPN: each gateway's tunnel link as Talos reports it, and a probe from each site to
 * the other's NodePort over the tunnel (a short-lived Job from the service image); then names the
 * likely cause when traffic does not cross. Reads only, apart from the probe Jobs it removes.
 */
export async function checkVpn(input: VpnCheckInput): Promise<VpnCheckReport> {
  const { config, vpn, aws, onprem } = input;
  const view = aws ? await aws.view(new Observation(aws)) : undefined;
  const awsGateway = view?.nodes.find((n) => n.id === GATEWAY_TALOS_ID);
  input.report('reading the gateways\' tunnel links through Talos');
  const gateways = await Promise.all([
    awsGateway && aws ? readGateway(aws, awsGateway, view?.via) : Promise.resolve<GatewayCheck>({ site: 'aws', address: '(none)', error: aws ? 'no running VPN gateway instance' : 'AWS cannot be asked (no credentials)' }),
    readGateway(onprem, { address: vpn.plan.onpremGateway }),
  ]);

  const nodePort = config.service.nodePort;
  const url = (address: string) => `http://${address}:${nodePort}/readyz`;
  const onpremWorkers = config.onprem.nodes.filter((n) => n.role === 'worker');
  const awsWorkers = (view?.nodes ?? []).filter((n) => n.role === 'worker' && n.id !== GATEWAY_TALOS_ID);
  input.report('probing each site from the other over the tunnel');
  const directions = await Promise.all([
    aws
      ? probeDirection(aws, 'onprem', (onpremWorkers.length > 0 ? onpremWorkers : config.onprem.nodes).map((n) => url(n.address)), input)
      : Promise.resolve<DirectionCheck>({ from: 'aws', to: 'onprem', targets: [], crossed: false, skipped: 'AWS cannot be asked' }),
    probeDirection(onprem, 'aws', awsWorkers.map((n) => url(n.address)), input),
  ]);
  await Promise.all(gateways.map((g) => readCountersAfter(g, g.site === 'aws' ? aws : onprem, g.site === 'aws' ? view?.via : undefined)));

  const keys = await readAllGatewayKeys(onprem.state);
  const eip = await vpn.peer.read().catch(() => undefined);
  const causes = diagnose(gateways, directions, {
    ...(keys ? { awsPublicKey: keys.aws.publicKey, onpremPublicKey: keys.onprem.publicKey } : {}),
    ...(eip ? { awsEndpoint: `${eip.publicIp}:${vpn.plan.port}` } : {}),
    onpremPublicAddress: vpn.plan.onpremPublicAddress,
    port: vpn.plan.port,
  });
  const ran = directions.filter((d) => !d.skipped);
  const verdict: Verdict = ran.some((d) => !d.crossed) || (ran.length === 0 && causes.length > 0) ? 'failed' : ran.length === 0 ? 'unproven' : 'crossed';
  return { gateways, directions, verdict, causes };
}

async function gatewayClient(site: TalosSite, node: { address: string }, via: string | undefined) {
  const bundle = (await readSiteBundle(site))?.bundle;
  if (!bundle) throw new Error(`no ${site.site} secrets bundle in ${site.state.root}`);
  return connect(node, await adminCredentials(bundle), site.timeouts, { via });
}

async function readGateway(site: TalosSite, node: { address: string }, via?: string): Promise<GatewayCheck> {
  try {
    return await withClient(await gatewayClient(site, node, via), async (client) => {
      const [links, stats] = await Promise.all([client.resources<LinkStatusSpec>('network', 'LinkStatuses.net.talos.dev'), client.networkDeviceStats()]);
      const spec = links.find((l) => l.id === LINK_NAME)?.spec;
      const before = countersOf(stats[0]?.devices);
      return { site: site.site, address: node.address, ...(spec ? { link: linkState(spec) } : {}), ...(before ? { counters: { before } } : {}) };
    });
  } catch (error) {
    return { site: site.site, address: node.address, error: messageOf(error) };
  }
}

async function readCountersAfter(gateway: GatewayCheck, site: TalosSite | undefined, via: string | undefined): Promise<void> {
  if (!gateway.counters || !site) return;
  const stats = await withClient(await gatewayClient(site, gateway, via), (c) => c.networkDeviceStats()).catch(() => undefined);
  const after = countersOf(stats?.[0]?.devices);
  if (after) gateway.counters.after = after;
}

function countersOf(devices: { name: string; rxBytes: string; txBytes: string }[] | undefined): Counters | undefined {
  const device = devices?.find((d) => d.name === LINK_NAME);
  return device ? { rxBytes: Number(device.rxBytes), txBytes: Number(device.txBytes) } : undefined;
}

function linkState(spec: LinkStatusSpec): LinkState {
  return {
    state: spec.operationalState ?? 'unknown',
    publicKey: spec.wireguard?.publicKey ?? '',
    listenPort: spec.wireguard?.listenPort ?? 0,
    peers: (spec.wireguard?.peers ?? []).map((p) => ({ publicKey: p.publicKey ?? '', endpoint: p.endpoint ?? '', allowedIps: p.allowedIPs ?? [] })),
  };
}

type ServiceDeployment = KubeObject & { spec?: { template?: { spec?: { containers?: { image?: string }[]; imagePullSecrets?: { name?: string }[] } } } };

/** One probe Job on `from`, against `targets` on the other site. */
async function probeDirection(from: KubeSite & { site: SiteName }, to: SiteName, targets: string[], input: VpnCheckInput): Promise<DirectionCheck> {
  const base = { from: from.site, to, targets };
  if (targets.length === 0) return { ...base, crossed: false, skipped: `the ${to} site has no workers to answer` };
  try {
    const kube = await from.kube();
    if (!kube) return { ...base, crossed: false, skipped: `no kubeconfig for the ${from.site} site yet` };
    const deployment = await kube.get<ServiceDeployment>({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'readings', namespace: SERVICE_NAMESPACE } });
    const pod = deployment?.spec?.template?.spec;
    const image = pod?.containers?.[0]?.image;
    if (!image) return { ...base, crossed: false, skipped: `the service is not deployed on the ${from.site} site, and the probe runs from its image` };
    const run = await runProbe(kube, {
      cluster: input.config.metadata.name,
      image,
      pullSecrets: (pod?.imagePullSecrets ?? []).flatMap((s) => (s.name ? [s.name] : [])),
      targets,
      deadlineSeconds: input.deadlineSeconds,
      report: (m) => input.report(`${from.site} → ${to}: ${m}`),
      ...(input.signal ? { signal: input.signal } : {}),
    });
    const best = bestAnswer(run.results, to);
    const error = run.error ?? run.results.find((r) => r.error)?.error;
    if (!best) return { ...base, crossed: false, ...(error ? { error } : {}) };
    return {
      ...base,
      crossed: true,
      ...(best.rttMs ? { rttMs: best.rttMs.p50 } : {}),
      answeredBy: `${best.site} node ${best.node}`,
      answered: `${best.ok}/${best.ok + best.failed}`,
    };
  } catch (error) {
    return { ...base, crossed: false, error: messageOf(error) };
  }
}

/** The fastest target the other site answered: an answer from the probe's own site proves nothing. */
function bestAnswer(results: ProbeResult[], to: SiteName): ProbeResult | undefined {
  return results.filter((r) => r.ok > 0 && (r.site ?? '').split(',').includes(to)).sort((a, b) => (a.rttMs?.p50 ?? 0) - (b.rttMs?.p50 ?? 0))[0];
}
