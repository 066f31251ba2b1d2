import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';

/** Where `npm run build` writes the dashboards' JSON (src/grafana/generate.ts). */
export const DASHBOARD_DIR = new URL('../../dist/dashboards/', import.meta.url);

/** One generated dashboard, as it is sent to Grafana. */
export interface DashboardFile {
  uid: string;
  title: string;
  /** The file's text. */
  json: string;
  /** sha256 of the text: what a later run compares to leave an unchanged dashboard alone. */
  hash: string;
}

export function dashboardHash(json: string): string {
  return createHash('sha256').update(json).digest('hex');
}

/** The generated dashboards, by file name order; without them (no build yet) an error says how to make them. */
export async function readDashboardFiles(): Promise<DashboardFile[]> {
  const names = (await readdir(DASHBOARD_DIR).catch(() => [])).filter((n) => n.endsWith('.json')).sort();
  if (names.length === 0) throw new Error(`no dashboards in ${DASHBOARD_DIR.pathname}: run npm run build`);
  return Promise.all(
    names.map(async (name) => {
      const json = await readFile(new URL(name, DASHBOARD_DIR), 'utf8');
      const { uid, title } = JSON.parse(json) as { uid: string; title: string };
      return { uid, title, json, hash: dashboardHash(json) };
    }),
  );
}
