import type { KubeClient } from '../kube/client.ts';
import { MONITORING_NAMESPACE } from '../telemetry/prometheus-config.ts';

/** A site's Prometheus, read through its API server's service proxy (the only way in from outside the cluster). */
export interface PrometheusReader {
  /** An instant query's series: labels and value. */
  query(expr: string, signal?: AbortSignal): Promise<{ metric: Record<string, string>; value: number }[]>;
  /** A range query's series over the last `minutes`, one point per `stepS`. */
  range(expr: string, minutes: number, stepS: number, signal?: AbortSignal): Promise<{ metric: Record<string, string>; values: number[] }[]>;
}

interface ApiAnswer<T> {
  status: string;
  error?: string;
  data: { result: T[] };
}

export function prometheusReader(kube: KubeClient): PrometheusReader {
  const get = async <T>(path: string, signal?: AbortSignal): Promise<T[]> => {
    const answer = JSON.parse(await kube.proxyGet(MONITORING_NAMESPACE, 'prometheus:web', path, signal)) as ApiAnswer<T>;
    if (answer.status !== 'success') throw new Error(`Prometheus: ${answer.error ?? answer.status}`);
    return answer.data.result;
  };
  return {
    async query(expr, signal) {
      const result = await get<{ metric: Record<string, string>; value: [number, string] }>(`api/v1/query?query=${encodeURIComponent(expr)}`, signal);
      return result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
    },
    async range(expr, minutes, stepS, signal) {
      const end = Math.floor(Date.now() / 1000);
      const path = `api/v1/query_range?query=${encodeURIComponent(expr)}&start=${end - minutes * 60}&end=${end}&step=${stepS}`;
      const result = await get<{ metric: Record<string, string>; values: [number, string][] }>(path, signal);
      return result.map((r) => ({ metric: r.metric, values: r.values.map((v) => Number(v[1])) }));
    },
  };
}
