import { formatAge, formatBytes } from '../../output/table.ts';

/** Small text helpers the panels share. */

const BARS = '▁▂▃▄▅▆▇█';

/** A sparkline of the values, scaled to their own maximum. */
export function sparkline(values: readonly number[]): string {
  const finite = values.map((v) => (Number.isFinite(v) ? v : 0));
  const max = Math.max(...finite, 0);
  return finite.map((v) => BARS[max > 0 ? Math.min(BARS.length - 1, Math.round((v / max) * (BARS.length - 1))) : 0]).join('');
}

/** How long ago, coarsely (45s, 12m, 3h, 2d), as `data ls` says it. */
export const age = (seconds: number) => formatAge(seconds * 1000);

export const bytes = formatBytes;

/** The clock time of an ISO instant (UTC, as every time hybridctl shows). */
export function clock(iso: string | undefined): string {
  return iso ? `${iso.slice(11, 19)}Z` : '-';
}

export const percent = (ratio: number) => `${(ratio * 100).toFixed(ratio < 0.01 && ratio > 0 ? 2 : 1)} %`;
export const ms = (seconds: number) => `${Math.round(seconds * 1000)} ms`;
