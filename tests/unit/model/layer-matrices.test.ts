import { describe, expect, it } from 'vitest';
import type { TensorInfo } from '../../../lib/formats/types';
import { buildLayers } from '../../../lib/model/build-layers';
import { layerMatrices } from '../../../lib/model/layer-matrices';

/** A value that encodes its coordinates, so each slice entry can be checked independently. */
const code = (o: number, c: number, i: number, j: number) => o * 1000 + c * 10 + i * 3 + j + 0.5;

function tensor(name: string, shape: number[], extra: Partial<TensorInfo> = {}): TensorInfo {
  return { name, shape, dtype: 'F32', byteLength: shape.reduce((p, d) => p * d, 1) * 4, decodable: true, ...extra };
}

/** Fill a tensor whose axes are named by `axes` (o, c, i, j) in storage order. */
function fill(shape: number[], axes: string): Float32Array {
  const n = shape.reduce((p, d) => p * d, 1);
  const out = new Float32Array(n);
  const idx = new Array(shape.length).fill(0);
  for (let k = 0; k < n; k++) {
    const at: Record<string, number> = { o: 0, c: 0, i: 0, j: 0 };
    axes.split('').forEach((a, d) => (at[a] = idx[d]));
    out[k] = code(at.o!, at.c!, at.i!, at.j!);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
}

function check(name: string, shape: number[], axes: string, format: string, out: number, inC: number, kh: number, kw: number, extra: Partial<TensorInfo> = {}) {
  const [layer] = buildLayers([tensor(name, shape, extra)], format);
  const mats = layerMatrices(layer!, fill(shape, axes));
  expect(mats).toHaveLength(kh * kw);
  const N = Math.max(out, inC);
  const M = Math.min(out, inC);
  mats.forEach((m, s) => {
    const i = Math.floor(s / kw);
    const j = s % kw;
    expect([m.rows, m.cols]).toEqual([N, M]);
    for (let r = 0; r < N; r++) {
      for (let col = 0; col < M; col++) {
        const [o, c] = out >= inC ? [r, col] : [col, r];
        expect(m.data[r * M + col]).toBe(code(o, c, i, j));
      }
    }
  });
}

describe('layerMatrices', () => {
  it('cuts [out,in,kh,kw] kernels into W[:, :, i, j], rows >= columns', () => {
    check('conv.weight', [5, 3, 2, 3], 'ocij', 'pytorch', 5, 3, 2, 3);
    check('conv.weight', [3, 5, 3, 2], 'ocij', 'pytorch', 3, 5, 3, 2);
  });
  it('cuts ConvTranspose [in,out,kh,kw] kernels', () => {
    check('up.w', [4, 6, 2, 2], 'coij', 'onnx', 6, 4, 2, 2, { consumer: { op: 'ConvTranspose', input: 1 } });
  });
  it('cuts Keras [kh,kw,in,out] kernels', () => {
    check('c/kernel:0', [3, 2, 4, 7], 'ijco', 'npz', 7, 4, 3, 2);
  });
  it('cuts conv1d kernels and orients dense matrices', () => {
    check('enc.conv1.weight', [6, 4, 3], 'oci', 'pytorch', 6, 4, 3, 1);
    check('fc.weight', [3, 8], 'oc', 'pytorch', 3, 8, 1, 1);
    check('h.0.mlp.c_fc.weight', [4, 9], 'co', 'safetensors', 9, 4, 1, 1);
  });
  it('refuses data of the wrong length', () => {
    const [layer] = buildLayers([tensor('fc.weight', [3, 8])], 'pytorch');
    expect(() => layerMatrices(layer!, new Float32Array(23))).toThrow(/expected 24 values/);
  });
});
