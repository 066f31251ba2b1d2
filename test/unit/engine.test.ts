import { describe, expect, it } from 'vitest';
import { type EngineEvent, execute } from '../../src/core/engine/execute.ts';
import { kindOrder } from '../../src/core/engine/graph.ts';
import { type Found, type Node, type ResourceKind, UNKNOWN, isUnknown, known } from '../../src/core/engine/model.ts';
import { Observation, planDown, planUp } from '../../src/core/engine/plan.ts';

/** An in-memory provider: a fake for the engine's logic, not for any real system. */
interface World {
  things: Map<string, { kind: string; id: string; ref: string; value: string; parent?: string }>;
  calls: string[];
  failOn?: string;
}

let counter = 0;
function fakeKind(name: string): ResourceKind<{ value: string; parent?: unknown }, { value: string; parent?: string }, World> {
  return {
    kind: name,
    async observe({ provider }) {
      provider.calls.push(`observe ${name}`);
      return [...provider.things.values()].filter((t) => t.kind === name).map((t) => ({ id: t.id, ref: t.ref, state: { value: t.value, parent: t.parent } }));
    },
    diff(state, spec) {
      const changes = [];
      if (state.value !== spec.value) changes.push({ field: 'value', from: state.value, to: spec.value });
      if (spec.parent !== undefined && (isUnknown(spec.parent) || state.parent !== spec.parent)) return { changes: [{ field: 'parent', from: state.parent, to: spec.parent }], replace: 'parent changed' };
      return { changes };
    },
    async create(spec, ctx) {
      if (ctx.provider.failOn === ctx.id) throw new Error(`boom ${ctx.id}`);
      const ref = `${name}-${++counter}`;
      const parent = spec.parent === undefined ? undefined : known(spec.parent as string);
      ctx.provider.things.set(ref, { kind: name, id: ctx.id, ref, value: spec.value, parent });
      ctx.provider.calls.push(`create ${ctx.id}`);
      return { id: ctx.id, ref, state: { value: spec.value, parent } };
    },
    async update(found, spec, _changes, ctx) {
      const thing = ctx.provider.things.get(found.ref);
      if (thing) thing.value = spec.value;
      ctx.provider.calls.push(`update ${ctx.id}`);
      return { ...found, state: { ...found.state, value: spec.value } };
    },
    async destroy(found, ctx) {
      ctx.provider.things.delete(found.ref);
      ctx.provider.calls.push(`destroy ${found.id}`);
    },
    outputs(found: Found<{ value: string }>) {
      return { ref: found.ref, value: found.state.value };
    },
  };
}

const network = fakeKind('network');
const subnet = fakeKind('subnet');
const route = fakeKind('route');

function stack(values: Record<string, string> = {}): Node<World>[] {
  return [
    { id: 'net', kind: network, dependsOn: [], spec: () => ({ value: values.net ?? 'n1' }) },
    { id: 'sub-a', kind: subnet, dependsOn: ['net'], spec: (refs) => ({ value: values['sub-a'] ?? 'a', parent: refs.get('net', 'ref') }) },
    { id: 'rt', kind: route, dependsOn: ['sub-a'], spec: (refs) => ({ value: values.rt ?? 'r', parent: refs.get('sub-a', 'ref') }) },
  ];
}

const world = (): World => ({ things: new Map(), calls: [] });

async function converge(w: World, nodes: Node<World>[], events: EngineEvent[] = []) {
  const plan = await planUp(nodes, new Observation(w));
  return { plan, outcome: await execute(plan, w, { onEvent: (e) => events.push(e) }) };
}

