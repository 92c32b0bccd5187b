import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mergeModels } from '../../../lib/analysis/merge/merge-methods';
import { isFloatDtype, pairModels } from '../../../lib/analysis/merge/pairing';
import { openModel, pickPrimary } from '../../../lib/formats/registry';
import type { TensorSource } from '../../../lib/formats/types';
import { writeSafetensors } from '../../../lib/formats/write-safetensors';
import { memorySource, singleFileModel } from '../../../lib/io/byte-source';
import { openNodeModel } from '../../../lib/io/node/node-file-source';

async function fromTensors(name: string, tensors: Parameters<typeof writeSafetensors>[0]): Promise<TensorSource> {
  return openModel(singleFileModel(memorySource(writeSafetensors(tensors), name)));
}

describe('pairModels on files with a missing tensor, a shape mismatch and an integer tensor', () => {
  let a: TensorSource;
  let b: TensorSource;
  beforeAll(async () => {
    a = await fromTensors('a.safetensors', [
      { name: 'w', shape: [2, 3], dtype: 'F32', data: new Float32Array([1, 2, 3, 4, 5, 6]) },
      { name: 'bias', shape: [3], dtype: 'F32', data: new Float32Array([1, -1, 0.5]) },
      { name: 'steps', shape: [1], dtype: 'I64', data: new Float64Array([7]) },
      { name: 'only_a', shape: [2], dtype: 'F32', data: new Float32Array([1, 2]) },
    ]);
    b = await fromTensors('b.safetensors', [
      { name: 'w', shape: [3, 2], dtype: 'F32', data: new Float32Array([1, 2, 3, 4, 5, 6]) },
      { name: 'bias', shape: [3], dtype: 'F16', data: new Float32Array([3, 1, -0.5]) },
      { name: 'steps', shape: [1], dtype: 'I64', data: new Float64Array([9]) },
      { name: 'only_b', shape: [4], dtype: 'F32', data: new Float32Array([1, 2, 3, 4]) },
    ]);
  });

  it('reports every mismatch in the unmatched table and pairs only the float tensor present in both', () => {
    const p = pairModels([{ label: 'a', tensors: a.tensors }, { label: 'b', tensors: b.tensors }]);
    expect(p.labels).toEqual(['a', 'b']);
    expect(p.paired).toEqual([{ name: 'bias', shape: [3], dtype: 'F32', dtypes: ['F32', 'F16'] }]);
    expect(p.unmatched).toEqual([
      { name: 'w', shapes: [[2, 3], [3, 2]], reason: 'shape' },
      { name: 'only_a', shapes: [[2], null], reason: 'missing' },
      { name: 'only_b', shapes: [null, [4]], reason: 'missing' },
    ]);
    expect(p.nonFloat).toEqual([{ name: 'steps', shape: [1], dtypes: ['I64', 'I64'] }]);
  });

  it('with three models a tensor missing from the middle one is unmatched with null in its slot', () => {
    const c = { label: 'c', tensors: a.tensors.filter((t) => t.name !== 'bias') };
    const p = pairModels([{ label: 'a', tensors: a.tensors }, c, { label: 'a2', tensors: a.tensors }]);
    expect(p.unmatched).toContainEqual({ name: 'bias', shapes: [[3], null, [3]], reason: 'missing' });
    expect(p.paired.map((t) => t.name)).toEqual(['w', 'only_a']);
  });

  it('a tensor the reader cannot decode is unmatched, not paired', () => {
    const t = a.tensors.map((x) => (x.name === 'w' ? { ...x, decodable: false } : x));
    const p = pairModels([{ label: 'a', tensors: t }, { label: 'a2', tensors: a.tensors }]);
    expect(p.unmatched).toEqual([{ name: 'w', shapes: [[2, 3], [2, 3]], reason: 'not-decodable' }]);
  });

  it('classifies dtypes: floats and GGUF block quants merge, integers and bool do not', () => {
    for (const d of ['F64', 'F32', 'F16', 'BF16', 'F8_E4M3', 'F8_E5M2', 'Q4_K']) expect(isFloatDtype(d)).toBe(true);
    for (const d of ['I8', 'U8', 'I16', 'I32', 'I64', 'U64', 'BOOL']) expect(isFloatDtype(d)).toBe(false);
  });

  it('mergeModels merges the paired tensor, copies the integer one from model A and skips the rest', async () => {
    const r = await mergeModels({ models: [a, b], method: { kind: 'linear', alpha: 0.5 } });
    expect(r.tensors.map((t) => t.name)).toEqual(['bias', 'steps']);
    expect(Array.from(r.tensors[0]!.data)).toEqual([2, 0, 0]);
    expect(r.tensors[1]).toMatchObject({ name: 'steps', dtype: 'I64', copied: true });
    expect(Array.from(r.tensors[1]!.data)).toEqual([7]);
    expect(r.pairing.unmatched).toHaveLength(3);
  });
});

describe('pairModels on the MNIST demo models', () => {
  const inputs: Awaited<ReturnType<typeof openNodeModel>>[] = [];
  const models: TensorSource[] = [];
  beforeAll(async () => {
    for (const n of ['seed1', 'seed2', 'base', 'ft-low', 'ft-high']) {
      const input = await openNodeModel(`public/models/mnist/mlp-${n}.safetensors`, (names) => pickPrimary(names));
      inputs.push(input);
      models.push(await openModel(input));
    }
  });
  afterAll(async () => {
    for (const i of inputs) await i.close();
  });

  it('pairs all six tensors of the five models, nothing unmatched', () => {
    const p = pairModels(models.map((m) => ({ label: m.name, tensors: m.tensors })));
    expect(p.unmatched).toEqual([]);
    expect(p.nonFloat).toEqual([]);
    expect(p.paired.map((t) => `${t.name}:${t.shape.join('x')}`)).toEqual([
      'fc1.weight:128x784', 'fc1.bias:128', 'fc2.weight:128x128', 'fc2.bias:128', 'fc3.weight:10x128', 'fc3.bias:10',
    ]);
  });
});
