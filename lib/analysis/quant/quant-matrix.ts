import { UnsupportedError } from '../../base/errors';
import type { Layer } from '../../model/layer';
import { storedOffset, type StoredOffset } from '../../model/layer-matrices';

/**
 * The matrix a quantizer sees: one row per output channel, its input weights along the row in
 * (input channel, kernel row, kernel column) order — PyTorch's `W.flatten(1)` for an [out, in, kh,
 * kw] kernel, the layout GPTQ, AQLM and VQ4DiT quantize. Sub-vectors of d consecutive input
 * weights and RTN groups run along these rows whatever the stored layout was, so a Paddle
 * [in, out] MatMul weight is quantized the same way as its PyTorch [out, in] twin.
 */
export interface QuantMatrix {
  rows: number;
  cols: number;
  data: Float32Array;
}

function storedIndex(layer: Layer): { out: number; inC: number; kh: number; kw: number; at: StoredOffset } {
  if (layer.kind === 'other' || layer.M === 0) {
    throw new UnsupportedError('quant-not-matrix', `${layer.name}: shape [${layer.tensor.shape.join(', ')}] is not a weight matrix or conv kernel, so it cannot be quantized as rows of input weights`);
  }
  const { out, in: inC, kh, kw } = layer.slices;
  return { out, inC, kh, kw, at: storedOffset(layer) };
}

/** The layer's decoded tensor (stored layout, row-major) as a QuantMatrix. */
export function quantMatrix(layer: Layer, data: Float32Array): QuantMatrix {
  const { out, inC, kh, kw, at } = storedIndex(layer);
  const cols = inC * kh * kw;
  if (data.length !== out * cols) {
    throw new UnsupportedError('quant-shape', `${layer.name}: expected ${out * cols} values for shape [${layer.tensor.shape.join(', ')}], got ${data.length}`);
  }
  const m = new Float32Array(out * cols);
  for (let o = 0; o < out; o++) {
    for (let c = 0; c < inC; c++) {
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++) m[o * cols + (c * kh + i) * kw + j] = data[at(o, c, i, j)]!;
      }
    }
  }
  return { rows: out, cols, data: m };
}

/** Inverse of quantMatrix: a QuantMatrix's values back in the layer's stored layout. */
export function storedFromQuantMatrix(layer: Layer, m: Float32Array): Float32Array {
  const { out, inC, kh, kw, at } = storedIndex(layer);
  const cols = inC * kh * kw;
  if (m.length !== out * cols) {
    throw new UnsupportedError('quant-shape', `${layer.name}: expected ${out * cols} values, got ${m.length}`);
  }
  const data = new Float32Array(out * cols);
  for (let o = 0; o < out; o++) {
    for (let c = 0; c < inC; c++) {
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++) data[at(o, c, i, j)] = m[o * cols + (c * kh + i) * kw + j]!;
      }
    }
  }
  return data;
}
