import { ListInstancesCommand, type SSOAdminClient } from '@aws-sdk/client-sso-admin';
import type { HybridConfig } from '../core/config/schema.ts';
import { UsageError, messageOf } from '../core/errors.ts';

export type GrafanaMode = 'managed' | 'incluster' | 'none';

export interface GrafanaChoice {
  mode: GrafanaMode;
  /** Why the default went the way it did, for the plan's notes. */
  note?: string;
}

/** Regions that offer Amazon Managed Grafana (AWS's list when this release was made). */
export const MANAGED_GRAFANA_REGIONS = [
  'us-east-1',
  'us-east-2',
  'us-west-2',
  'ca-central-1',
  'sa-east-1',
  'eu-central-1',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'eu-north-1',
  'ap-south-1',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-southeast-1',
  'ap-southeast-2',
] as const;

export interface AccountProbe {
  ssoAdmin: SSOAdminClient;
  /** No credentials (plan, --dry-run): AWS is not asked. */
  offline: boolean;
}

const FALLBACK = 'Grafana runs in the active site\'s cluster instead (set monitoring.grafana to incluster to keep it so, or to none)';

/**
 * Where the dashboards go: the config's `monitoring.grafana`, or when unset, Amazon Managed
 * Grafana if the account allows it (the region offers it, and for identity-center sign-in an IAM
 * Identity Center instance exists), else Grafana in the cluster with a note saying why.
 */
export async function chooseGrafana(config: HybridConfig, probe: AccountProbe | undefined): Promise<GrafanaChoice> {
  const { monitoring } = config;
  if (!monitoring.enabled) return { mode: 'none' };
  const region = config.aws.region;
  const offered = (MANAGED_GRAFANA_REGIONS as readonly string[]).includes(region);
  if (monitoring.grafana === 'managed' && !offered) {
    throw new UsageError(`monitoring.grafana: managed: Amazon Managed Grafana is not offered in ${region} (aws.region); it is in ${MANAGED_GRAFANA_REGIONS.join(', ')}. Use incluster, or none`);
  }
  if (monitoring.grafana) return { mode: monitoring.grafana };
  if (!offered) return { mode: 'incluster', note: `Amazon Managed Grafana is not offered in ${region}: ${FALLBACK}` };
  if (monitoring.grafanaSignIn === 'saml') return { mode: 'managed' };
  if (!probe || probe.offline) return { mode: 'managed', note: 'assuming IAM Identity Center is enabled for the account (not checked without AWS credentials): Amazon Managed Grafana signs people in with it' };
  try {
    const { Instances } = await probe.ssoAdmin.send(new ListInstancesCommand({}));
    if ((Instances ?? []).length > 0) return { mode: 'managed' };
    return {
      mode: 'incluster',
      note: `the account has no IAM Identity Center instance in ${region}, which Amazon Managed Grafana signs people in with: ${FALLBACK}. Enable Identity Center, or set monitoring.grafanaSignIn to saml, then set monitoring.grafana to managed`,
    };
  } catch (error) {
    return { mode: 'incluster', note: `IAM Identity Center could not be asked (${messageOf(error)}): ${FALLBACK}` };
  }
}
