import { DashboardBuilder, RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as TimeseriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';
import { BigValueTextMode, type DataSourceRef, LegendDisplayMode, LegendPlacement, ReduceDataOptionsBuilder, VizLegendOptionsBuilder } from '@grafana/grafana-foundation-sdk/common';

/** The one data source every panel reads: the Prometheus that holds both sites (the AWS one, or the managed workspace). */
export const PROMETHEUS: DataSourceRef = { type: 'prometheus', uid: 'hybridctl-prometheus' };

/** One PromQL query of a panel, with its legend (`{{site}}`…). */
export interface Query {
  expr: string;
  legend: string;
}

interface PanelSpec {
  title: string;
  description: string;
  /** A Grafana unit id (`reqps`, `s`, `percentunit`…). */
  unit: string;
  queries: Query[];
  span?: number;
  height?: number;
}

/** Hands out panel ids, unique within one dashboard. */
export class PanelIds {
  private next = 1;
  take(): number {
    return this.next++;
  }
}

function target(query: Query, index: number) {
  return new DataqueryBuilder().datasource(PROMETHEUS).expr(query.expr).legendFormat(query.legend).refId(String.fromCharCode(65 + index));
}

/** What every panel builder of the SDK offers that the panels here set alike. */
interface PanelBase<T> {
  id(id: number): T;
  title(title: string): T;
  description(description: string): T;
  datasource(ref: DataSourceRef): T;
  unit(unit: string): T;
  span(span: number): T;
  height(height: number): T;
  withTarget(target: DataqueryBuilder): T;
}

/** A panel's id, texts, data source, unit, size and queries. */
function described<T extends PanelBase<T>>(panel: T, ids: PanelIds, spec: PanelSpec, size: { span: number; height: number }): T {
  panel.id(ids.take()).title(spec.title).description(spec.description).datasource(PROMETHEUS).unit(spec.unit).span(spec.span ?? size.span).height(spec.height ?? size.height);
  spec.queries.forEach((q, i) => panel.withTarget(target(q, i)));
  return panel;
}

/** A time series per query, legend below, shown. */
export function timeseries(ids: PanelIds, spec: PanelSpec): TimeseriesPanel {
  const legend = new VizLegendOptionsBuilder().showLegend(true).displayMode(LegendDisplayMode.List).placement(LegendPlacement.Bottom).calcs([]);
  return described(new TimeseriesPanel(), ids, spec, { span: 12, height: 8 }).legend(legend);
}

/** The last value of each series, big; `names` shows the series' legend instead of its value. */
export function stat(ids: PanelIds, spec: PanelSpec & { names?: boolean }): StatPanel {
  return described(new StatPanel(), ids, spec, { span: 6, height: 4 })
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .textMode(spec.names ? BigValueTextMode.Name : BigValueTextMode.ValueAndName);
}

/** A dashboard of hybridctl's: its uid, the tag, how often it refreshes and how far back it looks. */
export function dashboard(title: string, uid: string, view: { refresh: string; from: string }): DashboardBuilder {
  return new DashboardBuilder(title).uid(uid).tags(['hybridctl']).refresh(view.refresh).time({ from: view.from, to: 'now' });
}

/** A row heading the panels after it. */
export function row(ids: PanelIds, title: string): RowBuilder {
  return new RowBuilder(title).id(ids.take());
}
