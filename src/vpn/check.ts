import type { HybridConfig, SiteName } from '../core/config/schema.ts';
import { Observation } from '../core/engine/plan.ts';
import { messageOf } from '../core/errors.ts';
import type { KubeObject } from '../kube/client.ts';
import type { KubeSite } from '../kube/object-kind.ts';
import type { AwsSite } from '../providers/aws/talos-site.ts';
import type { OnpremSite } from '../providers/metal/site.ts';
import { SERVICE_DEPLOYMENT, SERVICE_NAMESPACE } from '../service/manifests.ts';
import { adminCredentials } from '../talos/credentials.ts';
import { readSiteBundle } from '../talos/kinds/secrets.ts';
import { type SiteView, type TalosSite, connect, withClient } from '../talos/site.ts';
import { GATEWAY_TALOS_ID } from './aws-stack.ts';
import { type Counters, type DirectionCheck, type Expected, type GatewayCheck, type LinkState, diagnose } from './diagnose.ts';
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
  const view = input.aws ? await input.aws.view(new Observation(input.aws)) : undefined;
  input.report('reading the gateways\' tunnel links through Talos');
  const gateways = await readGateways(input, view);
  const expected = await expectedState(input);
  // Links that already show why nothing can cross (a key mismatch, say) need no probe to prove it.
  const evident = diagnose(gateways, [], expected);
  if (evident.length > 0) {
    const skipped = 'the gateways\' links already show why nothing can cross';
    const directions: DirectionCheck[] = [
      { from: 'aws', to: 'onprem', targets: [], crossed: false, skipped },
      { from: 'onprem', to: 'aws', targets: [], crossed: false, skipped },
    ];
    return { gateways, directions, verdict: 'failed', causes: evident };
  }

  input.report('probing each site from the other over the tunnel');
  const directions = await probeBothWays(input, view);
  // Read again: the links now show what the probes' traffic taught them (the AWS side learns the on-prem endpoint), and the counters what crossed.
  const after = await readGateways(input, view);
  gateways.forEach((g, i) => Object.assign(g, laterReading(g, after[i])));

  const causes = diagnose(gateways, directions, expected);
  const ran = directions.filter((d) => !d.skipped);
  const verdict: Verdict = ran.some((d) => !d.crossed) ? 'failed' : ran.length === 0 ? 'unproven' : 'crossed';
  return { gateways, directions, verdict, causes };
}

function readGateways(input: VpnCheckInput, view: SiteView | undefined): Promise<GatewayCheck[]> {
  const awsGateway = view?.nodes.find((n) => n.id === GATEWAY_TALOS_ID);
  const missing: GatewayCheck = { site: 'aws', address: '(none)', error: input.aws ? 'no running VPN gateway instance' : 'AWS cannot be asked (no credentials)' };
  return Promise.all([
    awsGateway && input.aws ? readGateway(input.aws, awsGateway, view?.via) : Promise.resolve(missing),
    readGateway(input.onprem, { address: input.vpn.plan.onpremGateway }),
  ]);
}

/** What the gateways should hold: the keys in this state directory, the Elastic IP AWS has. */
async function expectedState({ vpn, onprem }: VpnCheckInput): Promise<Expected> {
  const keys = await readAllGatewayKeys(onprem.state);
  const eip = await vpn.peer.read().catch(() => undefined);
  return {
    ...(keys ? { awsPublicKey: keys.aws.publicKey, onpremPublicKey: keys.onprem.publicKey } : {}),
    ...(eip ? { awsEndpoint: `${eip.publicIp}:${vpn.plan.port}` } : {}),
    onpremPublicAddress: vpn.plan.onpremPublicAddress,
    port: vpn.plan.port,
  };
}

/** A probe from each site to the other's workers' NodePort (on-prem: every node when it has no workers). */
function probeBothWays(input: VpnCheckInput, view: SiteView | undefined): Promise<DirectionCheck[]> {
  const { config } = input;
  const url = (address: string) => `http://${address}:${config.service.nodePort}/readyz`;
  const onpremWorkers = config.onprem.nodes.filter((n) => n.role === 'worker');
  const awsWorkers = (view?.nodes ?? []).filter((n) => n.role === 'worker' && n.id !== GATEWAY_TALOS_ID);
  return Promise.all([
    input.aws
      ? probeDirection(input.aws, 'onprem', (onpremWorkers.length > 0 ? onpremWorkers : config.onprem.nodes).map((n) => url(n.address)), input)
      : Promise.resolve<DirectionCheck>({ from: 'aws', to: 'onprem', targets: [], crossed: false, skipped: 'AWS cannot be asked' }),
    probeDirection(input.onprem, 'aws', awsWorkers.map((n) => url(n.address)), input),
  ]);
}

async function gatewayClient(site: TalosSite, node: { address: string }, via: string | undefined) {
  const bundle = (await readSiteBundle(site))?.bundle;
  if (!bundle) throw new Error(`no ${site.site} secrets bundle in ${site.state.root}`);
  return connect(node, await adminCredentials(bundle), site.timeouts, { via });
}

/** One gateway's tunnel link and its counters, as Talos reports them (`vpn check`, and `status`). */
export async function readGateway(site: TalosSite, node: { address: string }, via?: string): Promise<GatewayCheck> {
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

/** The second reading's link, with the counters from before the probes and after them. */
function laterReading(first: GatewayCheck, later: GatewayCheck | undefined): Partial<GatewayCheck> {
  if (!later || later.error || !first.counters) return {};
  return { ...(later.link ? { link: later.link } : {}), ...(later.counters ? { counters: { before: first.counters.before, after: later.counters.before } } : {}) };
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
    const deployment = await kube.get<ServiceDeployment>({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: SERVICE_DEPLOYMENT, namespace: SERVICE_NAMESPACE } });
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
      ...(best.rttMs ? { rttMs: Math.round(best.rttMs.p50 * 10) / 10 } : {}),
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
