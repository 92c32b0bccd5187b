import { UnsupportedError } from '../base/errors';

/**
 * Eigenvalues and eigenvectors of a small symmetric matrix (n ≤ 64) by cyclic Jacobi rotations:
 * for the PCA of sub-vectors (d ≤ 8), where simplicity and accuracy matter, not speed.
 * Returns the pairs sorted by descending eigenvalue; vectors[j·n + i] is component i of vector j.
 */
export const MAX_SMALL_EIG_N = 64;

export function symEigSmall(a: ArrayLike<number>, n: number): { values: Float64Array; vectors: Float64Array } {
  if (!Number.isInteger(n) || n < 1 || n > MAX_SMALL_EIG_N) throw new UnsupportedError('bad-n', `symEigSmall: n = ${n} must be in 1..${MAX_SMALL_EIG_N}`);
  if (a.length < n * n) throw new UnsupportedError('bad-shape', `symEigSmall: ${a.length} values for a ${n} × ${n} matrix`);
  const m = Float64Array.from({ length: n * n }, (_, i) => a[i]!);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let diag = 0;
    for (let p = 0; p < n; p++) {
      diag += m[p * n + p]! ** 2;
      for (let q = p + 1; q < n; q++) off += m[p * n + q]! ** 2;
    }
    if (off <= 1e-30 * Math.max(diag, 1e-300)) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q]!;
        if (apq === 0) continue;
        const theta = (m[q * n + q]! - m[p * n + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          // Rotate columns p and q, then rows p and q (A ← JᵀAJ); V ← VJ.
          const akp = m[k * n + p]!;
          const akq = m[k * n + q]!;
          m[k * n + p] = c * akp - s * akq;
          m[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = m[p * n + k]!;
          const aqk = m[q * n + k]!;
          m[p * n + k] = c * apk - s * aqk;
          m[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!;
          const vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => m[j * n + j]! - m[i * n + i]! || i - j);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((col, j) => {
    values[j] = m[col * n + col]!;
    for (let i = 0; i < n; i++) vectors[j * n + i] = v[i * n + col]!;
  });
  return { values, vectors };
}
