import { describe, expect, it } from 'vitest';
import type { TensorInfo } from '../../../lib/formats/types';
import { buildLayers } from '../../../lib/model/build-layers';
import { modelSummary } from '../../../lib/model/model-summary';

const W: Record<string, number> = { F32: 4, BF16: 2, I64: 8 };
function t(name: string, shape: number[], dtype: string): TensorInfo {
  return { name, shape, dtype, byteLength: shape.reduce((p, d) => p * d, 1) * W[dtype]!, decodable: true };
}

describe('modelSummary', () => {
  it('counts params, bytes and the dtype mix, and layers by kind', () => {
    const tensors = [
      t('embed_tokens.weight', [1000, 64], 'BF16'),
      t('layers.0.q.weight', [64, 64], 'BF16'),
      t('layers.0.tiny.weight', [4, 64], 'BF16'),
      t('layers.0.norm.weight', [64], 'F32'),
      t('conv.weight', [8, 4, 3, 3], 'F32'),
      t('step', [], 'I64'),
    ];
    const layers = buildLayers(tensors, 'safetensors');
    const s = modelSummary('safetensors', tensors, layers, 123456);
    expect(s.tensors).toBe(6);
    expect(s.params).toBe(64000 + 4096 + 256 + 64 + 288 + 1);
    expect(s.tensorBytes).toBe((64000 + 4096 + 256) * 2 + (64 + 288) * 4 + 8);
    expect(s.fileBytes).toBe(123456);
    expect(s.dtypes).toEqual([
      { dtype: 'BF16', tensors: 3, params: 68352, bytes: 136704 },
      { dtype: 'F32', tensors: 2, params: 352, bytes: 1408 },
      { dtype: 'I64', tensors: 1, params: 1, bytes: 8 },
    ]);
    expect(s.ranks).toEqual({ '0': 1, '1': 1, '2': 3, '4': 1 });
    expect(s.layers).toBe(4);
    expect(s.analyzable).toBe(3); // tiny: M = 4 < min_evals
    expect(s.kinds).toEqual([
      { kind: 'dense', layers: 2, analyzable: 1, params: 4096 + 256 },
      { kind: 'embedding', layers: 1, analyzable: 1, params: 64000 },
      { kind: 'conv2d', layers: 1, analyzable: 1, params: 288 },
    ]);
  });
});
