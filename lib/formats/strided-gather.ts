/**
 * Copies a strided view (Fortran-ordered .npy data, non-contiguous PyTorch tensors) into a new
 * C-ordered (row-major) array. `src[offset + Σ i_k·stride_k]` goes to the row-major position of
 * (i_0, …, i_{n-1}). Callers have checked that every index lands inside `src`.
 */
export function stridedGather(src: Float32Array, shape: readonly number[], strides: readonly number[], offset = 0): Float32Array {
  let count = 1;
  for (const d of shape) count *= d;
  const out = new Float32Array(count);
  if (count === 0) return out;
  const rank = shape.length;
  if (rank === 0) {
    out[0] = src[offset]!;
    return out;
  }
  // Odometer over all but the last axis; the last axis is a tight inner loop.
  const inner = shape[rank - 1]!;
  const innerStride = strides[rank - 1]!;
  const idx = new Array<number>(rank).fill(0);
  let base = offset;
  for (let o = 0; o < count; o += inner) {
    for (let j = 0, s = base; j < inner; j++, s += innerStride) out[o + j] = src[s]!;
    for (let k = rank - 2; k >= 0; k--) {
      idx[k]!++;
      base += strides[k]!;
      if (idx[k]! < shape[k]!) break;
      base -= strides[k]! * shape[k]!;
      idx[k] = 0;
    }
  }
  return out;
}

/** Row-major (C) strides of a shape, in elements. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let k = shape.length - 1; k >= 0; k--) {
    s[k] = acc;
    acc *= shape[k]!;
  }
  return s;
}

/** Column-major (Fortran) strides of a shape, in elements. */
export function fortranStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let k = 0; k < shape.length; k++) {
    s[k] = acc;
    acc *= shape[k]!;
  }
  return s;
}

/** Reverses the byte order of each `width`-byte element in place (big-endian data). */
export function swapBytesInPlace(bytes: Uint8Array, width: number): void {
  if (width <= 1) return;
  for (let i = 0; i + width <= bytes.length; i += width) {
    for (let a = i, b = i + width - 1; a < b; a++, b--) {
      const t = bytes[a]!;
      bytes[a] = bytes[b]!;
      bytes[b] = t;
    }
  }
}
