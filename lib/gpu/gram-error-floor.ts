import type { GramPrecision } from './gram-gpu';

/**
 * Where a GPU-accumulated Gram stops being trustworthy, as a level relative to λmax.
 *
 * Model (calibrated on SwiftShader against the float64 CPU path, see tests/unit/gpu): rounding in
 * a sum of n products is a random walk whose steps scale with the running sum, so an entry's error
 * is about u·√n·G_ii and the eigenvalue shift, bounded by the error matrix's norm (Weyl), stays
 * below u·√n·max_i G_ii. Eigenvalues near floor·λmax are noise; at x·λmax the relative error is
 * about floor / x. Measured errors sit 2–15× below this estimate for both precisions.
 */

/** Effective unit roundoff of one accumulation step: f32's 2⁻²⁴; double-float measured ≲ 2⁻³⁹, with margin. */
export const GRAM_UNIT_ROUNDOFF: Readonly<Record<GramPrecision, number>> = { f32: 2 ** -24, df32: 2 ** -36 };

/**
 * maxDiag: the Gram's largest diagonal entry (max squared row/column norm of W), n: the reduction
 * length (the long side of W), lambdaMax: the largest eigenvalue. Returns 0 for a zero matrix,
 * whose eigenvalues are exact.
 */
export function gramErrorFloor(maxDiag: number, n: number, precision: GramPrecision, lambdaMax: number): number {
  if (!(lambdaMax > 0) || !(maxDiag > 0)) return 0;
  return (GRAM_UNIT_ROUNDOFF[precision] * Math.sqrt(n) * maxDiag) / lambdaMax;
}
