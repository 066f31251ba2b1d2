import { ActionError } from '../core/errors.ts';

/** One answer of Grafana's HTTP API. */
export interface GrafanaResponse {
  status: number;
  body: unknown;
}

/** The calls hybridctl makes to Grafana's HTTP API (https://grafana.com/docs/grafana/latest/developers/http_api/). */
export interface GrafanaHttp {
  get(path: string): Promise<GrafanaResponse>;
  send(method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<GrafanaResponse>;
}

/**
 * Grafana's HTTP API at `baseUrl` with a service account token (Bearer). Answers outside 2xx
 * other than 404 on a read are errors naming the call; the token never appears in them.
 */
export function grafanaHttp(baseUrl: string, token: string, signal?: AbortSignal): GrafanaHttp {
  const call = async (method: string, path: string, body?: unknown): Promise<GrafanaResponse> => {
    const response = await fetch(`${baseUrl.replace(/\/+$/, '')}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(signal ? { signal } : {}),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // Grafana answers some errors in plain text: kept as it is.
    }
    const missing = method === 'GET' && response.status === 404;
    if (!response.ok && !missing) {
      const message = (parsed as { message?: string } | undefined)?.message ?? String(text).slice(0, 200);
      throw new ActionError(`Grafana ${method} ${path}: ${response.status} ${message}`);
    }
    return { status: response.status, body: parsed };
  };
  return { get: (path) => call('GET', path), send: (method, path, body) => call(method, path, body) };
}
