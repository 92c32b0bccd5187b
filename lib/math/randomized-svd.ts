import { throwIfAborted, UnsupportedError } from '../base/errors';
import { Rng } from '../base/rng';
import { jacobiSvd } from './jacobi-svd';

/**
 * Rank-r truncated SVD by the Halko–Martinsson–Tropp randomized range finder (2011, Alg. 4.4):
 * Y = A·Ω with a seeded Gaussian Ω of r + p columns, q power iterations Y ← A·(Aᵀ·Y) with
 * re-orthonormalisation after every product (plain powering loses the small directions to
 * rounding), then the exact SVD of the small B = Qᵀ·A by one-sided Jacobi. All products run in
 * float64. When r + p reaches min(rows, cols) the range is the whole space and the result is the
 * exact SVD up to rounding.
 */
export const DEFAULT_OVERSAMPLING = 10;
export const DEFAULT_POWER_ITERATIONS = 2;

export interface RandomizedSvdOptions {
  oversampling?: number;
  powerIterations?: number;
  seed?: number;
  signal?: AbortSignal;
}

export interface TruncatedSvd {
  rows: number;
  cols: number;
  rank: number;
  /** Singular values, descending, length rank. */
  s: Float64Array;
  /** rows × rank, row-major. */
  u: Float64Array;
  /** cols × rank, row-major (column j = right singular vector j). */
  v: Float64Array;
}

/** Y (rows × k, row-major) = A·X with X cols × k. */
function mulAX(a: ArrayLike<number>, rows: number, cols: number, x: Float64Array, k: number): Float64Array {
  const y = new Float64Array(rows * k);
  for (let r = 0; r < rows; r++) {
    const yo = r * k;
    for (let c = 0; c < cols; c++) {
      const arc = a[r * cols + c]!;
      if (arc === 0) continue;
      const xo = c * k;
      for (let j = 0; j < k; j++) y[yo + j]! += arc * x[xo + j]!;
    }
  }
  return y;
}

/** Z (cols × k) = Aᵀ·Y with Y rows × k. */
function mulAtY(a: ArrayLike<number>, rows: number, cols: number, y: Float64Array, k: number): Float64Array {
  const z = new Float64Array(cols * k);
  for (let r = 0; r < rows; r++) {
    const yo = r * k;
    for (let c = 0; c < cols; c++) {
      const arc = a[r * cols + c]!;
      if (arc === 0) continue;
      const zo = c * k;
      for (let j = 0; j < k; j++) z[zo + j]! += arc * y[yo + j]!;
    }
  }
  return z;
}

/**
 * Orthonormalise the k columns of an n × k row-major matrix in place by modified Gram–Schmidt,
 * run twice ("twice is enough") so the basis stays orthogonal to rounding; a column that
 * vanishes (rank-deficient A) is zeroed and later contributes σ = 0.
 */
export function orthonormalizeColumns(x: Float64Array, n: number, k: number): void {
  for (let pass = 0; pass < 2; pass++) {
    for (let j = 0; j < k; j++) {
      for (let i = 0; i < j; i++) {
        let d = 0;
        for (let t = 0; t < n; t++) d += x[t * k + i]! * x[t * k + j]!;
        if (d !== 0) for (let t = 0; t < n; t++) x[t * k + j]! -= d * x[t * k + i]!;
      }
      let norm = 0;
      for (let t = 0; t < n; t++) norm += x[t * k + j]! ** 2;
      norm = Math.sqrt(norm);
      // A column this small relative to 1 is rounding noise left after projection: drop it.
      const inv = norm > 1e-12 ? 1 / norm : 0;
      for (let t = 0; t < n; t++) x[t * k + j]! *= inv;
    }
  }
}

export function randomizedSvd(a: ArrayLike<number>, rows: number, cols: number, rank: number, options: RandomizedSvdOptions = {}): TruncatedSvd {
  const minSide = Math.min(rows, cols);
  if (!Number.isInteger(rank) || rank < 1 || rank > minSide) {
    throw new UnsupportedError('bad-rank', `randomizedSvd: rank ${rank} must be an integer in 1..${minSide} for a ${rows} × ${cols} matrix`);
  }
  const p = options.oversampling ?? DEFAULT_OVERSAMPLING;
  const q = options.powerIterations ?? DEFAULT_POWER_ITERATIONS;
  const k = Math.min(minSide, rank + p);
  const rng = new Rng(options.seed ?? 0);
  const omega = new Float64Array(cols * k);
  for (let i = 0; i < omega.length; i++) omega[i] = rng.normal();
  let y = mulAX(a, rows, cols, omega, k);
  orthonormalizeColumns(y, rows, k);
  for (let it = 0; it < q; it++) {
    throwIfAborted(options.signal);
    const z = mulAtY(a, rows, cols, y, k);
    orthonormalizeColumns(z, cols, k);
    y = mulAX(a, rows, cols, z, k);
    orthonormalizeColumns(y, rows, k);
  }
  throwIfAborted(options.signal);
  // Bᵀ = Aᵀ·Q is cols × k with cols ≥ k: its Jacobi SVD Bᵀ = U'·Σ·V'ᵀ gives A ≈ Q·V'·Σ·U'ᵀ.
  const bt = mulAtY(a, rows, cols, y, k);
  const svd = jacobiSvd(bt, cols, k);
  const s = svd.s.slice(0, rank);
  const u = new Float64Array(rows * rank);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < rank; j++) {
      let acc = 0;
      for (let t = 0; t < k; t++) acc += y[r * k + t]! * svd.v[t * k + j]!;
      u[r * rank + j] = acc;
    }
  }
  const v = new Float64Array(cols * rank);
  for (let c = 0; c < cols; c++) for (let j = 0; j < rank; j++) v[c * rank + j] = svd.u[c * k + j]!;
  return { rows, cols, rank, s, u, v };
}

/** The rank-r approximation U·diag(s)·Vᵀ as a row-major rows × cols float64 array. */
export function lowRankProduct(svd: TruncatedSvd): Float64Array {
  const { rows, cols, rank, s, u, v } = svd;
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < rank; j++) {
      const f = u[r * rank + j]! * s[j]!;
      if (f === 0) continue;
      for (let c = 0; c < cols; c++) out[r * cols + c]! += f * v[c * rank + j]!;
    }
  }
  return out;
}
