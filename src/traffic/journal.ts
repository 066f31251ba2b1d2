import type { SiteName } from '../core/config/schema.ts';
import type { StateDir } from '../core/state.ts';

/** A failover in progress: what a re-run after an interruption finishes. */
export const JOURNAL_FILE = 'traffic/failover.json';
/** The last finished failover's report, for `status`. */
export const LAST_FAILOVER_FILE = 'traffic/last-failover.json';

export interface FailoverJournal {
  from: SiteName;
  to: SiteName;
  startedAt: string;
  /** When the listener (and DNS) moved: the drain is counted from here, also across a re-run. */
  switchedAt?: string;
}

export async function readJournal(state: StateDir): Promise<FailoverJournal | undefined> {
  const text = await state.read(JOURNAL_FILE);
  return text ? (JSON.parse(text) as FailoverJournal) : undefined;
}

export async function writeJournal(state: StateDir, journal: FailoverJournal): Promise<void> {
  await state.write(JOURNAL_FILE, `${JSON.stringify(journal, null, 2)}\n`);
}

/** Ends a failover: its report becomes the last one (unless it had nothing to do), the journal goes. */
export async function finishJournal(state: StateDir, report: unknown): Promise<void> {
  if (report !== undefined) await state.write(LAST_FAILOVER_FILE, `${JSON.stringify(report, null, 2)}\n`);
  await state.remove(JOURNAL_FILE);
}
