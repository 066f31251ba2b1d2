import { describe, expect, it } from 'vitest';
import { planSync } from '../../src/state/sync-plan.ts';

const m = (entries: Record<string, string>) => new Map(Object.entries(entries));

describe('state sync between the state directory and the bucket', () => {
  it('sends a change across from the side that made it, and leaves equal files alone', () => {
    expect(planSync(m({ a: '2', b: '1' }), m({ a: '1', b: '1' }), m({ a: '1', b: '1' }))).toEqual({ push: ['a'], pull: [], conflicts: [] });
    expect(planSync(m({ a: '1' }), m({ a: '2' }), m({ a: '1' }))).toEqual({ push: [], pull: ['a'], conflicts: [] });
  });

  it('carries deletions and new files both ways', () => {
    expect(planSync(m({}), m({ a: '1' }), m({ a: '1' }))).toEqual({ push: ['a'], pull: [], conflicts: [] });
    expect(planSync(m({ a: '1' }), m({}), m({ a: '1' }))).toEqual({ push: [], pull: ['a'], conflicts: [] });
    expect(planSync(m({ new: '1' }), m({}), m({}))).toEqual({ push: ['new'], pull: [], conflicts: [] });
  });

  it('takes the bucket on a new machine and uploads a laptop state to an empty bucket', () => {
    expect(planSync(m({}), m({ a: '1', b: '2' }), m({}))).toEqual({ push: [], pull: ['a', 'b'], conflicts: [] });
    expect(planSync(m({ a: '1' }), m({}), m({}))).toEqual({ push: ['a'], pull: [], conflicts: [] });
  });

  it('calls it a conflict when both sides changed a file differently, or hold different files with no common past', () => {
    expect(planSync(m({ a: '2' }), m({ a: '3' }), m({ a: '1' }))).toEqual({ push: [], pull: [], conflicts: ['a'] });
    expect(planSync(m({ a: '2' }), m({ a: '3' }), m({}))).toEqual({ push: [], pull: [], conflicts: ['a'] });
    expect(planSync(m({}), m({ a: '3' }), m({ a: '1' }))).toEqual({ push: [], pull: [], conflicts: ['a'] });
  });
});
