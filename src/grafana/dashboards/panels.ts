import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
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

/** A time series per query, legend below, shown. */
export function timeseries(ids: PanelIds, spec: PanelSpec): TimeseriesPanel {
  const panel = new TimeseriesPanel()
    .id(ids.take())
    .title(spec.title)
    .description(spec.description)
    .datasource(PROMETHEUS)
    .unit(spec.unit)
    .span(spec.span ?? 12)
    .height(spec.height ?? 8)
    .legend(new VizLegendOptionsBuilder().showLegend(true).displayMode(LegendDisplayMode.List).placement(LegendPlacement.Bottom).calcs([]));
  spec.queries.forEach((q, i) => panel.withTarget(target(q, i)));
  return panel;
}

/** The last value of each series, big; `names` shows the series' legend instead of its value. */
export function stat(ids: PanelIds, spec: PanelSpec & { names?: boolean }): StatPanel {
  const panel = new StatPanel()
    .id(ids.take())
    .title(spec.title)
    .description(spec.description)
    .datasource(PROMETHEUS)
    .unit(spec.unit)
    .span(spec.span ?? 6)
    .height(spec.height ?? 4)
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .textMode(spec.names ? BigValueTextMode.Name : BigValueTextMode.ValueAndName);
  spec.queries.forEach((q, i) => panel.withTarget(target(q, i)));
  return panel;
}

/** A row heading the panels after it. */
export function row(ids: PanelIds, title: string): RowBuilder {
  return new RowBuilder(title).id(ids.take());
}
