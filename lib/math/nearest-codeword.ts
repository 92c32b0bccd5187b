import { CancelledError, LimitError, UnsupportedError } from '../base/errors';
import { MAX_TENSOR_ELEMENTS } from '../base/limits';

/**
 * Nearest-codeword search, the CPU twin of the WebGPU kernel: squared distances in the matmul
 * form ‖x‖² − 2x·c + ‖c‖², one tile of rows at a time (the GPU dispatches the same tiles).
 *
 * Sums run in float64: products of float32 values are exact there, so for d ≤ 8 the matmul
 * form agrees with the explicit Σ(x − c)² except where the two are within rounding of each
 * other. Cancellation can make the matmul form slightly negative for a point on a codeword,
 * hence the clamp at 0. Ties go to the lowest codeword index (codewords are scanned in order
 * and only a strictly smaller distance displaces a candidate).
 */

/** Rows per tile: the tile's row norms stay in cache, and cancellation is checked per tile. */
export const NEAREST_TILE_ROWS = 4096;

/** Largest candidate list per sub-vector (VQ4DiT uses 2–3; the UI offers 1–4). */
export const MAX_NEAREST = 8;

export interface NearestCodewordsResult {
  /** n × nNearest codeword indices, nearest first. */
  indices: Uint32Array;
  /** n × nNearest squared distances (≥ 0), ascending within each row. */
  distances: Float64Array;
  nNearest: number;
}

/** Checks the shapes shared by every caller; messages name the argument that is wrong. */
export function checkCodebookShapes(what: string, x: ArrayLike<number>, n: number, d: number, codebook: ArrayLike<number>, k: number): void {
  if (!Number.isInteger(n) || n < 0) throw new UnsupportedError('bad-n', `${what}: n must be a non-negative integer, got ${n}`);
  if (!Number.isInteger(d) || d < 1) throw new UnsupportedError('bad-d', `${what}: sub-vector length d must be a positive integer, got ${d}`);
  if (!Number.isInteger(k) || k < 1) throw new UnsupportedError('bad-k', `${what}: codeword count k must be a positive integer, got ${k}`);
  if (n * d > MAX_TENSOR_ELEMENTS) throw new LimitError('too-many-elements', `${what}: ${n} × ${d} values exceed MAX_TENSOR_ELEMENTS = ${MAX_TENSOR_ELEMENTS}`);
  if (x.length < n * d) throw new UnsupportedError('bad-shape', `${what}: data holds ${x.length} values, ${n} sub-vectors of ${d} need ${n * d}`);
  if (codebook.length < k * d) throw new UnsupportedError('bad-shape', `${what}: codebook holds ${codebook.length} values, ${k} codewords of ${d} need ${k * d}`);
}

/** The n nearest codewords of every sub-vector (row of x), with their squared distances. */
export function nearestCodewords(
  x: Float32Array,
  n: number,
  d: number,
  codebook: Float32Array,
  k: number,
  nNearest = 1,
): NearestCodewordsResult {
  checkCodebookShapes('nearestCodewords', x, n, d, codebook, k);
  if (!Number.isInteger(nNearest) || nNearest < 1 || nNearest > Math.min(k, MAX_NEAREST)) {
    throw new UnsupportedError('bad-n-nearest', `nearestCodewords: nNearest must be an integer in 1..${Math.min(k, MAX_NEAREST)} (k = ${k}), got ${nNearest}`);
  }
  const indices = new Uint32Array(n * nNearest);
  const distances = new Float64Array(n * nNearest);
  nearestCodewordsInto(x, n, d, codebook, k, nNearest, indices, distances);
  return { indices, distances, nNearest };
}

/**
 * Same as nearestCodewords, into caller-owned buffers (k-means reuses them every iteration).
 * Shapes are not re-checked here.
 */
