import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dashboardProblems } from './dashboard-checks.ts';
import { DASHBOARD_DIR } from './dashboard-files.ts';
import { buildDashboards } from './dashboards/index.ts';
import { PROMETHEUS } from './dashboards/panels.ts';

/** `npm run build`: the dashboards' JSON, checked, one file per dashboard in dist/dashboards/. */
export function generateDashboards(): string[] {
  const dashboards = buildDashboards();
  const problems = dashboardProblems(dashboards, [PROMETHEUS.uid!]);
  if (problems.length > 0) throw new Error(`the dashboards would not load in Grafana:\n  ${problems.join('\n  ')}`);
  const dir = fileURLToPath(DASHBOARD_DIR);
  mkdirSync(dir, { recursive: true });
  for (const name of readdirSync(dir)) rmSync(`${dir}${name}`);
  return dashboards.map((d) => {
    const file = `${dir}${d.uid}.json`;
    writeFileSync(file, `${JSON.stringify(d, null, 2)}\n`);
    return file;
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const file of generateDashboards()) console.log(`wrote ${file}`);
}
