import { Rng } from '../../../lib/base/rng';

/** Test matrices for the Gram/ESD kernels: Gaussian, random orthogonal, Hadamard, and U·diag(s)·Vᵀ with a chosen spectrum. */

export function gaussian(rows: number, cols: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: rows * cols }, () => rng.normal());
}

/** k orthonormal vectors of length n (modified Gram–Schmidt, twice for orthogonality to roundoff). */
function orthonormal(rng: Rng, n: number, k: number): Float64Array[] {
  const q: Float64Array[] = [];
  while (q.length < k) {
    const v = Float64Array.from({ length: n }, () => rng.normal());
    for (let pass = 0; pass < 2; pass++) {
      for (const u of q) {
        let d = 0;
        for (let i = 0; i < n; i++) d += u[i]! * v[i]!;
        for (let i = 0; i < n; i++) v[i] = v[i]! - d * u[i]!;
      }
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += v[i]! * v[i]!;
    norm = Math.sqrt(norm);
    for (let i = 0; i < n; i++) v[i] = v[i]! / norm;
    q.push(v);
  }
  return q;
}

/**
 * Random orthogonal n × n matrix (row-major) as a product of Householder reflections
 * Q ← Q (I − 2vvᵀ/vᵀv); `reflections` below n gives a cheaper Q, orthogonal all the same.
 */
export function randomOrthogonal(n: number, rng: Rng, reflections = n): Float64Array {
  const q = new Float64Array(n * n);
  for (let i = 0; i < n; i++) q[i * n + i] = 1;
  const v = new Float64Array(n);
  for (let h = 0; h < reflections; h++) {
    let vv = 0;
    for (let i = 0; i < n; i++) {
      v[i] = rng.normal();
      vv += v[i]! * v[i]!;
    }
    for (let r = 0; r < n; r++) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += q[r * n + i]! * v[i]!;
      const f = (2 * dot) / vv;
      for (let i = 0; i < n; i++) q[r * n + i] = q[r * n + i]! - f * v[i]!;
    }
  }
  return q;
}

/** Sylvester Hadamard matrix entry H_n[i][j] = (−1)^popcount(i & j) (n a power of two). */
export function hadamardEntry(i: number, j: number): number {
  let x = i & j;
  let bits = 0;
  while (x) {
    bits += x & 1;
    x >>>= 1;
  }
  return bits & 1 ? -1 : 1;
}

/** W = U·diag(s)·Vᵀ (rows × cols) with singular values s log-spaced over [sMin, sMax], rounded to f32. */
export function knownSpectrum(rows: number, cols: number, sMin: number, sMax: number, seed: number): { W: Float32Array; s: Float64Array } {
  const rng = new Rng(seed);
  const k = Math.min(rows, cols);
  const U = orthonormal(rng, rows, k);
  const V = orthonormal(rng, cols, k);
  const s = Float64Array.from({ length: k }, (_, i) => sMin * (sMax / sMin) ** (k === 1 ? 0 : i / (k - 1)));
  const W = new Float32Array(rows * cols);
  const row = new Float64Array(cols);
  for (let i = 0; i < rows; i++) {
    row.fill(0);
    for (let l = 0; l < k; l++) {
      const a = U[l]![i]! * s[l]!;
      const v = V[l]!;
      for (let j = 0; j < cols; j++) row[j] = row[j]! + a * v[j]!;
    }
    W.set(row, i * cols);
  }
  return { W, s };
}

/** Gram of the smaller side by the definition, in float64: an independent check on lib/math/gram. */
export function naiveGram(W: Float32Array, rows: number, cols: number): Float64Array {
  const k = Math.min(rows, cols);
  const n = Math.max(rows, cols);
  const at = (i: number, t: number): number => (rows <= cols ? W[i * cols + t]! : W[t * cols + i]!);
  const g = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let t = 0; t < n; t++) s += at(i, t) * at(j, t);
      g[i * k + j] = s;
    }
  }
  return g;
}
