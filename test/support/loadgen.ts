import { execa } from 'execa';
import { buildServiceBinaries } from './service-bin.ts';

/** The final report of the project's load generator (service/internal/loadgen). */
export interface LoadReport {
  requests: number;
  errors: number;
  unexpected: number;
  byStatus: Record<string, number>;
  latencyMs: { p50: number; p90?: number; p99: number; max?: number };
}

/** The project's load generator at a steady rate against `target`, until stopped; valid requests only. */
export async function startLoadgen(target: string, rate: number): Promise<{ stop(): Promise<LoadReport> }> {
  const bin = await buildServiceBinaries();
  const child = execa(`${bin}/loadgen`, [], {
    env: { TARGET: target, RATE: String(rate), CONCURRENCY: '8', DURATION: '0', INVALID_RATIO: '0', TIMEOUT: '3s', REPORT_EVERY: '1h' },
    reject: false,
  });
  return {
    async stop() {
      child.kill('SIGTERM');
      const result = await child;
      const final = String(result.stdout).split('\n').filter(Boolean).map((l) => JSON.parse(l) as LoadReport & { final?: boolean }).find((r) => r.final);
      if (!final) throw new Error(`the load generator printed no final report: ${result.stderr}`);
      return final;
    },
  };
}