describe('planUp', () => {
  it('plans creates in dependency order with unknown outputs shown as such', async () => {
    const plan = await planUp(stack(), new Observation(world()));
    expect(plan.changes.map((c) => `${c.action} ${c.id}`)).toEqual(['create net', 'create sub-a', 'create rt']);
  });

  it('observes each kind once, however many nodes use it', async () => {
    const w = world();
    const twoSubnets = [...stack(), { id: 'sub-b', kind: subnet, dependsOn: ['net'], spec: () => ({ value: 'b' }) }];
    await planUp(twoSubnets, new Observation(w));
    expect(w.calls.filter((c) => c.startsWith('observe')).sort()).toEqual(['observe network', 'observe route', 'observe subnet']);
  });

  it('an empty observation makes no call at all', async () => {
    const w = world();
    const plan = await planUp(stack(), new Observation(w, { empty: true }));
    expect(plan.changes.every((c) => c.action === 'create')).toBe(true);
    expect(w.calls).toEqual([]);
  });

  it('finds nothing to do after converging', async () => {
    const w = world();
    await converge(w, stack());
    const again = await planUp(stack(), new Observation(w));
    expect(again.changes.map((c) => c.action)).toEqual(['noop', 'noop', 'noop']);
  });

  it('updates in place, and replaces dependants whose inputs become unknown', async () => {
    const w = world();
    await converge(w, stack());
    expect((await planUp(stack({ rt: 'r2' }), new Observation(w))).changes.map((c) => c.action)).toEqual(['noop', 'noop', 'update']);
    // Replacing the subnet makes the route's parent unknown: the plan says so.
    const plan = await planUp(
      stack().map((n) => (n.id === 'sub-a' ? { ...n, spec: () => ({ value: 'a', parent: UNKNOWN }) } : n)),
      new Observation(w),
    );
    expect(plan.changes.map((c) => c.action)).toEqual(['noop', 'replace', 'replace']);
  });

  it('deletes what a kind no node uses any more left behind, when told to look (a feature turned off)', async () => {
    const w = world();
    await converge(w, stack());
    const dns = fakeKind('dns');
    w.things.set('rec', { kind: 'dns', id: 'record', ref: 'rec', value: 'x' });
    const unaware = await planUp(stack(), new Observation(w));
    expect(unaware.changes.filter((c) => c.action === 'delete')).toEqual([]);
    const plan = await planUp(stack(), new Observation(w), { alsoObserve: [dns] });
    expect(plan.changes.filter((c) => c.action === 'delete').map((c) => [c.id, c.reason])).toEqual([['record', 'no longer in the config']]);
    const down = await planDown(stack(), new Observation(w), { alsoObserve: [dns] });
    expect(down.changes.map((c) => c.id)).toContain('record');
  });

  it('deletes what no node describes any more, and duplicates of what one does', async () => {
    const w = world();
    await converge(w, stack());
    w.things.set('extra', { kind: 'subnet', id: 'sub-gone', ref: 'extra', value: 'x' });
    w.things.set('dup', { kind: 'network', id: 'net', ref: 'dup', value: 'n1' });
    const plan = await planUp(stack(), new Observation(w));
    const deletes = plan.changes.filter((c) => c.action === 'delete');
    expect(deletes.map((c) => [c.id, c.found?.ref, c.reason])).toEqual([
      ['net', 'dup', 'duplicate of an existing resource with the same tags'],
      ['sub-gone', 'extra', 'no longer in the config'],
    ]);
    // Orphans go after every create and update, dependants' kinds first.
    const netDelete = deletes.find((c) => c.id === 'net');
    expect(netDelete?.after).toEqual(expect.arrayContaining(['net', 'sub-a', 'rt', 'delete:subnet:extra']));
  });

  it('of duplicates left by a race, keeps the child that sits in the parent being kept', async () => {
    const w = world();
    // Two runs raced: two networks, each with its own subnet; the kind lists the second network's subnet first.
    w.things.set('n-kept', { kind: 'network', id: 'net', ref: 'n-kept', value: 'n1' });
    w.things.set('n-twin', { kind: 'network', id: 'net', ref: 'n-twin', value: 'n1' });
    w.things.set('s-twin', { kind: 'subnet', id: 'sub-a', ref: 's-twin', value: 'a', parent: 'n-twin' });
    w.things.set('s-kept', { kind: 'subnet', id: 'sub-a', ref: 's-kept', value: 'a', parent: 'n-kept' });
    const plan = await planUp(stack(), new Observation(w));
    expect(plan.changes.map((c) => `${c.action} ${c.id} ${c.found?.ref ?? ''}`)).toEqual([
      'noop net n-kept',
      'delete net n-twin',
      'noop sub-a s-kept',
      'delete sub-a s-twin',
      'create rt ',
    ]);
  });

  it('never deletes a condition, in up or in down', async () => {
    const w = world();
    const rollout = { ...fakeKind('rollout'), condition: true };
    w.things.set('r1', { kind: 'rollout', id: 'rollout/old', ref: 'r1', value: 'done' });
    const withRollout = [...stack(), { id: 'rollout/new', kind: rollout, dependsOn: ['rt'], spec: () => ({ value: 'done' }) }];
    const up = await planUp(withRollout, new Observation(w));
    expect(up.changes.map((c) => `${c.action} ${c.id}`)).toEqual(['create net', 'create sub-a', 'create rt', 'create rollout/new']);
    const down = await planDown([{ id: 'rollout/old', kind: rollout, dependsOn: [], spec: () => ({ value: 'done' }) }], new Observation(w));
    expect(down.changes).toEqual([]);
  });

  it('rejects cycles and unknown dependencies', async () => {
    const cyclic: Node<World>[] = [
      { id: 'a', kind: network, dependsOn: ['b'], spec: () => ({ value: '' }) },
      { id: 'b', kind: network, dependsOn: ['a'], spec: () => ({ value: '' }) },
    ];
    await expect(planUp(cyclic, new Observation(world()))).rejects.toThrow('dependency cycle: a -> b -> a');
    await expect(planUp([{ id: 'a', kind: network, dependsOn: ['x'], spec: () => ({ value: '' }) }], new Observation(world()))).rejects.toThrow(
      '"a" depends on unknown "x"',
    );
  });
});

