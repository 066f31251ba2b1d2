import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { clustersDashboard } from './clusters.ts';
import { lakeDashboard } from './lake.ts';
import { serviceDashboard } from './service.ts';
import { vpnDashboard } from './vpn.ts';

/** Every dashboard hybridctl installs, built with the Grafana Foundation SDK. */
export function buildDashboards(): Dashboard[] {
  return [serviceDashboard(), clustersDashboard(), vpnDashboard(), lakeDashboard()].map((builder) => builder.build());
}
