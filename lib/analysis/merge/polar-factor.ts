import { jacobiSvd } from '../../math/jacobi-svd';

/**
 * Orthogonal polar factor of a rows × cols matrix M (rows ≥ cols, row-major): M = P·S·Qᵀ by SVD,
 * polar(M) = P·Qᵀ, the closest matrix with orthonormal columns to M in Frobenius norm (the
 * orthogonal Procrustes solution). TSV-merge uses it to decorrelate the concatenated singular
 * vectors of several tasks.
 *
 * A rank-deficient M happens in practice: hidden units that never fire get no update, so every
 * task's left singular vectors live in the same smaller subspace and T·k of them cannot be
 * independent. LAPACK (the authors' torch code) then completes P with arbitrary orthonormal
 * directions, which would add arbitrary directions to the merged weights. Here directions with
 * s < POLAR_RANK_RTOL·s_max are dropped instead, giving the partial isometry P_r·Q_rᵀ: the
 * dependency below float32 resolution is an exact dependency blurred by rounding, and the
 * normalised singular vectors of such tiny (or underflowed) values are noise, not directions.
 */
export const POLAR_RANK_RTOL = 1e-7;

export function polarFactor(m: Float64Array, rows: number, cols: number): Float64Array {
  const { s, u, v } = jacobiSvd(m, rows, cols);
  const sMax = s[0] ?? 0;
  let rank = 0;
  while (rank < cols && s[rank]! > POLAR_RANK_RTOL * sMax) rank++;
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      let acc = 0;
      for (let j = 0; j < rank; j++) acc += u[r * cols + j]! * v[c * cols + j]!;
      out[r * cols + c] = acc;
    }
  }
  return out;
}