describe('execute', () => {
  it('creates dependencies first and hands their outputs on', async () => {
    const w = world();
    await converge(w, stack());
    expect(w.calls.filter((c) => !c.startsWith('observe'))).toEqual(['create net', 'create sub-a', 'create rt']);
    const things = [...w.things.values()];
    const net = things.find((t) => t.id === 'net');
    expect(things.find((t) => t.id === 'sub-a')?.parent).toBe(net?.ref);
  });

  it('skips only what depends on a failure', async () => {
    const w = world();
    w.failOn = 'sub-a';
    const nodes = [...stack(), { id: 'other', kind: network, dependsOn: [], spec: () => ({ value: 'o' }) }];
    const events: EngineEvent[] = [];
    const { outcome } = await converge(w, nodes, events);
    expect(outcome.failed.map((f) => f.change.id)).toEqual(['sub-a']);
    expect(outcome.skipped).toEqual(['rt']);
    expect([...outcome.done.keys()].sort()).toEqual(['net', 'other']);
    expect(events.find((e) => e.type === 'skipped')).toMatchObject({ key: 'rt', reason: 'a change it depends on did not complete' });
  });

  it('starts nothing new once aborted', async () => {
    const w = world();
    const plan = await planUp(stack(), new Observation(w));
    const controller = new AbortController();
    controller.abort();
    const outcome = await execute(plan, w, { signal: controller.signal });
    expect(outcome.done.size).toBe(0);
    expect(w.things.size).toBe(0);
  });

  it('down deletes dependants before what they depend on', async () => {
    const w = world();
    await converge(w, stack());
    w.calls.length = 0;
    const plan = await planDown(stack(), new Observation(w));
    await execute(plan, w, { concurrency: 8 });
    expect(w.calls.filter((c) => c.startsWith('destroy'))).toEqual(['destroy rt', 'destroy sub-a', 'destroy net']);
    expect(w.things.size).toBe(0);
  });
});

describe('deleteLast', () => {
  // A store (the state bucket) that nothing depends on, next to the stack, and the key it is encrypted with.
  const key = fakeKind('key');
  const store = fakeKind('store');
  const withStore = (): Node<World>[] => [
    ...stack(),
    { id: 'key', kind: key, dependsOn: [], spec: () => ({ value: 'k' }) },
    { id: 'state', kind: store, dependsOn: ['key'], spec: () => ({ value: 's' }), deleteLast: true },
  ];

  it('is deleted after everything that does not need it gone first, and what it needs after it', async () => {
    const w = world();
    await converge(w, withStore());
    w.calls.length = 0;
    await execute(await planDown(withStore(), new Observation(w)), w, { concurrency: 8 });
    const destroys = w.calls.filter((c) => c.startsWith('destroy'));
    expect(destroys.slice(-2)).toEqual(['destroy state', 'destroy key']);
    expect(destroys.slice(0, 3)).toEqual(['destroy rt', 'destroy sub-a', 'destroy net']);
  });

  it('stays when another delete fails, so the state is there for the re-run', async () => {
    const w = world();
    await converge(w, withStore());
    const failing = subnet.destroy;
    subnet.destroy = async () => {
      throw new Error('still in use');
    };
    try {
      const outcome = await execute(await planDown(withStore(), new Observation(w)), w, { concurrency: 8 });
      expect(outcome.failed.map((f) => f.change.id)).toEqual(['sub-a']);
      expect([...w.things.values()].map((t) => t.id).sort()).toEqual(['key', 'net', 'state', 'sub-a']);
    } finally {
      subnet.destroy = failing;
    }
  });
});

describe('kindOrder', () => {
  it('orders kinds by the dependencies of their nodes', () => {
    expect(kindOrder(stack().map((n) => ({ id: n.id, dependsOn: n.dependsOn, kind: n.kind.kind })))).toEqual(['network', 'subnet', 'route']);
  });
});
