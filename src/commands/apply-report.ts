import type { Outcome } from '../core/engine/execute.ts';
import type { Action } from '../core/engine/plan.ts';
import { messageOf } from '../core/errors.ts';
import { type Paint, formatDuration } from '../output/terminal.ts';
import type { SitePlan } from '../pipeline.ts';

export interface ApplyReport {
  counts: Record<Action, number>;
  failed: { site: string; kind: string; id: string; error: string }[];
  skipped: number;
  seconds: number;
}

export function applyReport(plans: readonly SitePlan[], outcomes: readonly Outcome[], ms: number): ApplyReport {
  const counts: Record<Action, number> = { create: 0, update: 0, replace: 0, delete: 0, noop: 0 };
  const failed: ApplyReport['failed'] = [];
  let skipped = 0;
  for (const p of plans) if (p.error !== undefined) failed.push({ site: p.site, kind: 'site', id: p.site, error: messageOf(p.error) });
  outcomes.forEach((outcome, i) => {
    for (const action of outcome.done.values()) counts[action]++;
    skipped += outcome.skipped.length;
    for (const f of outcome.failed) failed.push({ site: plans[i]?.site ?? '', kind: f.change.kind, id: f.change.id, error: messageOf(f.error) });
  });
  return { counts, failed, skipped, seconds: Math.round(ms) / 1000 };
}

export function renderApplyReport(report: ApplyReport, paint: Paint, interrupted: boolean): string {
  const { counts } = report;
  const lines = [
    '',
    `${counts.create} created, ${counts.update} updated, ${counts.replace} replaced, ${counts.delete} deleted` +
      `${report.failed.length ? `, ${report.failed.length} failed` : ''}${report.skipped ? `, ${report.skipped} skipped` : ''} in ${formatDuration(report.seconds * 1000)}`,
  ];
  for (const f of report.failed) lines.push(paint('red', `✖ ${f.kind} ${f.id}: ${f.error.replace(/\n/g, '\n    ')}`));
  if (interrupted) lines.push(paint('yellow', 'interrupted: re-run the same command to finish; it picks up where this stopped'));
  else if (report.failed.length) lines.push('fix the cause and re-run: finished work is kept and not redone');
  return `${lines.join('\n')}\n`;
}
