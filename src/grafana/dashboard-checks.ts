import * as units from '@grafana/grafana-foundation-sdk/units';

/** The parts of a dashboard's JSON the checks read. */
interface DashboardJson {
  uid?: string;
  title?: string;
  panels?: PanelJson[];
  annotations?: { list?: { name?: string; datasource?: { uid?: string } }[] };
}
interface PanelJson {
  id?: number;
  type?: string;
  title?: string;
  datasource?: { uid?: string };
  gridPos?: { x: number; y: number; w: number; h: number };
  fieldConfig?: { defaults?: { unit?: string } };
  targets?: { refId?: string; expr?: string; datasource?: { uid?: string } }[];
}

const UNITS = new Set<string>((Object.values(units) as unknown[]).filter((v): v is string => typeof v === 'string'));
/** Grafana's rule for a dashboard uid. */
const UID = /^[a-zA-Z0-9_-]{1,40}$/;

/**
 * What Grafana would reject or show broken, as messages naming the dashboard and panel: a uid
 * Grafana refuses, panel ids that repeat, a data source that is not provisioned, a unit Grafana
 * does not know, a query without an expression or with a repeated refId, a panel off the grid.
 */
export function dashboardProblems(dashboards: readonly unknown[], dataSourceUids: readonly string[]): string[] {
  const problems: string[] = [];
  const known = new Set(dataSourceUids);
  const uids = new Set<string>();
  for (const raw of dashboards) {
    const d = raw as DashboardJson;
    const where = `dashboard ${d.uid ?? d.title ?? '?'}`;
    if (!d.uid || !UID.test(d.uid)) problems.push(`${where}: uid ${JSON.stringify(d.uid)} is not 1-40 letters, digits, - or _`);
    else if (uids.has(d.uid)) problems.push(`${where}: uid used twice`);
    else uids.add(d.uid);
    if (!d.title) problems.push(`${where}: no title`);
    const ids = new Set<number>();
    for (const panel of d.panels ?? []) {
      const at = `${where}, panel ${JSON.stringify(panel.title)}`;
      if (!Number.isInteger(panel.id) || (panel.id ?? 0) < 1) problems.push(`${at}: id ${panel.id} is not a positive integer`);
      else if (ids.has(panel.id!)) problems.push(`${at}: id ${panel.id} used twice`);
      else ids.add(panel.id!);
      const grid = panel.gridPos;
      if (!grid || grid.w < 1 || grid.h < 1 || grid.x < 0 || grid.x + grid.w > 24) problems.push(`${at}: gridPos ${JSON.stringify(grid)} is off the 24-column grid`);
      if (panel.type === 'row') continue;
      if (!panel.datasource?.uid || !known.has(panel.datasource.uid)) problems.push(`${at}: data source ${JSON.stringify(panel.datasource?.uid)} is not provisioned`);
      const unit = panel.fieldConfig?.defaults?.unit;
      if (unit === undefined || !UNITS.has(unit)) problems.push(`${at}: unit ${JSON.stringify(unit)} is not a Grafana unit`);
      const refIds = new Set<string>();
      if (!panel.targets?.length) problems.push(`${at}: no query`);
      for (const t of panel.targets ?? []) {
        if (!t.expr?.trim()) problems.push(`${at}: query ${t.refId} has no expression`);
        if (!t.refId || refIds.has(t.refId)) problems.push(`${at}: refId ${JSON.stringify(t.refId)} missing or repeated`);
        refIds.add(t.refId ?? '');
        if (t.datasource?.uid && !known.has(t.datasource.uid)) problems.push(`${at}: query ${t.refId} reads data source ${t.datasource.uid}, not provisioned`);
      }
    }
    for (const a of d.annotations?.list ?? []) {
      if (a.datasource?.uid && !known.has(a.datasource.uid) && a.datasource.uid !== '-- Grafana --') problems.push(`${where}, annotation ${a.name}: data source ${a.datasource.uid} is not provisioned`);
    }
  }
  return problems;
}
