import { tqlEigenvalues } from './tql';
import { tridiagonalize } from './tridiagonalize';

/**
 * Eigenvalues of a real symmetric matrix (flat row-major, n × n, float64), ascending.
 * Householder tridiagonalization + implicit QL; `a` is overwritten. Only the lower triangle is read.
 */
export function eigvalsh(a: Float64Array, n: number): Float64Array {
  if (a.length !== n * n) throw new Error(`eigvalsh: expected ${n * n} values for ${n} × ${n}, got ${a.length}`);
  if (n === 0) return new Float64Array(0);
  const { d, e } = tridiagonalize(a, n);
  return tqlEigenvalues(d, e).sort();
}
