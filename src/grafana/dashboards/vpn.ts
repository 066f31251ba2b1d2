import type { DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { SESSION_SECONDS } from '../../vpn/plan.ts';
import { PanelIds, dashboard, row, stat, timeseries } from './panels.ts';

/** The site-to-site tunnel, as each site's gateway sees it (the WireGuard exporter on the gateway). */
export function vpnDashboard(): DashboardBuilder {
  const ids = new PanelIds();
  return dashboard('hybridctl / VPN', 'hybridctl-vpn', { refresh: '30s', from: 'now-3h' })
    .withRow(row(ids, 'Tunnel'))
    .withPanel(
      stat(ids, {
        title: 'Tunnel up',
        description: `Yes while the gateway's peer has had a handshake in the last ${SESSION_SECONDS} s (WireGuard's session lifetime); keepalives renew it every 2 minutes.`,
        unit: 'bool_yes_no',
        queries: [{ expr: `max by (site) (wireguard_latest_handshake_delay_seconds < bool ${SESSION_SECONDS})`, legend: '{{site}}' }],
      }),
    )
    .withPanel(
      stat(ids, {
        title: 'Last handshake',
        description: 'Since the latest handshake with the other site, per gateway.',
        unit: 's',
        queries: [{ expr: 'max by (site) (wireguard_latest_handshake_delay_seconds)', legend: '{{site}}' }],
      }),
    )
    .withPanel(
      timeseries(ids, {
        title: 'Handshake age',
        description: `Below ${SESSION_SECONDS} s while the tunnel is up; a saw tooth of about 2 minutes is normal.`,
        unit: 's',
        queries: [{ expr: 'max by (site) (wireguard_latest_handshake_delay_seconds)', legend: '{{site}}' }],
      }),
    )
    .withRow(row(ids, 'Traffic'))
    .withPanel(
      timeseries(ids, {
        title: 'Bytes each way',
        description: 'What each gateway sends into the tunnel and receives from it.',
        unit: 'Bps',
        span: 24,
        queries: [
          { expr: 'sum by (site) (rate(wireguard_sent_bytes_total[5m]))', legend: '{{site}} sent' },
          { expr: 'sum by (site) (rate(wireguard_received_bytes_total[5m]))', legend: '{{site}} received' },
        ],
      }),
    );
}
