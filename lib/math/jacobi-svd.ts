import { LimitError, UnsupportedError } from '../base/errors';

/**
 * Thin SVD A = U·diag(s)·Vᵀ of a rows × cols matrix (rows ≥ cols) by one-sided Jacobi
 * (Hestenes) rotations in float64: orthogonalises column pairs until every pair is orthogonal to
 * machine precision. Slow (cols²·rows per sweep) but accurate, so it serves as the exact small
 * SVD inside the randomized SVD and as the reference its tests compare against.
 * Returns s descending, U rows × cols (row-major), V cols × cols (row-major, column j = v_j).
 */
export const MAX_JACOBI_SVD_COLS = 2048;
const MAX_SWEEPS = 60;

export interface Svd {
  rows: number;
  cols: number;
  s: Float64Array;
  u: Float64Array;
  v: Float64Array;
}

export function jacobiSvd(a: ArrayLike<number>, rows: number, cols: number): Svd {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1 || rows < cols) {
    throw new UnsupportedError('bad-shape', `jacobiSvd: ${rows} × ${cols} needs rows ≥ cols ≥ 1 (transpose a wide matrix first)`);
  }
  if (cols > MAX_JACOBI_SVD_COLS || rows * cols > 2 ** 26) {
    throw new LimitError('svd-size', `jacobiSvd: ${rows} × ${cols} is beyond the exact-SVD limit (${MAX_JACOBI_SVD_COLS} columns, 2^26 entries)`);
  }
  if (a.length < rows * cols) throw new UnsupportedError('bad-shape', `jacobiSvd: ${a.length} values for ${rows} × ${cols}`);
  // Work column-major: column j is w[j·rows … j·rows + rows).
  const w = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) w[c * rows + r] = a[r * cols + c]!;
  const v = new Float64Array(cols * cols);
  for (let i = 0; i < cols; i++) v[i * cols + i] = 1;
  const eps = 1e-15;
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    let rotated = false;
    for (let p = 0; p < cols - 1; p++) {
      const op = p * rows;
      for (let q = p + 1; q < cols; q++) {
        const oq = q * rows;
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let k = 0; k < rows; k++) {
          const x = w[op + k]!;
          const y = w[oq + k]!;
          alpha += x * x;
          beta += y * y;
          gamma += x * y;
        }
        if (gamma === 0 || Math.abs(gamma) <= eps * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        for (let k = 0; k < rows; k++) {
          const x = w[op + k]!;
          const y = w[oq + k]!;
          w[op + k] = c * x - s * y;
          w[oq + k] = s * x + c * y;
        }
        for (let k = 0; k < cols; k++) {
          const x = v[k * cols + p]!;
          const y = v[k * cols + q]!;
          v[k * cols + p] = c * x - s * y;
          v[k * cols + q] = s * x + c * y;
        }
      }
    }
    if (!rotated) break;
  }
  const norms = new Float64Array(cols);
  for (let j = 0; j < cols; j++) {
    let ss = 0;
    for (let k = 0; k < rows; k++) ss += w[j * rows + k]! ** 2;
    norms[j] = Math.sqrt(ss);
  }
  const order = Array.from({ length: cols }, (_, j) => j).sort((x, y) => norms[y]! - norms[x]! || x - y);
  const s = new Float64Array(cols);
  const u = new Float64Array(rows * cols);
  const vs = new Float64Array(cols * cols);
  order.forEach((j, jj) => {
    const sj = norms[j]!;
    s[jj] = sj;
    for (let k = 0; k < rows; k++) u[k * cols + jj] = sj > 0 ? w[j * rows + k]! / sj : 0;
    for (let k = 0; k < cols; k++) vs[k * cols + jj] = v[k * cols + j]!;
  });
  return { rows, cols, s, u, v: vs };
}
