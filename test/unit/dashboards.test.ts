import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config/load.ts';
import { dashboardProblems } from '../../src/grafana/dashboard-checks.ts';
import { readDashboardFiles } from '../../src/grafana/dashboard-files.ts';
import { buildDashboards } from '../../src/grafana/dashboards/index.ts';
import { PROMETHEUS } from '../../src/grafana/dashboards/panels.ts';
import { ruleGroups } from '../../src/telemetry/rules.ts';
import { EXAMPLE } from '../support/config.ts';

type Json = Record<string, unknown> & { panels: (Record<string, unknown> & { targets?: Record<string, unknown>[] })[] };
const built = () => buildDashboards() as unknown as Json[];

describe('the dashboards', () => {
  it('pass the checks for what Grafana rejects', () => {
    expect(dashboardProblems(built(), [PROMETHEUS.uid!])).toEqual([]);
    expect(built().map((d) => d.uid)).toEqual(['hybridctl-service', 'hybridctl-clusters', 'hybridctl-vpn', 'hybridctl-lake']);
  });

  it('are what npm run build generated into dist/dashboards', async () => {
    const files = await readDashboardFiles();
    expect(files.map((f) => JSON.parse(f.json))).toEqual(JSON.parse(JSON.stringify(built())).sort((a: Json, b: Json) => String(a.uid).localeCompare(String(b.uid))));
    expect(new Set(files.map((f) => f.hash)).size).toBe(files.length);
  });

  it('read only recording rules that the rendered rules define', () => {
    const records = new Set(ruleGroups(parseConfig(EXAMPLE)).flatMap((g) => g.rules.flatMap((r) => ('record' in r ? [r.record] : []))));
    const used = new Set(JSON.stringify(built()).match(/job(?:_route)?:[a-z_0-9]+:[a-z_0-9]+/g));
    expect(used.size).toBeGreaterThan(3);
    for (const name of used) expect(records, name).toContain(name);
  });

  it('describe every panel', () => {
    for (const d of built()) for (const p of d.panels) if (p.type !== 'row') expect(p.description, `${d.uid}: ${p.title}`).toMatch(/\w/);
  });

  describe('checks', () => {
    const [first] = built();
    const broken = (change: (d: Json) => void) => {
      const copy = JSON.parse(JSON.stringify(first)) as Json;
      change(copy);
      return dashboardProblems([copy], [PROMETHEUS.uid!]);
    };

    it('find a repeated panel id', () => {
      expect(broken((d) => (d.panels[2]!.id = d.panels[1]!.id))).toEqual([expect.stringMatching(/panel "Replicas ready": id 2 used twice/)]);
    });
    it('find a data source that is not provisioned', () => {
      expect(broken((d) => (d.panels[1]!.datasource = { type: 'prometheus', uid: 'other' }))).toEqual([expect.stringMatching(/data source "other" is not provisioned/)]);
    });
    it('find a unit Grafana does not know', () => {
      expect(broken((d) => ((d.panels[1]!.fieldConfig as { defaults: { unit: string } }).defaults.unit = 'requests'))).toEqual([expect.stringMatching(/unit "requests" is not a Grafana unit/)]);
    });
    it('find an empty query, a repeated refId and a bad uid', () => {
      const problems = broken((d) => {
        d.uid = 'has spaces';
        d.panels[4]!.targets![1]!.refId = 'A';
        d.panels[1]!.targets![0]!.expr = ' ';
      });
      expect(problems).toEqual([
        expect.stringMatching(/uid "has spaces" is not/),
        expect.stringMatching(/"Active site": query A has no expression/),
        expect.stringMatching(/"Replicas ready and desired per site": refId "A" missing or repeated/),
      ]);
    });
    it('find a panel off the grid', () => {
      expect(broken((d) => (d.panels[1]!.gridPos = { x: 20, y: 0, w: 6, h: 4 }))).toEqual([expect.stringMatching(/off the 24-column grid/)]);
    });
  });
});
