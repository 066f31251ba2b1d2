import type { HybridConfig, SiteName } from '../core/config/schema.ts';
import type { Node } from '../core/engine/model.ts';
import type { KubeSite } from '../kube/object-kind.ts';
import { PROMETHEUS_WORKSPACE_ID, SHIPPER_USER_ID } from '../providers/aws/base-stack.ts';
import { bucketName, iamName } from '../providers/aws/naming.ts';
import type { AwsProvider } from '../providers/aws/provider.ts';
import type { ImageLookup } from '../service/image-ref.ts';
import { KUBECONFIG_ID } from '../talos/kinds/kubeconfig.ts';
import { managedWorkspaceCondition } from './managed-workspace.ts';
import { MONITORING_NAMESPACE } from './prometheus-config.ts';
import { RETIRED_KEYS_ID, SHIPPER_CREDENTIALS_ID, retiredKeysKind, shipperCredentialsKind } from './shipper-credentials.ts';
import { type ShipperPlacement, type SiteKey, telemetryStack } from './stack.ts';

export interface SiteTelemetryInputs {
  config: HybridConfig;
  site: SiteName;
  /** The service image (the shipper runs from it), or why there is none. */
  service: ImageLookup | undefined;
  /** AWS, when it can be asked: the bucket's name, the on-prem key, the managed workspace. */
  aws: AwsProvider | undefined;
  /** The AWS site is built in the same run: on-prem waits for what it makes. */
  awsInRun: boolean;
  /** No AWS credentials (plan): AWS is named but not asked. */
  awsOffline: boolean;
  withServiceLogs: boolean;
}

/** A site's monitoring nodes (after its kubeconfig), and what the user should know about what is left out. */
export function siteTelemetry(inputs: SiteTelemetryInputs): { nodes: Node<KubeSite>[]; notes: string[] } {
  const { config, site, aws } = inputs;
  const notes: string[] = [];
  const managedOn = config.monitoring.managedPrometheus;
  if (site === 'onprem' && managedOn && !aws) return { nodes: [], notes: ['monitoring is not deployed: the on-prem Prometheus writes into the managed workspace, and there is no AWS access to find it'] };
  let shipper: ShipperPlacement | undefined;
  if (config.monitoring.shipper.enabled) {
    const placement = shipperPlacement(inputs);
    if ('missing' in placement) notes.push(`the data lake's shipper is not deployed: ${placement.missing}`);
    else shipper = placement;
  }
  // On-prem there is no instance role: a key of its own, for the shipper and for SigV4.
  const key = site === 'onprem' && aws && (shipper || managedOn) ? siteKey(config, aws, inputs) : undefined;
  const managed = managedOn ? { workspaceId: PROMETHEUS_WORKSPACE_ID, ...(site === 'onprem' && aws ? { node: workspaceNode(config, aws, inputs) } : {}) } : undefined;
  return { nodes: telemetryStack(config, site, [KUBECONFIG_ID], { ...(shipper ? { shipper } : {}), ...(managed ? { managed } : {}), ...(key ? { key } : {}) }), notes };
}

/** Where a site's shipper runs from and writes to, or why it cannot be deployed yet. */
function shipperPlacement({ config, service, aws, withServiceLogs }: SiteTelemetryInputs): ShipperPlacement | { missing: string } {
  if (!service) return { missing: 'it runs from the service image, which is not configured' };
  if ('missing' in service) return { missing: service.missing };
  if (!aws) return { missing: 'it writes into the AWS telemetry bucket, and there is no AWS access to name it' };
  return { image: service.image, bucket: bucketName(aws, 'telemetry'), region: config.aws.region, withServiceLogs };
}

function siteKey(config: HybridConfig, aws: AwsProvider, { awsInRun, awsOffline }: SiteTelemetryInputs): SiteKey {
  const source = { iam: aws.clients.iam, userName: iamName(config.metadata.name, SHIPPER_USER_ID), waitMs: awsInRun ? config.talos.timeouts.installSeconds * 1000 : 0, offline: awsOffline };
  return {
    node: { id: SHIPPER_CREDENTIALS_ID, kind: shipperCredentialsKind(source), dependsOn: [KUBECONFIG_ID, `Namespace/${MONITORING_NAMESPACE}`], spec: () => ({}) },
    retire: (after) => ({ id: RETIRED_KEYS_ID, kind: retiredKeysKind(source), dependsOn: [SHIPPER_CREDENTIALS_ID, ...after], spec: (refs) => ({ accessKeyId: refs.get(SHIPPER_CREDENTIALS_ID, 'accessKeyId') }) }),
  };
}

function workspaceNode(config: HybridConfig, aws: AwsProvider, { awsInRun, awsOffline }: SiteTelemetryInputs): Node<KubeSite> {
  const kind = managedWorkspaceCondition(aws.clients.amp, config.metadata.name, { awsInRun, offline: awsOffline, timeoutMs: config.talos.timeouts.installSeconds * 1000 });
  return { id: PROMETHEUS_WORKSPACE_ID, kind: kind as Node<KubeSite>['kind'], dependsOn: [], spec: () => ({}) };
}
