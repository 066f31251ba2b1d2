import { deleteBefore, kindOrder, topoSort } from './graph.ts';
import {
  type AnyKind,
  type FieldChange,
  type Found,
  type Node,
  type ObserveContext,
  type Outputs,
  type Refs,
  UNKNOWN,
  type Val,
} from './model.ts';

export type Action = 'create' | 'update' | 'replace' | 'delete' | 'noop';

export interface PlannedChange<Ctx> {
  /** Unique within the plan: the node id, or `delete:<kind>:<ref>`. */
  key: string;
  /** The logical id (component tag). */
  id: string;
  kind: string;
  impl: AnyKind<Ctx>;
  action: Action;
  changes: FieldChange[];
  /** Why a replace or delete happens. */
  reason?: string;
  /** The existing resource, for update, replace, delete and noop. */
  found?: Found<unknown>;
  /** The node that wants it; absent for deletes of things no node describes. */
  node?: Node<Ctx>;
  /** Keys of changes that must finish before this one starts. */
  after: string[];
}

export interface Plan<Ctx> {
  changes: PlannedChange<Ctx>[];
}

/** Reads every kind once, however many resources or other kinds ask for it. */
export class Observation<Ctx> implements ObserveContext<Ctx> {
  readonly provider: Ctx;
  private readonly cache = new Map<AnyKind<Ctx>, Promise<Found<unknown>[]>>();
  private readonly reads = new Map<string, Promise<unknown>>();
  private readonly empty: boolean;
  /** `empty`: observe nothing and call nothing (planning without access to the provider). */
  constructor(provider: Ctx, options: { empty?: boolean } = {}) {
    this.provider = provider;
    this.empty = options.empty ?? false;
  }
  shared<T>(key: string, read: () => Promise<T>): Promise<T> {
    let pending = this.reads.get(key);
    if (!pending) {
      pending = read();
      this.reads.set(key, pending);
    }
    return pending as Promise<T>;
  }
  observe<State>(kind: AnyKind<Ctx>): Promise<Found<State>[]> {
    let pending = this.cache.get(kind);
    if (!pending) {
      pending = this.empty ? Promise.resolve([]) : kind.observe(this);
      this.cache.set(kind, pending);
    }
    return pending as Promise<Found<State>[]>;
  }
}

export interface PlanOptions<Ctx = unknown> {
  /** `kind/id`s that are wanted even though they are not among the nodes planned now (a partial run): never deleted as orphans. */
  keep?: ReadonlySet<string>;
  /** Kinds no node wants any more but that may still exist (a feature turned off): found ones are deleted. */
  alsoObserve?: readonly AnyKind<Ctx>[];
}

/** The changes that make what exists match `nodes`, in dependency order, deletes last. */
export async function planUp<Ctx>(nodes: readonly Node<Ctx>[], observation: Observation<Ctx>, options: PlanOptions<Ctx> = {}): Promise<Plan<Ctx>> {
  const ordered = topoSort(nodes);
  const found = await observeAll(nodes, observation, options.alsoObserve);
  const changes: PlannedChange<Ctx>[] = [];
  const planned = new Map<string, PlannedChange<Ctx>>();
  const wanted = new Set([...nodes.map((n) => `${n.kind.kind}/${n.id}`), ...(options.keep ?? [])]);

  for (const node of ordered) {
    const spec = node.spec(planRefs(planned));
    const [existing, ...duplicates] = closestFirst(node, found.get(node.kind)?.get(node.id) ?? [], spec);
    const change = existing ? compare(node, existing, spec) : create(node, spec);
    planned.set(node.id, change);
    changes.push(change);
    for (const extra of duplicates) changes.push(deletion(node.kind, extra, 'duplicate of an existing resource with the same tags'));
  }
  for (const [kind, byId] of found) {
    if (kind.condition) continue;
    for (const [id, list] of byId) {
      if (!wanted.has(`${kind.kind}/${id}`)) for (const extra of list) changes.push(deletion(kind, extra, 'no longer in the config'));
    }
  }
  orderDeletes(changes, nodes, planned);
  return { changes };
}

/** Deletes of everything the cluster owns among the kinds the nodes use, dependants first. */
export async function planDown<Ctx>(nodes: readonly Node<Ctx>[], observation: Observation<Ctx>, options: Pick<PlanOptions<Ctx>, 'alsoObserve'> = {}): Promise<Plan<Ctx>> {
  topoSort(nodes);
  const found = await observeAll(nodes, observation, options.alsoObserve);
  const changes: PlannedChange<Ctx>[] = [];
  for (const [kind, byId] of found) {
    if (!kind.condition) for (const list of byId.values()) for (const f of list) changes.push(deletion(kind, f));
  }
  orderDeletes(changes, nodes, new Map());
  return { changes };
}

export function isChange(change: PlannedChange<unknown>): boolean {
  return change.action !== 'noop';
}

