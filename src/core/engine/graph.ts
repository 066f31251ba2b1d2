/** Dependency ordering for the engine: nodes by their ids, and kinds by the nodes they hold. */

export interface GraphNode {
  id: string;
  dependsOn: readonly string[];
}

/** Nodes in an order where every node comes after its dependencies; throws on unknown ids or cycles. */
export function topoSort<N extends GraphNode>(nodes: readonly N[]): N[] {
  const byId = new Map<string, N>();
  for (const node of nodes) {
    if (byId.has(node.id)) throw new Error(`duplicate node id "${node.id}"`);
    byId.set(node.id, node);
  }
  const order: N[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (node: N, trail: string[]): void => {
    const seen = state.get(node.id);
    if (seen === 'done') return;
    if (seen === 'visiting') throw new Error(`dependency cycle: ${[...trail, node.id].join(' -> ')}`);
    state.set(node.id, 'visiting');
    for (const dep of node.dependsOn) {
      const target = byId.get(dep);
      if (!target) throw new Error(`"${node.id}" depends on unknown "${dep}"`);
      visit(target, [...trail, node.id]);
    }
    state.set(node.id, 'done');
    order.push(node);
  };
  for (const node of nodes) visit(node, []);
  return order;
}

/**
 * Kinds ordered so that a kind comes after every kind its nodes depend on. Deleting walks this
 * backwards, which also orders things no node describes any more (orphans).
 */
export function kindOrder(nodes: readonly (GraphNode & { kind: string })[]): string[] {
  const kindOf = new Map(nodes.map((n) => [n.id, n.kind]));
  const deps = new Map<string, Set<string>>();
  for (const node of nodes) {
    const set = deps.get(node.kind) ?? new Set<string>();
    deps.set(node.kind, set);
    for (const dep of node.dependsOn) {
      const depKind = kindOf.get(dep);
      if (depKind && depKind !== node.kind) set.add(depKind);
    }
  }
  return topoSort([...deps].map(([id, set]) => ({ id, dependsOn: [...set] }))).map((k) => k.id);
}

/** For each kind, the kinds that must be deleted before it (those that depend on it, transitively). */
export function deleteBefore(order: readonly string[], nodes: readonly (GraphNode & { kind: string })[]): Map<string, Set<string>> {
  const kindOf = new Map(nodes.map((n) => [n.id, n.kind]));
  const dependants = new Map<string, Set<string>>(order.map((k) => [k, new Set<string>()]));
  for (const node of nodes) {
    for (const dep of node.dependsOn) {
      const depKind = kindOf.get(dep);
      if (depKind && depKind !== node.kind) dependants.get(depKind)?.add(node.kind);
    }
  }
  // Close transitively, walking from the most dependent kinds down.
  for (const kind of [...order].reverse()) {
    const direct = dependants.get(kind) ?? new Set<string>();
    for (const d of [...direct]) for (const t of dependants.get(d) ?? []) direct.add(t);
  }
  return dependants;
}