export function nearestCodewordsInto(
  x: Float32Array,
  n: number,
  d: number,
  codebook: Float32Array,
  k: number,
  nNearest: number,
  indices: Uint32Array,
  distances: Float64Array,
  signal?: AbortSignal,
): void {
  // ‖c‖² once per call; the codebook is copied to float64 so the inner loop does no conversions.
  const cb = new Float64Array(k * d);
  const cn = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    let s = 0;
    for (let t = 0; t < d; t++) {
      const v = codebook[j * d + t]!;
      cb[j * d + t] = v;
      s += v * v;
    }
    cn[j] = s;
  }
  const xn = new Float64Array(Math.min(NEAREST_TILE_ROWS, n));
  for (let r0 = 0; r0 < n; r0 += NEAREST_TILE_ROWS) {
    if (signal?.aborted) throw new CancelledError();
    const r1 = Math.min(n, r0 + NEAREST_TILE_ROWS);
    for (let i = r0; i < r1; i++) {
      let s = 0;
      for (let t = 0; t < d; t++) {
        const v = x[i * d + t]!;
        s += v * v;
      }
      xn[i - r0] = s;
    }
    if (nNearest === 1 && d === 4) tileNearest1D4(x, r0, r1, xn, cb, cn, k, indices, distances);
    else if (nNearest === 1) tileNearest1(x, r0, r1, d, xn, cb, cn, k, indices, distances);
    else tileNearestN(x, r0, r1, d, xn, cb, cn, k, nNearest, indices, distances);
  }
}

function tileNearest1(
  x: Float32Array, r0: number, r1: number, d: number, xn: Float64Array,
  cb: Float64Array, cn: Float64Array, k: number, indices: Uint32Array, distances: Float64Array,
): void {
  for (let i = r0; i < r1; i++) {
    const xo = i * d;
    let best = Infinity;
    let bestJ = 0;
    for (let j = 0; j < k; j++) {
      const co = j * d;
      let dot = 0;
      for (let t = 0; t < d; t++) dot += x[xo + t]! * cb[co + t]!;
      const e = xn[i - r0]! - 2 * dot + cn[j]!;
      if (e < best) {
        best = e;
        bestJ = j;
      }
    }
    indices[i] = bestJ;
    distances[i] = best > 0 ? best : 0;
  }
}

/** d = 4 unrolled: the shape of the speed target (k = 256, d = 4). */
function tileNearest1D4(
  x: Float32Array, r0: number, r1: number, xn: Float64Array,
  cb: Float64Array, cn: Float64Array, k: number, indices: Uint32Array, distances: Float64Array,
): void {
  for (let i = r0; i < r1; i++) {
    const xo = i * 4;
    const x0 = x[xo]!, x1 = x[xo + 1]!, x2 = x[xo + 2]!, x3 = x[xo + 3]!;
    const xx = xn[i - r0]!;
    let best = Infinity;
    let bestJ = 0;
    for (let j = 0, co = 0; j < k; j++, co += 4) {
      const dot = x0 * cb[co]! + x1 * cb[co + 1]! + x2 * cb[co + 2]! + x3 * cb[co + 3]!;
      const e = xx - 2 * dot + cn[j]!;
      if (e < best) {
        best = e;
        bestJ = j;
      }
    }
    indices[i] = bestJ;
    distances[i] = best > 0 ? best : 0;
  }
}

/** Keeps a sorted list of the nNearest smallest distances per row (insertion; nNearest ≤ 8). */
function tileNearestN(
  x: Float32Array, r0: number, r1: number, d: number, xn: Float64Array,
  cb: Float64Array, cn: Float64Array, k: number, m: number, indices: Uint32Array, distances: Float64Array,
): void {
  for (let i = r0; i < r1; i++) {
    const xo = i * d;
    const o = i * m;
    for (let q = 0; q < m; q++) {
      distances[o + q] = Infinity;
      indices[o + q] = 0;
    }
    for (let j = 0; j < k; j++) {
      const co = j * d;
      let dot = 0;
      for (let t = 0; t < d; t++) dot += x[xo + t]! * cb[co + t]!;
      const e = xn[i - r0]! - 2 * dot + cn[j]!;
      if (!(e < distances[o + m - 1]!)) continue;
      // Shift larger entries right; an equal entry stays ahead (lower index wins ties).
      let q = m - 1;
      while (q > 0 && e < distances[o + q - 1]!) {
        distances[o + q] = distances[o + q - 1]!;
        indices[o + q] = indices[o + q - 1]!;
        q--;
      }
      distances[o + q] = e;
      indices[o + q] = j;
    }
    for (let q = 0; q < m; q++) if (distances[o + q]! < 0) distances[o + q] = 0;
  }
}
