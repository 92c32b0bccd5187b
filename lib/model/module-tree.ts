import type { TensorInfo } from '../formats/types';

/**
 * The module hierarchy implied by tensor names, for the landing view's treemap (d3-hierarchy
 * wants nested { children } with a value per node). Names split on '.' and '/' so PyTorch keys
 * (`model.layers.0.mlp.up_proj.weight`) and ONNX node paths (`/model/layers.0/MatMul`) both nest.
 */

export interface ModuleNode {
  /** The last path segment (the whole name for the root: ''). */
  name: string;
  /** Path from the root, segments joined with '.'. */
  path: string;
  /** Parameters (elements) in this node's own tensor plus all descendants. */
  params: number;
  /** Stored bytes, summed like params. */
  bytes: number;
  /** Number of tensors at or below this node. */
  tensors: number;
  children: ModuleNode[];
  /** Name of the tensor stored exactly at this path, when there is one. */
  tensor?: string;
}

export function tensorParams(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function splitModulePath(name: string): string[] {
  return name.split(/[./]/).filter((s) => s !== '');
}

function newNode(name: string, path: string): ModuleNode {
  return { name, path, params: 0, bytes: 0, tensors: 0, children: [] };
}

export function moduleTree(tensors: readonly TensorInfo[]): ModuleNode {
  const root = newNode('', '');
  // Child lookup per node without scanning children arrays (a model can have 10^5 tensors).
  const index = new Map<ModuleNode, Map<string, ModuleNode>>();
  for (const t of tensors) {
    const params = tensorParams(t.shape);
    const segs = splitModulePath(t.name);
    if (segs.length === 0) segs.push(t.name);
    let node = root;
    node.params += params;
    node.bytes += t.byteLength;
    node.tensors += 1;
    for (const seg of segs) {
      let kids = index.get(node);
      if (!kids) index.set(node, (kids = new Map()));
      let child = kids.get(seg);
      if (!child) {
        child = newNode(seg, node.path ? `${node.path}.${seg}` : seg);
        kids.set(seg, child);
        node.children.push(child);
      }
      node = child;
      node.params += params;
      node.bytes += t.byteLength;
      node.tensors += 1;
    }
    // Two tensors can map to the same path ('a.b' and 'a/b'); keep the first name.
    if (node.tensor === undefined) node.tensor = t.name;
  }
  return root;
}
