import { isChange, type Action, type Plan, type PlannedChange } from '../core/engine/plan.ts';
import { messageOf } from '../core/errors.ts';
import type { Paint } from './terminal.ts';

export interface SitePlanView {
  site: string;
  title: string;
  notes: string[];
  plan: Plan<unknown>;
  /** The site could not be observed. */
  error?: unknown;
}

const SYMBOL: Record<Action, string> = { create: '+', update: '~', replace: '±', delete: '-', noop: ' ' };
const COLOR: Record<Action, 'green' | 'yellow' | 'magenta' | 'red' | 'gray'> = { create: 'green', update: 'yellow', replace: 'magenta', delete: 'red', noop: 'gray' };

export function summarize(changes: readonly PlannedChange<unknown>[]): Record<Action, number> {
  const counts: Record<Action, number> = { create: 0, update: 0, replace: 0, delete: 0, noop: 0 };
  for (const c of changes) counts[c.action]++;
  return counts;
}

/** A site's title, its notes, and why it could not be observed (`failure` says what that means here). */
export function siteHeader({ title, notes, error }: SitePlanView, paint: Paint, failure: string): string[] {
  return [
    paint('bold', title),
    ...notes.map((note) => `  ${paint('yellow', `note: ${note}`)}`),
    ...(error !== undefined ? [paint('red', `  ✖ ${failure}: ${messageOf(error).replace(/\n/g, '\n  ')}`)] : []),
  ];
}

export function renderPlanText(sites: readonly SitePlanView[], paint: Paint): string {
  const lines: string[] = [];
  for (const site of sites) {
    const { plan, error } = site;
    lines.push(...siteHeader(site, paint, 'cannot plan this site'));
    if (error !== undefined) {
      lines.push('');
      continue;
    }
    const changes = plan.changes.filter(isChange);
    if (changes.length === 0) lines.push(plan.changes.length > 0 ? '  no changes: everything matches the config' : '  nothing here');
    for (const change of changes) lines.push(...renderChange(change, paint));
    const counts = summarize(plan.changes);
    lines.push(
      `  ${counts.create} to create, ${counts.update} to update, ${counts.replace} to replace, ${counts.delete} to delete; ${counts.noop} unchanged`,
      '',
    );
  }
  return lines.join('\n');
}

function renderChange(change: PlannedChange<unknown>, paint: Paint): string[] {
  const head = `  ${paint(COLOR[change.action], `${SYMBOL[change.action]} ${change.action.padEnd(7)}`)} ${change.kind.padEnd(21)} ${change.id}`;
  const ref = change.found && change.action !== 'create' ? paint('gray', ` (${change.found.ref})`) : '';
  const reason = change.reason && change.action !== 'delete' ? paint('gray', ` because ${change.reason}`) : change.reason ? paint('gray', ` — ${change.reason}`) : '';
  const fields = change.changes.flatMap((f) => {
    if (Array.isArray(f.to) && change.action === 'create' && f.to.length > 1) return [`        ${f.field}:`, ...f.to.map((item) => `          - ${show(item)}`)];
    const value = 'from' in f && change.action !== 'create' ? `${show(f.from)} → ${show(f.to)}` : show(f.to);
    return [`        ${f.field}: ${value}`];
  });
  return [head + ref + reason, ...fields];
}

function show(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value)?.replaceAll('"(known after apply)"', '(known after apply)');
  if (text === undefined) return '(none)';
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}

export function planJson(sites: readonly SitePlanView[]) {
  return {
    sites: sites.map(({ site, notes, plan, error }) => ({
      site,
      notes,
      ...(error !== undefined ? { error: messageOf(error) } : {}),
      changes: plan.changes.filter(isChange).map((c) => ({
        action: c.action,
        kind: c.kind,
        id: c.id,
        ...(c.found ? { ref: c.found.ref } : {}),
        ...(c.reason ? { reason: c.reason } : {}),
        fields: c.changes,
      })),
      summary: summarize(plan.changes),
    })),
  };
}
