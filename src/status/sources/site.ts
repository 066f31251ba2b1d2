import { X509Certificate } from 'node:crypto';
import type { V1Node } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { messageOf } from '../../core/errors.ts';
import { type KubeClient, nodeAddress, nodeReady } from '../../kube/client.ts';
import type { KubeSite } from '../../kube/object-kind.ts';
import type { TalosCredentials } from '../../talos/client/client.ts';
import { adminCredentials } from '../../talos/credentials.ts';
import { readSiteBundle } from '../../talos/kinds/secrets.ts';
import { type TalosSite, TALOSCONFIG_FILE, connect, contextName, kubeconfigFileName } from '../../talos/site.ts';
import type { NodeRow, SiteStatus } from '../model.ts';
import type { Source } from '../poller.ts';
import type { TalosClients } from './talos-clients.ts';

const EXPIRY_WARNING_MS = 30 * 86_400_000;
const CONTROL_PLANE_LABEL = 'node-role.kubernetes.io/control-plane';

/**
 * A site's nodes: Kubernetes's view (role, Ready) joined with each node's own Talos view (machine
 * stage, services, etcd membership), through the same clients `up` uses. A node Talos does not
 * answer for is shown with why, not dropped; the access files' certificates near expiry are named.
 */
export function siteSource(site: TalosSite & KubeSite, talos: TalosClients): Source<SiteStatus> {
  // One admin certificate while the site's CA stays the same; a new CA (after `up`) means new clients.
  let admin: { ca: string; creds: Promise<TalosCredentials> } | undefined;
  return async () => {
    const kube = await site.kube();
    if (!kube) return { unset: `no kubeconfig for the ${site.site} site yet: run \`hybridctl up\`` };
    const nodes = (await kube.nodes()).map(nodeRow);
    const bundle = (await readSiteBundle(site))?.bundle;
    let etcdMembers: number | undefined;
    if (bundle) {
      if (admin?.ca !== bundle.certs.os.crt) {
        talos.close();
        admin = { ca: bundle.certs.os.crt, creds: adminCredentials(bundle) };
      }
      const creds = await admin.creds.catch((error: unknown) => {
        admin = undefined;
        throw error;
      });
      const via = talosVia(site, kube);
      const timeouts = { ...site.timeouts, callMs: 5_000, reachMs: 5_000 };
      const keyOf = (row: NodeRow) => `${via ?? ''}>${row.address}`;
      talos.keepOnly(new Set(nodes.map(keyOf)));
      await Promise.all(
        nodes.map(async (row) => {
          try {
            await talos.use(keyOf(row), () => connect({ address: row.address }, creds, timeouts, { ...(via ? { via } : {}) }), async (client) => {
              const [machine, services] = await Promise.all([client.resources<{ stage?: string }>('runtime', 'MachineStatuses.runtime.talos.dev'), client.services()]);
              row.stage = machine[0]?.spec.stage ?? 'unknown';
              const list = services[0]?.services ?? [];
              const unhealthy = list.filter((s) => s.state !== 'Running' || s.health?.healthy === false).map((s) => s.id);
              row.services = { running: list.length - unhealthy.length, total: list.length, unhealthy };
              if (row.role === 'controlplane') {
                const members = (await client.etcdMembers())[0]?.members ?? [];
                etcdMembers ??= members.length;
                row.etcd = members.some((m) => m.hostname === row.name || m.peerUrls.some((u) => u.includes(`//${row.address}:`)));
              }
            });
          } catch (error) {
            row.talosError = messageOf(error);
          }
        }),
      );
    }
    return { nodes, ...(etcdMembers !== undefined ? { etcdMembers } : {}), expiring: await expiringCertificates(site) };
  };
}

/** The AWS site's Talos API is behind the load balancer, whose name the kubeconfig's server carries; on-prem, each node is asked directly. */
export function talosVia(site: { site: string }, kube: KubeClient): string | undefined {
  return site.site === 'aws' ? new URL(kube.server).hostname : undefined;
}

function nodeRow(node: V1Node): NodeRow {
  const address = nodeAddress(node) ?? '';
  const role = node.metadata?.labels?.[CONTROL_PLANE_LABEL] !== undefined ? 'controlplane' : 'worker';
  return { name: node.metadata?.name ?? '', address, role, ready: nodeReady(node) };
}

/** The talosconfig's and the site's kubeconfig's client certificates, when they expire within 30 days. */
async function expiringCertificates(site: TalosSite): Promise<{ file: string; expiresAt: string }[]> {
  const files = [
    { file: TALOSCONFIG_FILE, pems: talosconfigCerts(await site.state.read(TALOSCONFIG_FILE), contextName(site)) },
    { file: kubeconfigFileName(site.site), pems: kubeconfigCerts(await site.state.read(kubeconfigFileName(site.site))) },
  ];
  const soon: { file: string; expiresAt: string }[] = [];
  for (const { file, pems } of files) {
    for (const pem of pems) {
      const expires = new Date(new X509Certificate(pem).validTo);
      if (expires.getTime() - Date.now() < EXPIRY_WARNING_MS) soon.push({ file, expiresAt: expires.toISOString() });
    }
  }
  return soon;
}

const decode = (b64: string | undefined) => (b64 ? [Buffer.from(b64, 'base64').toString('utf8')] : []);

function talosconfigCerts(text: string | undefined, context: string): string[] {
  const doc = text ? (parseYaml(text) as { contexts?: Record<string, { crt?: string }> }) : undefined;
  return decode(doc?.contexts?.[context]?.crt);
}

function kubeconfigCerts(text: string | undefined): string[] {
  const doc = text ? (parseYaml(text) as { users?: { user?: { 'client-certificate-data'?: string } }[] }) : undefined;
  return (doc?.users ?? []).flatMap((u) => decode(u.user?.['client-certificate-data']));
}
