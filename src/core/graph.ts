import { invalid } from './errors.js';

/** A node of a dependency graph: its name and the names it waits for. */
export interface GraphNode {
  readonly name: string;
  readonly after: readonly string[];
}

/**
 * The nodes in an order where every node comes after the nodes it waits for, keeping the
 * given order where the dependencies allow. Refuses (`invalid`) a cycle, naming it:
 * `the tasks make a cycle: a after b after a`. Every name in `after` must be a node.
 */
export function dependencyOrder<N extends GraphNode>(nodes: readonly N[]): N[] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const state = new Map<string, 'visiting' | 'done'>();
  const order: N[] = [];
  // Iterative depth-first search, so a long chain cannot overflow the stack.
  for (const root of nodes) {
    if (state.has(root.name)) continue;
    const path: { node: N; next: number }[] = [{ node: root, next: 0 }];
    state.set(root.name, 'visiting');
    while (path.length > 0) {
      const top = path[path.length - 1] as { node: N; next: number };
      const dep = top.node.after[top.next];
      if (dep === undefined) {
        state.set(top.node.name, 'done');
        order.push(top.node);
        path.pop();
        continue;
      }
      top.next += 1;
      const seen = state.get(dep);
      if (seen === 'done') continue;
      if (seen === 'visiting') {
        const from = path.findIndex((p) => p.node.name === dep);
        const cycle = [...path.slice(from).map((p) => p.node.name), dep];
        throw invalid(
          cycle.length === 2
            ? `task '${dep}' is after itself; a task cannot wait for itself`
            : `the tasks make a cycle: ${cycle.join(' after ')}; a task cannot wait for itself`,
          { cycle },
        );
      }
      const node = byName.get(dep);
      if (node === undefined) throw new Error(`dependencyOrder: unknown node '${dep}'`);
      state.set(dep, 'visiting');
      path.push({ node, next: 0 });
    }
  }
  return order;
}
