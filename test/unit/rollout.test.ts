import { describe, expect, it } from 'vitest';
import { type RolloutState, rolledOut, rolloutKind } from '../../src/kube/rollout.ts';

const done: RolloutState = { hash: 'h1', generation: 3, observedGeneration: 3, replicas: 2, updated: 2, available: 2, total: 2 };

describe('rollout', () => {
  it('is done when the controller saw the generation and every replica is updated and available', () => {
    expect(rolledOut(done)).toBe(true);
    expect(rolledOut({ ...done, replicas: 0, updated: 0, available: 0, total: 0 })).toBe(true);
  });

  it('is not done while the controller lags, replicas are missing, or old pods remain', () => {
    expect(rolledOut({ ...done, observedGeneration: 2 })).toBe(false);
    expect(rolledOut({ ...done, updated: 1 })).toBe(false);
    expect(rolledOut({ ...done, available: 1 })).toBe(false);
    expect(rolledOut({ ...done, total: 3 })).toBe(false);
  });

  it('wants a rollout of the current template, not only a finished one', () => {
    expect(rolloutKind.diff(done, { namespace: 'readings', name: 'readings', hash: 'h2' }).changes).toEqual([
      { field: 'rolled out', from: 'h1', to: 'h2' },
    ]);
    expect(rolloutKind.diff({ ...done, available: 1 }, { namespace: 'readings', name: 'readings', hash: 'h1' }).changes).toEqual([
      { field: 'available', from: '1/2', to: '2/2' },
    ]);
    expect(rolloutKind.diff(done, { namespace: 'readings', name: 'readings', hash: 'h1' }).changes).toEqual([]);
  });
});
