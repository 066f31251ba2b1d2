/**
 * The observe-then-act model. A resource kind knows how to find what exists, compare it with
 * what should exist, and make the difference; a node is one resource the cluster wants.
 */

/** A value that only exists once a dependency has been created: plans show it, apply never sees it. */
export class Unknown {
  static readonly value = new Unknown();
  private constructor() {}
  toJSON(): string {
    return '(known after apply)';
  }
  toString(): string {
    return '(known after apply)';
  }
}
export const UNKNOWN = Unknown.value;
export type Val<T = string> = T | Unknown;

export function isUnknown(value: unknown): value is Unknown {
  return value === UNKNOWN;
}

/** The strings a resource hands its dependants (ids, ARNs, addresses). */
export type Outputs = Readonly<Record<string, string>>;

export interface FieldChange {
  field: string;
  from?: unknown;
  to: unknown;
}

/** What diff() says: nothing to do, change these fields in place, or replace (with why). */
export type Difference = { changes: FieldChange[]; replace?: string };

/** One existing thing the cluster owns, as observed. `id` is the logical id it is tagged with. */
export interface Found<State> {
  id: string;
  /** The provider's own identifier (vpc-0abc…, an ARN, a bucket name). */
  ref: string;
  state: State;
}

export interface ResourceKind<Spec, State, Ctx> {
  /** Short, stable name shown to users: `vpc`, `subnet`, `s3-bucket`. */
  readonly kind: string;
  /** Everything of this kind the cluster owns, from as few reads as the provider allows. */
  observe(ctx: ObserveContext<Ctx>): Promise<Found<State>[]>;
  diff(state: State, spec: Spec): Difference;
  create(spec: Spec, ctx: ActContext<Ctx>): Promise<Found<State>>;
  update(found: Found<State>, spec: Spec, changes: FieldChange[], ctx: ActContext<Ctx>): Promise<Found<State>>;
  destroy(found: Found<State>, ctx: ActContext<Ctx>): Promise<void>;
  outputs(found: Found<State>): Outputs;
  /** The fields of a spec worth showing in a plan for a create. */
  describe?(spec: Spec): Record<string, unknown>;
  /** A condition waited for (a rollout), not a thing: nothing to delete when it is no longer wanted. */
  readonly condition?: boolean;
}

/** The engine handles kinds of every spec and state type alike. */
export type AnyKind<Ctx> = ResourceKind<any, any, Ctx>;

/** The outputs of a node's dependencies; values are UNKNOWN while planning a dependency's creation. */
export interface Refs {
  get(id: string, output: string): Val;
}

export interface Node<Ctx> {
  /** Logical id, unique in the stack; also the component tag value. */
  id: string;
  kind: AnyKind<Ctx>;
  dependsOn: string[];
  spec(refs: Refs): unknown;
  /** Deleted after everything that does not need it gone first (the bucket holding the state: if any delete fails, the state is still there for the re-run). */
  deleteLast?: boolean;
}

export interface ObserveContext<Ctx> {
  provider: Ctx;
  /** Observe another kind (memoised: each kind is read once per run). */
  observe<State>(kind: ResourceKind<any, State, Ctx>): Promise<Found<State>[]>;
  /** A read several kinds need (KMS aliases, say), made once per run. */
  shared<T>(key: string, read: () => Promise<T>): Promise<T>;
}

export interface ActContext<Ctx> {
  provider: Ctx;
  id: string;
  /** Why a destroy happens: the thing left the config (`up`), or everything goes (`down`). */
  deleting?: 'orphan' | 'down';
  /** Tell the user what a long step is doing or waiting for. */
  report(message: string): void;
  signal: AbortSignal;
}

/** The value of a dependency's output at apply time, when every dependency exists. */
export function known<T>(value: Val<T>): T {
  if (isUnknown(value)) throw new Error('engine: a dependency output is still unknown at apply time');
  return value;
}
