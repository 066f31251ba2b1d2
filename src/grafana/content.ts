import { createHash } from 'node:crypto';
import type { GrafanaDataSource } from './data-source.ts';
import type { DashboardFile } from './dashboard-files.ts';
import type { GrafanaHttp } from './http-api.ts';

/** What hybridctl keeps in a Grafana: the data source, a folder, the dashboards in it. */
export interface GrafanaContent {
  dataSource: GrafanaDataSource;
  folder: { uid: string; title: string };
  dashboards: readonly DashboardFile[];
}

export const FOLDER = { uid: 'hybridctl', title: 'hybridctl' } as const;
/** Each dashboard hybridctl wrote carries its content's hash as a tag, so an unchanged one is left alone. */
const HASH_TAG = 'hybridctl-sha256-';

/** One hash over all of it: a workspace tagged with it needs nothing. */
export function contentHash(content: GrafanaContent): string {
  const h = createHash('sha256').update(JSON.stringify(content.dataSource)).update(JSON.stringify(content.folder));
  for (const d of content.dashboards) h.update(d.uid).update(d.hash);
  return h.digest('hex').slice(0, 32);
}

const dashboardTag = (d: DashboardFile) => `${HASH_TAG}${d.hash.slice(0, 16)}`;

/**
 * Brings a Grafana's content to `content`, reading each part first and writing only what differs:
 * the data source, the folder, each dashboard (by its hash tag); dashboards of hybridctl's
 * folder that it no longer makes are deleted. Returns what it wrote, as `<kind> <uid>`.
 */
export async function syncContent(http: GrafanaHttp, content: GrafanaContent, report: (message: string) => void = () => {}): Promise<string[]> {
  const written: string[] = [];
  const ds = content.dataSource;
  const current = await http.get(`/api/datasources/uid/${ds.uid}`);
  if (current.status === 404) {
    await http.send('POST', '/api/datasources', ds);
    written.push(`datasource ${ds.uid}`);
  } else if (!sameDataSource(current.body as Partial<GrafanaDataSource>, ds)) {
    await http.send('PUT', `/api/datasources/uid/${ds.uid}`, ds);
    written.push(`datasource ${ds.uid}`);
  }

  const folder = await http.get(`/api/folders/${content.folder.uid}`);
  if (folder.status === 404) {
    await http.send('POST', '/api/folders', content.folder);
    written.push(`folder ${content.folder.uid}`);
  } else if ((folder.body as { title?: string }).title !== content.folder.title) {
    await http.send('PUT', `/api/folders/${content.folder.uid}`, { title: content.folder.title, overwrite: true });
    written.push(`folder ${content.folder.uid}`);
  }

  for (const d of content.dashboards) {
    const found = await http.get(`/api/dashboards/uid/${d.uid}`);
    const tags = (found.body as { dashboard?: { tags?: string[] } } | undefined)?.dashboard?.tags ?? [];
    const stored = found.status === 200 ? (found.body as { meta?: { folderUid?: string } }).meta?.folderUid : undefined;
    if (found.status === 200 && tags.includes(dashboardTag(d)) && stored === content.folder.uid) continue;
    report(`dashboard ${d.title}`);
    const model = JSON.parse(d.json) as { tags?: string[] };
    const dashboard = { ...model, id: null, tags: [...(model.tags ?? []), dashboardTag(d)] };
    await http.send('POST', '/api/dashboards/db', { dashboard, folderUid: content.folder.uid, overwrite: true, message: 'hybridctl up' });
    written.push(`dashboard ${d.uid}`);
  }

  const wanted = new Set(content.dashboards.map((d) => d.uid));
  const listed = await http.get(`/api/search?type=dash-db&folderUIDs=${encodeURIComponent(content.folder.uid)}`);
  for (const hit of (listed.body as { uid: string; tags?: string[] }[] | undefined) ?? []) {
    if (wanted.has(hit.uid) || !(hit.tags ?? []).some((t) => t.startsWith(HASH_TAG))) continue;
    await http.send('DELETE', `/api/dashboards/uid/${hit.uid}`);
    written.push(`deleted dashboard ${hit.uid}`);
  }
  return written;
}

function sameDataSource(found: Partial<GrafanaDataSource>, wanted: GrafanaDataSource): boolean {
  const jsonData = (found.jsonData ?? {}) as Record<string, unknown>;
  return (
    found.name === wanted.name &&
    found.type === wanted.type &&
    found.url === wanted.url &&
    found.access === wanted.access &&
    found.isDefault === wanted.isDefault &&
    Object.entries(wanted.jsonData).every(([k, v]) => JSON.stringify(jsonData[k]) === JSON.stringify(v))
  );
}