async function observeAll<Ctx>(nodes: readonly Node<Ctx>[], observation: Observation<Ctx>, extra: readonly AnyKind<Ctx>[] = []): Promise<Map<AnyKind<Ctx>, Map<string, Found<unknown>[]>>> {
  const kinds = [...new Set([...nodes.map((n) => n.kind), ...extra])];
  const results = await Promise.all(kinds.map((kind) => observation.observe(kind)));
  const byKind = new Map<AnyKind<Ctx>, Map<string, Found<unknown>[]>>();
  kinds.forEach((kind, i) => {
    const byId = new Map<string, Found<unknown>[]>();
    // Kinds list the one to keep first when they find duplicates.
    for (const f of results[i] ?? []) {
      byId.set(f.id, [...(byId.get(f.id) ?? []), f]);
    }
    byKind.set(kind, byId);
  });
  return byKind;
}

function planRefs<Ctx>(planned: Map<string, PlannedChange<Ctx>>): Refs {
  return {
    get(id: string, output: string): Val {
      const change = planned.get(id);
      if (!change?.found || change.action === 'create' || change.action === 'replace' || !change.node) return UNKNOWN;
      const outputs: Outputs = change.node.kind.outputs(change.found);
      return outputs[output] ?? UNKNOWN;
    },
  };
}

/**
 * Of several resources for one node (left by two runs that raced), the one to keep is the one
 * that already matches the spec: a subnet in the VPC being kept, not its twin in the VPC being
 * deleted (replacing it would collide with that twin's address range). Ties keep the kind's order.
 */
function closestFirst<Ctx>(node: Node<Ctx>, candidates: readonly Found<unknown>[], spec: unknown): Found<unknown>[] {
  if (candidates.length < 2) return [...candidates];
  const distance = (f: Found<unknown>) => {
    const diff = node.kind.diff(f.state, spec);
    return diff.replace ? 2 : diff.changes.length > 0 ? 1 : 0;
  };
  return candidates.map((f, i) => ({ f, i, d: distance(f) })).sort((a, b) => a.d - b.d || a.i - b.i).map((x) => x.f);
}

function compare<Ctx>(node: Node<Ctx>, found: Found<unknown>, spec: unknown): PlannedChange<Ctx> {
  const diff = node.kind.diff(found.state, spec);
  const action = diff.replace ? 'replace' : diff.changes.length > 0 ? 'update' : 'noop';
  return { key: node.id, id: node.id, kind: node.kind.kind, impl: node.kind, action, changes: diff.changes, reason: diff.replace, found, node, after: [...node.dependsOn] };
}

function create<Ctx>(node: Node<Ctx>, spec: unknown): PlannedChange<Ctx> {
  const fields = node.kind.describe?.(spec) ?? {};
  const changes = Object.entries(fields).map(([field, to]) => ({ field, to }));
  return { key: node.id, id: node.id, kind: node.kind.kind, impl: node.kind, action: 'create', changes, node, after: [...node.dependsOn] };
}

function deletion<Ctx>(impl: AnyKind<Ctx>, found: Found<unknown>, reason?: string): PlannedChange<Ctx> {
  return { key: `delete:${impl.kind}:${found.ref}`, id: found.id, kind: impl.kind, impl, action: 'delete', changes: [], ...(reason ? { reason } : {}), found, after: [] };
}

/**
 * A delete waits for the deletes of every kind that depends on its kind, and for all creates and
 * updates (so routes move off a NAT gateway before it goes).
 */
function orderDeletes<Ctx>(changes: PlannedChange<Ctx>[], nodes: readonly Node<Ctx>[], planned: Map<string, PlannedChange<Ctx>>): void {
  const graphNodes = nodes.map((n) => ({ id: n.id, dependsOn: n.dependsOn, kind: n.kind.kind }));
  const before = deleteBefore(kindOrder(graphNodes), graphNodes);
  const deletes = changes.filter((c) => c.action === 'delete');
  for (const change of deletes) {
    const kinds = before.get(change.kind) ?? new Set<string>();
    change.after = [...planned.keys(), ...deletes.filter((d) => kinds.has(d.kind)).map((d) => d.key)];
  }
  const last = new Set(nodes.filter((n) => n.deleteLast).map((n) => `${n.kind.kind}/${n.id}`));
  for (const change of deletes.filter((c) => last.has(`${c.kind}/${c.id}`))) {
    // Everything else first, except deletes that must wait for this one (the key its objects are encrypted with).
    const waitsForIt = (d: PlannedChange<Ctx>) => before.get(d.kind)?.has(change.kind) ?? false;
    change.after = [...new Set([...change.after, ...deletes.filter((d) => d !== change && !waitsForIt(d) && !last.has(`${d.kind}/${d.id}`)).map((d) => d.key)])];
  }
}
