import { UnsupportedError } from '../../base/errors';
import { lowRankProduct, randomizedSvd, type RandomizedSvdOptions } from '../../math/randomized-svd';
import type { QuantMatrix } from '../quant/quant-matrix';

/**
 * Per-weight importance scores over a layer's QuantMatrix (row-major, rows = output channels):
 * higher = keep. Scores are Float32Array like the weights, so a score array costs what the
 * layer costs.
 */

/** Magnitude pruning: |w|. */
export function magnitudeScores(m: QuantMatrix): Float32Array {
  return Float32Array.from(m.data, Math.abs);
}

/**
 * Wanda (Sun et al. 2023): |W_ij|·‖X_j‖₂, with ‖X_j‖ the L2 norm of input feature j over the
 * calibration tokens. For a conv kernel the caller passes one norm per QuantMatrix column
 * (input channel × kernel position, i.e. the im2col feature).
 */
export function wandaScores(m: QuantMatrix, actNorms: Float32Array): Float32Array {
  if (actNorms.length !== m.cols) {
    throw new UnsupportedError('wanda-norms', `Wanda: ${actNorms.length} activation norms for a layer with ${m.cols} input features`);
  }
  const out = new Float32Array(m.rows * m.cols);
  for (let r = 0; r < m.rows; r++) {
    for (let c = 0; c < m.cols; c++) out[r * m.cols + c] = Math.abs(m.data[r * m.cols + c]!) * actNorms[c]!;
  }
  return out;
}

/**
 * Power iterations LIFT runs by default (randomizedSvd's own default is HMT's q = 2). Trained
 * layers have flat spectra (σ_r/σ_r+1 ≈ 1.03–1.07 on the MNIST MLP and PaddleOCR convs), where
 * q = 2 leaves W_r off by 1–10 % of its largest entry and changes the mask; q = 20 brings it
 * to ≤ 1e-6 there (measured against a full Jacobi SVD) for 40 thin products, far less than an
 * exact SVD of a large layer.
 */
export const LIFT_POWER_ITERATIONS = 20;

/**
 * LIFT principal weights (Liu et al. 2025): |W_r|, W_r the rank-r approximation of W from a
 * randomized SVD (exact when r + oversampling ≥ min side). Rank is clamped to min(rows, cols).
 * When σ_r ≈ σ_r+1 the rank-r approximation itself is ill-defined and no SVD pins it down.
 */
export function liftScores(m: QuantMatrix, rank: number, options: RandomizedSvdOptions = {}): Float32Array {
  const r = Math.max(1, Math.min(Math.round(rank), m.rows, m.cols));
  const approx = lowRankProduct(randomizedSvd(m.data, m.rows, m.cols, r, { powerIterations: LIFT_POWER_ITERATIONS, ...options }));
  return Float32Array.from(approx, Math.abs);
}

export type DimapVariant = 'suffix' | 'prefix';

/**
 * DIMAP relative distortion over the layer's magnitudes sorted ascending, w_(1) ≤ … ≤ w_(n):
 * - 'suffix' (default): w²_(p) / Σ_{q≥p} w²_(q) — the share of the energy still present when
 *   weight p is the next to go. Monotone in |w| within a layer (the largest weight scores 1)
 *   and scale-free, so layers of one module type rank against each other (as LAMP does).
 * - 'prefix': w²_(p) / Σ_{q≤p} w²_(q), DESIGN.md's formula as written. Note it is NOT monotone:
 *   the smallest weight scores 1 and scores fall roughly as 1/p, so as a keep-score it removes
 *   the largest weights first. Kept for comparison until the source is checked.
 * Equal magnitudes take their sorted order by index; a zero denominator scores 0.
 */
export function dimapScores(m: QuantMatrix, variant: DimapVariant = 'suffix'): Float32Array {
  const n = m.data.length;
  const idx = sortedByMagnitude(m.data);
  const out = new Float32Array(n);
  if (variant === 'prefix') {
    let cum = 0;
    for (let p = 0; p < n; p++) {
      const i = idx[p]!;
      const w2 = m.data[i]! ** 2;
      cum += w2;
      out[i] = cum > 0 ? w2 / cum : 0;
    }
  } else {
    let cum = 0;
    for (let p = n - 1; p >= 0; p--) {
      const i = idx[p]!;
      const w2 = m.data[i]! ** 2;
      cum += w2;
      out[i] = cum > 0 ? w2 / cum : 0;
    }
  }
  return out;
}

/** Indices ordered by |w| ascending, ties by index ascending. */
function sortedByMagnitude(w: Float32Array): Uint32Array {
  const n = w.length;
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  // NaN magnitudes sort as 0 so the comparator stays consistent.
  const mag = Float32Array.from(w, (x) => (x !== x ? 0 : Math.abs(x)));
  idx.sort((a, b) => mag[a]! - mag[b]! || a - b);
  return idx;
}
