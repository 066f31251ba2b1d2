import { UsageError } from '../core/errors.ts';

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** `--since`: a duration back from now (`30m`, `6h`, `2d`, `1w`) or an ISO 8601 instant (UTC unless it says otherwise). */
export function parseSince(text: string, now = new Date()): Date {
  const relative = /^(\d+)([mhdw])$/.exec(text.trim());
  if (relative) return new Date(now.getTime() - Number(relative[1]) * UNITS[relative[2]!]!);
  const iso = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(text.trim());
  if (iso) {
    const zoned = iso[4] || !iso[1] ? text.trim() : `${text.trim()}Z`;
    const at = Date.parse(iso[1] ? zoned.replace(' ', 'T') : `${text.trim()}T00:00:00Z`);
    if (!Number.isNaN(at)) return new Date(at);
  }
  throw new UsageError(`--since: "${text}" is neither a duration nor a time (expected e.g. 30m, 6h, 2d, 1w, 2026-11-30 or 2026-11-30T08:00:00Z)`);
}
