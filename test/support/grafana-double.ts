import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { SERVER_CERT, SERVER_KEY } from './tls.ts';

/** One request the stand-in received, as it was sent. */
export interface RecordedRequest {
  method: string;
  /** Path and query, decoded. */
  path: string;
  body: unknown;
  authorization: string | undefined;
}

type Json = Record<string, unknown>;

interface Workspace {
  description: Json;
  accounts: { id: string; name: string; grafanaRole: string }[];
  tokens: Map<string, { id: string; accountId: string; key: string }>;
  dataSources: Map<string, Json>;
  folders: Map<string, Json>;
  dashboards: Map<string, { dashboard: Json; folderUid: string; version: number }>;
}

/**
 * A recording stand-in for Amazon Managed Grafana's control plane (the REST API the AWS SDK's
 * GrafanaClient speaks) and for Grafana's HTTP API on each workspace's endpoint: neither a Grafana
 * server nor a Managed Grafana emulator can be installed here. It keeps just enough state to answer
 * as the documented APIs do (workspaces, service accounts and tokens, data sources, folders,
 * dashboards), on HTTPS with the test CA, and records every request so tests assert on their shape.
 * It checks what the real services check that matters here: Grafana calls need a live token.
 */
export interface GrafanaDouble {
  /** `https://127.0.0.1:<port>` (AWS_ENDPOINT_URL_GRAFANA); workspaces' endpoints are this host too. */
  url: string;
  requests: RecordedRequest[];
  /** Tokens not yet deleted. */
  liveTokens(): string[];
  workspace(id: string): Workspace | undefined;
  stop(): Promise<void>;
}

