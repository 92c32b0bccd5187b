import { FormatError } from '../base/errors';
import type { Layer } from './layer';

/** One slice matrix, row-major, oriented so rows ≥ cols (rows = N, cols = M). */
export interface SliceMatrix {
  rows: number;
  cols: number;
  data: Float32Array;
}

/** Element offset of W[o, c] at kernel position (i, j) in a tensor stored in the layer's layout. */
export type StoredOffset = (o: number, c: number, i: number, j: number) => number;

/** The layer's stored-layout indexing (its slices' out / in / kh / kw in their order on disk). */
export function storedOffset(layer: Layer): StoredOffset {
  const { out, in: inC, kh, kw, layout } = layer.slices;
  switch (layout) {
    case 'oihw':
    case 'oik':
      return (o, c, i, j) => ((o * inC + c) * kh + i) * kw + j;
    case 'iohw':
      return (o, c, i, j) => ((c * out + o) * kh + i) * kw + j;
    case 'hwio':
      return (o, c, i, j) => ((i * kw + j) * inC + c) * out + o;
    case 'kio':
      return (o, c, i) => (i * inC + c) * out + o;
    case 'io':
      return (o, c) => c * out + o;
    default: // 'oi' and 'unknown': stored [out, in] as far as orientation matters
      return (o, c) => o * inC + c;
  }
}

/**
 * Cuts a layer's decoded tensor (row-major in its stored shape) into its rf slice matrices, as
 * WeightWatcher's conv2D_Wmats does: W[:, :, i, j] for each kernel position, transposed when
 * needed so that rows ≥ columns. Dense layers give one matrix. Slices are returned in kernel
 * order (i over kh, then j over kw).
 */
export function layerMatrices(layer: Layer, data: Float32Array): SliceMatrix[] {
  const { slices: s, N, M, tensor } = layer;
  const expected = tensor.shape.reduce((p, d) => p * d, 1);
  if (data.length !== expected) {
    throw new FormatError('size-mismatch', `${layer.name}: expected ${expected} values for shape [${tensor.shape.join(', ')}], got ${data.length}`);
  }
  if (layer.kind === 'other' || M === 0) return [];
  const { out, in: inC, kh, kw } = s;
  const at = storedOffset(layer);
  const outIsRows = out >= inC;
  const mats: SliceMatrix[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const m = new Float32Array(N * M);
      for (let o = 0; o < out; o++) {
        for (let c = 0; c < inC; c++) {
          const v = data[at(o, c, i, j)]!;
          if (outIsRows) m[o * M + c] = v;
          else m[c * M + o] = v;
        }
      }
      mats.push({ rows: N, cols: M, data: m });
    }
  }
  return mats;
}
