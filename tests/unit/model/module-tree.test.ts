import { describe, expect, it } from 'vitest';
import type { TensorInfo } from '../../../lib/formats/types';
import { moduleTree, splitModulePath } from '../../../lib/model/module-tree';
import type { ModuleNode } from '../../../lib/model/module-tree';

function t(name: string, shape: number[], bytesPerElement = 4): TensorInfo {
  return { name, shape, dtype: 'F32', byteLength: shape.reduce((p, d) => p * d, 1) * bytesPerElement, decodable: true };
}

function find(root: ModuleNode, path: string): ModuleNode {
  let node = root;
  for (const seg of path.split('.')) {
    const next = node.children.find((c) => c.name === seg);
    if (!next) throw new Error(`no ${seg} under ${node.path}`);
    node = next;
  }
  return node;
}

/** Independent check: every node's params equal its own tensor plus its children. */
function checkSums(node: ModuleNode, own: Map<string, number>): void {
  const childSum = node.children.reduce((s, c) => s + c.params, 0);
  expect(node.params).toBe(childSum + (node.tensor ? own.get(node.tensor)! : 0));
  for (const c of node.children) checkSums(c, own);
}

describe('moduleTree', () => {
  const tensors = [
    t('wte.weight', [50257, 768]),
    t('h.0.attn.c_attn.weight', [768, 2304]),
    t('h.0.attn.c_attn.bias', [2304]),
    t('h.0.mlp.c_fc.weight', [768, 3072]),
    t('h.1.attn.c_attn.weight', [768, 2304]),
    t('ln_f.weight', [768], 2),
  ];
  const root = moduleTree(tensors);

  it('nests names on dots and sums parameters and bytes upwards', () => {
    const total = tensors.reduce((s, x) => s + x.shape.reduce((p, d) => p * d, 1), 0);
    expect(root.params).toBe(total);
    expect(root.bytes).toBe(tensors.reduce((s, x) => s + x.byteLength, 0));
    expect(root.tensors).toBe(6);
    expect(root.children.map((c) => c.name)).toEqual(['wte', 'h', 'ln_f']);
    const h0 = find(root, 'h.0');
    expect(h0.path).toBe('h.0');
    expect(h0.params).toBe(768 * 2304 + 2304 + 768 * 3072);
    expect(find(root, 'h.0.attn.c_attn').params).toBe(768 * 2304 + 2304);
    const leaf = find(root, 'h.0.attn.c_attn.weight');
    expect([leaf.tensor, leaf.params, leaf.children.length]).toEqual(['h.0.attn.c_attn.weight', 768 * 2304, 0]);
    expect(find(root, 'ln_f').bytes).toBe(768 * 2);
    checkSums(root, new Map(tensors.map((x) => [x.name, x.shape.reduce((p, d) => p * d, 1)])));
  });

  it('splits ONNX-style slash paths and keeps Paddle names two levels deep', () => {
    const r = moduleTree([t('/model/layers.0/q_proj/weight', [4, 4]), t('conv2d_107.w_0', [96, 384, 1, 1]), t('scalar', [])]);
    expect(splitModulePath('/model/layers.0/q_proj/weight')).toEqual(['model', 'layers', '0', 'q_proj', 'weight']);
    expect(find(r, 'model.layers.0.q_proj.weight').params).toBe(16);
    expect(find(r, 'conv2d_107.w_0').params).toBe(96 * 384);
    expect(find(r, 'scalar').params).toBe(1);
    expect(r.params).toBe(16 + 96 * 384 + 1);
  });

  it('lets a tensor sit at a path that also has children', () => {
    const r = moduleTree([t('a.b', [2, 3]), t('a.b.c', [5])]);
    const ab = find(r, 'a.b');
    expect([ab.tensor, ab.params, ab.children.length]).toEqual(['a.b', 11, 1]);
  });
});