export async function startGrafanaDouble(): Promise<GrafanaDouble> {
  const requests: RecordedRequest[] = [];
  const workspaces = new Map<string, Workspace>();
  let host = '';

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const summary = (w: Workspace) => {
    const d = w.description;
    return { id: d.id, name: d.name, description: d.description, status: d.status, endpoint: d.endpoint, created: d.created, modified: d.modified, grafanaVersion: d.grafanaVersion, authentication: d.authentication, notificationDestinations: [], tags: d.tags };
  };

  const controlPlane = (req: RecordedRequest, res: ServerResponse, parts: string[]) => {
    const body = (req.body ?? {}) as Json;
    const now = Math.floor(Date.now() / 1000);
    if (parts[0] === 'tags') {
      const arn = decodeURIComponent(parts.slice(1).join('/'));
      const w = [...workspaces.values()].find((x) => arn.endsWith(`/workspaces/${x.description.id}`));
      if (!w) return send(res, 404, { message: `no resource ${arn}` });
      if (req.method === 'POST') w.description.tags = { ...(w.description.tags as Json), ...(body.tags as Json) };
      return send(res, 200, {});
    }
    if (parts.length === 1 && req.method === 'POST') {
      const id = `g-${randomBytes(5).toString('hex')}`;
      const description: Json = {
        id,
        name: body.workspaceName,
        description: body.workspaceDescription ?? '',
        status: 'CREATING',
        endpoint: host,
        accountAccessType: body.accountAccessType,
        permissionType: body.permissionType,
        authentication: { providers: body.authenticationProviders },
        workspaceRoleArn: body.workspaceRoleArn,
        dataSources: body.workspaceDataSources ?? [],
        notificationDestinations: [],
        grafanaVersion: '10.4',
        created: now,
        modified: now,
        tags: body.tags ?? {},
        ...(body.vpcConfiguration ? { vpcConfiguration: body.vpcConfiguration } : {}),
      };
      workspaces.set(id, { description, accounts: [], tokens: new Map(), dataSources: new Map(), folders: new Map(), dashboards: new Map() });
      send(res, 202, { workspace: description });
      description.status = 'ACTIVE';
      return;
    }
    if (parts.length === 1) return send(res, 200, { workspaces: [...workspaces.values()].map(summary) });
    const w = workspaces.get(parts[1]!);
    if (!w) return send(res, 404, { message: `workspace ${parts[1]} not found` });
    const d = w.description;
    if (parts.length === 2) {
      if (req.method === 'GET') return send(res, 200, { workspace: d });
      if (req.method === 'DELETE') {
        workspaces.delete(parts[1]!);
        return send(res, 202, { workspace: { ...d, status: 'DELETING' } });
      }
      if (req.method === 'PUT') {
        Object.assign(d, {
          name: body.workspaceName ?? d.name,
          description: body.workspaceDescription ?? d.description,
          workspaceRoleArn: body.workspaceRoleArn ?? d.workspaceRoleArn,
          modified: now,
        });
        if (body.removeVpcConfiguration) delete d.vpcConfiguration;
        else if (body.vpcConfiguration) d.vpcConfiguration = body.vpcConfiguration;
        return send(res, 202, { workspace: d });
      }
    }
    if (parts[2] === 'authentication' && req.method === 'POST') {
      d.authentication = { providers: body.authenticationProviders };
      return send(res, 200, { authentication: d.authentication });
    }
    if (parts[2] === 'serviceaccounts') {
      if (parts.length === 3 && req.method === 'GET') return send(res, 200, { serviceAccounts: w.accounts.map((a) => ({ ...a, isDisabled: 'false' })), workspaceId: d.id });
      if (parts.length === 3 && req.method === 'POST') {
        const account = { id: String(w.accounts.length + 1), name: String(body.name), grafanaRole: String(body.grafanaRole) };
        w.accounts.push(account);
        return send(res, 200, { ...account, workspaceId: d.id });
      }
      if (parts[4] === 'tokens' && req.method === 'POST') {
        const token = { id: String(w.tokens.size + 100), accountId: parts[3]!, key: `glsa_${randomBytes(16).toString('hex')}` };
        w.tokens.set(token.id, token);
        return send(res, 200, { serviceAccountToken: { id: token.id, name: body.name, key: token.key }, serviceAccountId: parts[3], workspaceId: d.id });
      }
      if (parts[4] === 'tokens' && req.method === 'DELETE') {
        w.tokens.delete(parts[5]!);
        return send(res, 200, { tokenId: parts[5], serviceAccountId: parts[3], workspaceId: d.id });
      }
    }
    send(res, 400, { message: `the stand-in does not know ${req.method} ${req.path}` });
  };

  const grafanaApi = (w: Workspace, req: RecordedRequest, res: ServerResponse, url: URL) => {
    const token = req.authorization?.replace(/^Bearer /, '');
    if (![...w.tokens.values()].some((t) => t.key === token)) return send(res, 401, { message: 'invalid API key' });
    const body = (req.body ?? {}) as Json;
    const p = url.pathname;
    let m: RegExpMatchArray | null;
    if ((m = p.match(/^\/api\/datasources\/uid\/([^/]+)$/))) {
      const found = w.dataSources.get(m[1]!);
      if (req.method === 'GET') return found ? send(res, 200, { id: 1, ...found }) : send(res, 404, { message: 'Data source not found' });
      if (req.method === 'PUT' && found) {
        w.dataSources.set(m[1]!, body);
        return send(res, 200, { message: 'Datasource updated', datasource: body });
      }
    }
    if (p === '/api/datasources' && req.method === 'POST') {
      if (w.dataSources.has(String(body.uid))) return send(res, 409, { message: 'data source with the same uid already exists' });
      w.dataSources.set(String(body.uid), body);
      return send(res, 200, { message: 'Datasource added', datasource: body });
    }
    if ((m = p.match(/^\/api\/folders\/([^/]+)$/))) {
      const found = w.folders.get(m[1]!);
      if (req.method === 'GET') return found ? send(res, 200, found) : send(res, 404, { message: 'folder not found' });
      if (req.method === 'PUT' && found) return send(res, 200, Object.assign(found, { title: body.title }));
    }
    if (p === '/api/folders' && req.method === 'POST') {
      w.folders.set(String(body.uid), { uid: body.uid, title: body.title });
      return send(res, 200, { uid: body.uid, title: body.title });
    }
    if ((m = p.match(/^\/api\/dashboards\/uid\/([^/]+)$/))) {
      const found = w.dashboards.get(m[1]!);
      if (req.method === 'GET') return found ? send(res, 200, { dashboard: { ...found.dashboard, version: found.version }, meta: { folderUid: found.folderUid } }) : send(res, 404, { message: 'Dashboard not found' });
      if (req.method === 'DELETE' && found) {
        w.dashboards.delete(m[1]!);
        return send(res, 200, { title: found.dashboard.title, message: 'Dashboard deleted' });
      }
    }
    if (p === '/api/dashboards/db' && req.method === 'POST') {
      const dashboard = body.dashboard as Json;
      const uid = String(dashboard.uid);
      if (!w.folders.has(String(body.folderUid))) return send(res, 400, { message: 'folder not found' });
      const previous = w.dashboards.get(uid);
      if (previous && body.overwrite !== true) return send(res, 412, { status: 'name-exists' });
      w.dashboards.set(uid, { dashboard, folderUid: String(body.folderUid), version: (previous?.version ?? 0) + 1 });
      return send(res, 200, { uid, status: 'success', version: (previous?.version ?? 0) + 1 });
    }
    if (p === '/api/search' && req.method === 'GET') {
      const folder = url.searchParams.get('folderUIDs');
      return send(res, 200, [...w.dashboards.values()].filter((d) => !folder || d.folderUid === folder).map((d) => ({ uid: d.dashboard.uid, title: d.dashboard.title, tags: d.dashboard.tags, type: 'dash-db' })));
    }
    send(res, 400, { message: `the stand-in does not know ${req.method} ${req.path}` });
  };

  const server = createServer({ cert: readFileSync(SERVER_CERT), key: readFileSync(SERVER_KEY) }, async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'https://stand-in');
    const recorded: RecordedRequest = { method: req.method ?? 'GET', path: decodeURIComponent(url.pathname) + url.search, body: text ? JSON.parse(text) : undefined, authorization: req.headers.authorization };
    requests.push(recorded);
    // Every workspace's endpoint is this host: a Grafana call is for the workspace whose token it bears.
    if (url.pathname.startsWith('/api/')) {
      const token = recorded.authorization?.replace(/^Bearer /, '');
      const w = [...workspaces.values()].find((x) => [...x.tokens.values()].some((t) => t.key === token));
      return w ? grafanaApi(w, recorded, res, url) : send(res, 401, { message: 'invalid API key' });
    }
    controlPlane(recorded, res, url.pathname.split('/').filter(Boolean));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `https://${host}`,
    requests,
    liveTokens: () => [...workspaces.values()].flatMap((w) => [...w.tokens.values()].map((t) => t.key)),
    workspace: (id) => workspaces.get(id),
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
