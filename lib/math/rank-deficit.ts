/**
 * How many singular values of a matrix are ≤ tol, found by Householder QR with column pivoting
 * (Businger–Golub) in float64: the factorisation stops when every remaining column has norm
 * ≤ tol, and the columns left over are the deficit. Used where the Gram matrix cannot tell a zero
 * singular value from a tiny one (its eigenvalues carry ~k·ε·λmax of roundoff, i.e. ~1e-8 σmax),
 * while QR resolves singular values to ~ε·σmax, as the SVD WeightWatcher uses does.
 * `data` is row-major rows × cols.
 */
export function rankDeficit(data: ArrayLike<number>, rows: number, cols: number, tol: number): number {
  // Work on the tall orientation, column-major, so every column is contiguous.
  const tall = rows >= cols;
  const n = tall ? rows : cols;
  const m = tall ? cols : rows;
  const a = new Float64Array(n * m);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = data[r * cols + c]!;
      if (tall) a[c * n + r] = v;
      else a[r * n + c] = v;
    }
  }
  const tol2 = tol * tol;
  for (let j = 0; j < m; j++) {
    let best = j;
    let bestNorm = -1;
    for (let c = j; c < m; c++) {
      let s = 0;
      const off = c * n;
      for (let r = j; r < n; r++) s += a[off + r]! * a[off + r]!;
      if (s > bestNorm) {
        bestNorm = s;
        best = c;
      }
    }
    if (bestNorm <= tol2) return m - j;
    if (best !== j) {
      for (let r = 0; r < n; r++) {
        const t = a[j * n + r]!;
        a[j * n + r] = a[best * n + r]!;
        a[best * n + r] = t;
      }
    }
    const off = j * n;
    const norm = Math.sqrt(bestNorm);
    const alpha = a[off + j]! >= 0 ? -norm : norm;
    a[off + j] = a[off + j]! - alpha; // v = x − α e1, stored in place
    let vv = 0;
    for (let r = j; r < n; r++) vv += a[off + r]! * a[off + r]!;
    if (vv === 0) continue;
    for (let c = j + 1; c < m; c++) {
      const oc = c * n;
      let dot = 0;
      for (let r = j; r < n; r++) dot += a[off + r]! * a[oc + r]!;
      const f = (2 * dot) / vv;
      for (let r = j; r < n; r++) a[oc + r] = a[oc + r]! - f * a[off + r]!;
    }
  }
  return 0;
}
