import type { HybridConfig } from '../core/config/schema.ts';
import type { PanelKey, Reading, StatusFrame } from './model.ts';
import { readSource, type Source } from './poller.ts';

const none: Reading<never> = {};

/** The frame the readings make, at `at`. */
export function frameOf(cluster: string, readings: ReadonlyMap<PanelKey, Reading<unknown>>, at = new Date()): StatusFrame {
  const get = <T>(key: PanelKey) => (readings.get(key) ?? none) as Reading<T>;
  return { cluster, at: at.toISOString(), sites: { aws: get('aws'), onprem: get('onprem') }, service: get('service'), traffic: get('traffic'), vpn: get('vpn'), data: get('data') };
}

/** Every source once, side by side, each with its own deadline: one frame (`--once`, `-o json`). */
export async function readOnce(sources: Record<PanelKey, Source<unknown>>, timeoutMs: number): Promise<Map<PanelKey, Reading<unknown>>> {
  const keys = Object.keys(sources) as PanelKey[];
  const readings = await Promise.all(keys.map((k) => readSource(sources[k], undefined, timeoutMs)));
  return new Map(keys.map((k, i) => [k, readings[i]!]));
}

/** After this long a lake signal is stale: three shipping intervals. */
export function staleAfterSeconds(config: HybridConfig): number {
  return 3 * config.monitoring.shipper.intervalMinutes * 60;
}
