import { jacobiSvd } from '../../math/jacobi-svd';
import { randomizedSvd } from '../../math/randomized-svd';

/**
 * The k leading singular triplets of a rows × cols matrix (row-major): u rows × k, v cols × k
 * (column j = the j-th singular vector), s descending. Exact (one-sided Jacobi on the orientation
 * with rows ≥ cols) while the short side is at most EXACT_SVD_MAX_SIDE; beyond that a seeded
 * randomized SVD, because Jacobi's cost grows with the square of the short side.
 */
export const EXACT_SVD_MAX_SIDE = 256;

export interface SingularTriplets {
  k: number;
  s: Float64Array;
  u: Float64Array;
  v: Float64Array;
}

export function topSingularTriplets(a: Float64Array, rows: number, cols: number, k: number, seed = 0): SingularTriplets {
  if (Math.min(rows, cols) > EXACT_SVD_MAX_SIDE) {
    const r = randomizedSvd(a, rows, cols, k, { seed });
    return { k, s: r.s, u: r.u, v: r.v };
  }
  const tall = rows >= cols;
  let m = a;
  if (!tall) {
    m = new Float64Array(rows * cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) m[c * rows + r] = a[r * cols + c]!;
  }
  const big = tall ? rows : cols;
  const small = tall ? cols : rows;
  const svd = jacobiSvd(m, big, small);
  // svd.u is big × small, svd.v is small × small; for a wide input they swap roles.
  const take = (src: Float64Array, n: number): Float64Array => {
    const out = new Float64Array(n * k);
    for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) out[i * k + j] = src[i * small + j]!;
    return out;
  };
  const bigPart = take(svd.u, big);
  const smallPart = take(svd.v, small);
  return { k, s: svd.s.slice(0, k), u: tall ? bigPart : smallPart, v: tall ? smallPart : bigPart };
}
