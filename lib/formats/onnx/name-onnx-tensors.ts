import type { OnnxConsumer, OnnxTensor } from './onnx-tensor';
import type { TensorBody } from './describe-onnx-tensor';

/** Identity chains followed when looking for a weight's real consumer. */
const MAX_IDENTITY_HOPS = 16;

export interface NodeCtx {
  name: string;
  op: string;
  inputs: string[];
  outputs: string[];
}

export interface PathEntry {
  node: NodeCtx;
  attr: { name: string };
  index: number; // position in a GRAPHS list, -1 for a single GRAPH
}

export interface GraphScope {
  consumers: Map<string, OnnxConsumer & { identityOut?: string }>;
}

/** A tensor found by the walk, named and described once the walk is over. */
export interface PendingTensor {
  storedName: string;
  origin: string;
  path: PathEntry[];
  scope: GraphScope;
  make: () => TensorBody;
}

/**
 * Unique names, notes and consumers, in file order. A repeated name (the same initializer in
 * the then and else branch of an If) keeps its first use and the later ones get a suffix from
 * the subgraph they sit in, e.g. "w@else_branch", so every run names them the same way.
 */
export function nameOnnxTensors(pending: readonly PendingTensor[]): OnnxTensor[] {
  const taken = new Set<string>();
  const out: OnnxTensor[] = [];
  let unnamed = 0;
  for (const p of pending) {
    const { reason, ...body } = p.make();
    const where = p.path.map(pathLabel).join(' > ');
    let note = p.path.length ? `${p.origin} in ${where}` : p.origin === 'initializer' ? undefined : p.origin;
    if (reason) note = note ? `${note}; ${reason}` : reason;
    let name = p.storedName || `unnamed#${unnamed++}`;
    if (!p.storedName) note = `${note ?? 'initializer'}; unnamed in the file`;
    if (taken.has(name)) {
      const last = p.path[p.path.length - 1];
      const base = `${name}@${last ? last.attr.name + (last.index >= 0 ? `[${last.index}]` : '') : 'dup'}`;
      let candidate = base;
      for (let k = 2; taken.has(candidate); k++) candidate = `${base}#${k}`;
      note = `${note ?? 'initializer'}; renamed from "${name}", which an earlier tensor uses`;
      name = candidate;
    }
    taken.add(name);
    const t: OnnxTensor = { name, ...body };
    if (note) t.note = note;
    const consumer = resolveConsumer(p.scope, p.storedName);
    if (consumer) t.consumer = consumer;
    out.push(t);
  }
  return out;
}

function pathLabel(e: PathEntry): string {
  const attr = e.index >= 0 ? `${e.attr.name}[${e.index}]` : e.attr.name;
  return `${e.node.op || 'node'} ${attr} of node "${e.node.name || e.node.outputs[0] || ''}"`;
}

function resolveConsumer(scope: GraphScope, name: string): OnnxConsumer | undefined {
  if (!name) return undefined;
  let c = scope.consumers.get(name);
  for (let hop = 0; c && c.identityOut && hop < MAX_IDENTITY_HOPS; hop++) {
    const next = scope.consumers.get(c.identityOut);
    if (!next) break;
    c = next;
  }
  if (!c) return undefined;
  const r: OnnxConsumer = { op: c.op, input: c.input };
  if (c.attrs) r.attrs = c.attrs;
  return r;
}
