import { type HybridConfig, SITES } from '../../core/config/schema.ts';
import { messageOf } from '../../core/errors.ts';
import { nodeAddress } from '../../kube/client.ts';
import type { KubeSite } from '../../kube/object-kind.ts';
import { talosVia } from './site.ts';
import type { TalosSite } from '../../talos/site.ts';
import { readGateway } from '../../vpn/check.ts';
import { GATEWAY_LABEL } from '../../vpn/documents.ts';
import { vpnPlan } from '../../vpn/plan.ts';
import type { GatewayRow, VpnStatus } from '../model.ts';
import type { Source } from '../poller.ts';
import { prometheusReader } from '../prometheus.ts';

type Site = TalosSite & KubeSite;

/**
 * Each gateway's tunnel link as Talos reports it (the reading `vpn check` makes: state and bytes
 * each way) and, where its site's Prometheus has the WireGuard exporter's series, the age of the
 * latest handshake, which Talos does not report.
 */
export function vpnSource(config: HybridConfig, sites: { aws?: Site; onprem?: Site }): Source<VpnStatus> {
  return async (signal) => {
    const plan = vpnPlan(config);
    if (!plan) return { unset: 'the VPN is turned off (vpn.enabled)' };
    const gateways = await Promise.all(
      SITES.flatMap((name) => {
        const site = sites[name];
        return site ? [gateway(site, name === 'onprem' ? plan.onpremGateway : undefined, signal)] : [];
      }),
    );
    return { gateways };
  };
}

async function gateway(site: Site, knownAddress: string | undefined, signal: AbortSignal): Promise<GatewayRow> {
  const kube = await site.kube();
  const base: GatewayRow = { site: site.site as GatewayRow['site'], address: knownAddress ?? '(unknown)' };
  try {
    if (!kube) throw new Error('no kubeconfig yet');
    // The AWS gateway's address is its node's; the on-prem one is in the config.
    const node = knownAddress ? undefined : (await kube.nodes()).find((n) => n.metadata?.labels?.[GATEWAY_LABEL] === site.site);
    const address = knownAddress ?? (node && nodeAddress(node));
    if (!address) throw new Error('no gateway node yet');
    const via = talosVia(site, kube);
    const [link, age] = await Promise.all([readGateway(site, { address }, via), handshakeAge(site, signal)]);
    return {
      ...base,
      address,
      ...(link.link ? { state: link.link.state } : {}),
      ...(link.counters ? { rxBytes: link.counters.before.rxBytes, txBytes: link.counters.before.txBytes } : {}),
      ...(age !== undefined ? { handshakeAgeS: age } : {}),
      ...(link.error ? { error: link.error } : {}),
    };
  } catch (error) {
    return { ...base, error: messageOf(error) };
  }
}

async function handshakeAge(site: Site, signal: AbortSignal): Promise<number | undefined> {
  const kube = await site.kube();
  if (!kube) return undefined;
  const found = await prometheusReader(kube)
    .query(`max(wireguard_latest_handshake_delay_seconds{site="${site.site}"})`, signal)
    .catch(() => []);
  return found[0]?.value;
}
