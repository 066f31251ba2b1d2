import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { SiteName } from '../core/config/schema.ts';

/** What the probe saw of the public entry while a failover ran. */
export interface ProbeReport {
  url: string;
  sent: number;
  failed: number;
  /** The longest time without a good answer, from one success to the next (ms). */
  longestGapMs: number;
  /** When each site first answered, in ms from the probe's start (the `X-Site` header). */
  firstAnswer: Partial<Record<SiteName, number>>;
  /** Latency of good answers (ms). */
  p50Ms: number;
  p99Ms: number;
  /** The last failure's cause, when there was one. */
  lastError?: string;
}

export interface Probe {
  stop(): Promise<ProbeReport>;
}

/**
 * GETs `url` at a steady rate and counts what fails (a connection error, a timeout or a status
 * other than 2xx). Each request opens a connection of its own, as a new client would: a kept-alive
 * connection stays with the target it was opened to, so it would not see where new ones go.
 */
export function startProbe(url: string, ratePerSecond: number, timeoutMs = 2000): Probe {
  const started = performance.now();
  const latencies: number[] = [];
  const firstAnswer: ProbeReport['firstAnswer'] = {};
  let sent = 0;
  let failed = 0;
  let lastError: string | undefined;
  let lastGood = started;
  let longestGapMs = 0;
  const inFlight = new Set<Promise<void>>();

  const once = async () => {
    const at = performance.now();
    sent++;
    try {
      const site = await get(url, timeoutMs);
      const now = performance.now();
      latencies.push(now - at);
      longestGapMs = Math.max(longestGapMs, now - lastGood);
      lastGood = now;
      if ((site === 'aws' || site === 'onprem') && firstAnswer[site] === undefined) firstAnswer[site] = Math.round(now - started);
    } catch (error) {
      failed++;
      lastError = error instanceof Error ? error.message : String(error);
    }
  };
  const timer = setInterval(() => {
    const request = once().finally(() => inFlight.delete(request));
    inFlight.add(request);
  }, 1000 / ratePerSecond);

  return {
    async stop() {
      clearInterval(timer);
      await Promise.all(inFlight);
      longestGapMs = Math.max(longestGapMs, performance.now() - lastGood);
      const sorted = latencies.sort((a, b) => a - b);
      const quantile = (q: number) => Math.round((sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0) * 10) / 10;
      return { url, sent, failed, longestGapMs: Math.round(longestGapMs), firstAnswer, p50Ms: quantile(0.5), p99Ms: quantile(0.99), ...(lastError ? { lastError } : {}) };
    },
  };
}

/** One GET on a new connection; the answering site (`X-Site`) when it succeeds. */
function get(url: string, timeoutMs: number): Promise<string | undefined> {
  const send = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, { agent: false, timeout: timeoutMs, headers: { 'user-agent': 'hybridctl-failover-probe', connection: 'close' } }, (response) => {
      response.resume();
      response.on('end', () => {
        const status = response.statusCode ?? 0;
        if (status < 200 || status > 299) reject(new Error(`HTTP ${status}`));
        else resolve(response.headers['x-site'] as string | undefined);
      });
      response.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}
