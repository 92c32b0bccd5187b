/**
 * W-PCA proxy: how many singular directions carry a fraction η of the layer's energy Σσ² = Σλ —
 * the smallest k with λ(1) + … + λ(k) ≥ η Σλ, eigenvalues taken largest first.
 */
export const DEFAULT_WPCA_ETA = 0.99;

export function wpcaCount(evals: ArrayLike<number>, eta = DEFAULT_WPCA_ETA): number {
  if (!(eta > 0 && eta <= 1)) throw new RangeError(`wpcaCount: η must be in (0, 1], got ${eta}`);
  const sorted = Float64Array.from(evals).sort();
  let total = 0;
  for (const v of sorted) total += v;
  if (!(total > 0)) return 0;
  const target = eta * total;
  let acc = 0;
  for (let k = 1; k <= sorted.length; k++) {
    acc += sorted[sorted.length - k]!;
    // A relative slack of 1e-12 keeps η = 1 from missing the last term to roundoff.
    if (acc >= target * (1 - 1e-12)) return k;
  }
  return sorted.length;
}
