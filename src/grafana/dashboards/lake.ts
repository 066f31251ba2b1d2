import type { DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelIds, dashboard, row, stat, timeseries } from './panels.ts';

/** The telemetry shippers and the lake they fill: how fresh each signal is, and what failed. */
export function lakeDashboard(): DashboardBuilder {
  const ids = new PanelIds();
  return dashboard('hybridctl / Data lake', 'hybridctl-lake', { refresh: '1m', from: 'now-6h' })
    .withRow(row(ids, 'Freshness'))
    .withPanel(
      stat(ids, {
        title: 'Newest object age',
        description: "Since each site's shipper last wrote each signal's object to S3; a few shipping intervals at most when all is well.",
        unit: 's',
        span: 12,
        queries: [{ expr: 'time() - max by (site, signal) (shipper_last_success_timestamp_seconds)', legend: '{{site}} {{signal}}' }],
      }),
    )
    .withPanel(
      timeseries(ids, {
        title: 'Windows shipped',
        description: 'Windows whose objects are all in the lake, per site, over 15 minutes.',
        unit: 'none',
        queries: [{ expr: 'sum by (site) (increase(shipper_windows_shipped_total[15m]))', legend: '{{site}}' }],
      }),
    )
    .withRow(row(ids, 'Failures'))
    .withPanel(
      timeseries(ids, {
        title: 'Shipper errors',
        description: 'Failed reads or writes per site and signal over 15 minutes (watermark: the watermark object); a window that fails is retried.',
        unit: 'none',
        queries: [{ expr: 'sum by (site, signal) (increase(shipper_errors_total[15m]))', legend: '{{site}} {{signal}}' }],
      }),
    )
    .withPanel(
      timeseries(ids, {
        title: 'Rows written',
        description: 'Rows written to the lake per site and signal, per second.',
        unit: 'rowsps',
        queries: [{ expr: 'sum by (site, signal) (rate(shipper_rows_total[5m]))', legend: '{{site}} {{signal}}' }],
      }),
    );
}
