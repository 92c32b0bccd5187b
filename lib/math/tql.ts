/**
 * Eigenvalues of a symmetric tridiagonal matrix by the implicit QL method with Wilkinson-style
 * shifts (EISPACK tql1 / Numerical Recipes tqli, values only). d: diagonal (overwritten with the
 * eigenvalues, unsorted), e: sub-diagonal with e[i] coupling i and i+1 (destroyed).
 * Absolute accuracy is about machine epsilon times the matrix norm.
 */
const MAX_ITER_PER_VALUE = 60;

export function tqlEigenvalues(d: Float64Array, e: Float64Array): Float64Array {
  const n = d.length;
  if (n > 0) e[n - 1] = 0;
  for (let l = 0; l < n; l++) {
    let iter = 0;
    let m: number;
    do {
      for (m = l; m < n - 1; m++) {
        const dd = Math.abs(d[m]!) + Math.abs(d[m + 1]!);
        if (Math.abs(e[m]!) <= Number.EPSILON * dd) break;
      }
      if (m !== l) {
        if (iter++ === MAX_ITER_PER_VALUE) throw new Error(`tql: no convergence for eigenvalue ${l} of ${n}`);
        let g = (d[l + 1]! - d[l]!) / (2 * e[l]!);
        let r = Math.hypot(g, 1);
        g = d[m]! - d[l]! + e[l]! / (g + (g >= 0 ? Math.abs(r) : -Math.abs(r)));
        let s = 1;
        let c = 1;
        let p = 0;
        let i: number;
        let underflow = false;
        for (i = m - 1; i >= l; i--) {
          const f = s * e[i]!;
          const b = c * e[i]!;
          r = Math.hypot(f, g);
          e[i + 1] = r;
          if (r === 0) {
            // Recover from underflow: deflate and start over.
            d[i + 1] = d[i + 1]! - p;
            e[m] = 0;
            underflow = true;
            break;
          }
          s = f / r;
          c = g / r;
          g = d[i + 1]! - p;
          r = (d[i]! - g) * s + 2 * c * b;
          p = s * r;
          d[i + 1] = g + p;
          g = c * r - b;
        }
        if (underflow) continue;
        d[l] = d[l]! - p;
        e[l] = g;
        e[m] = 0;
      }
    } while (m !== l);
  }
  return d;
}
