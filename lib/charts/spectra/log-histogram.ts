/**
 * Histogram of positive values on log-spaced bins, as a density per decade (count / (n · Δlog10 x)),
 * so ESDs of different sizes (a layer's, its FARMS windows') overlay on one axis and a power law
 * λ^−α shows as a straight line of slope 1 − α.
 */

export interface LogHistogram {
  /** bins + 1 edges, ascending, log-spaced. */
  edges: Float64Array;
  counts: Float64Array;
  /** counts / (n · Δlog10 x); integrates to 1 over log10 x. */
  density: Float64Array;
  /** Values that were binned (positive and within [lo, hi]). */
  n: number;
}

/** `values` need not be sorted; non-positive and non-finite values are left out (a log axis has no place for them). */
export function logHistogram(values: ArrayLike<number>, bins: number, lo: number, hi: number): LogHistogram {
  if (!(bins >= 1 && Number.isInteger(bins))) throw new RangeError(`logHistogram: bins must be a positive integer, got ${bins}`);
  if (!(lo > 0 && hi >= lo)) throw new RangeError(`logHistogram: need 0 < lo ≤ hi, got [${lo}, ${hi}]`);
  const l0 = Math.log10(lo);
  // A single distinct value still gets one decade-wide bin around it, not a zero-width one.
  const l1 = hi > lo ? Math.log10(hi) : l0 + 1;
  const w = (l1 - l0) / bins;
  const edges = new Float64Array(bins + 1);
  for (let i = 0; i <= bins; i++) edges[i] = 10 ** (l0 + i * w);
  const counts = new Float64Array(bins);
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!(v > 0) || !Number.isFinite(v) || v < lo || v > hi) continue;
    let b = Math.floor((Math.log10(v) - l0) / w);
    if (b >= bins) b = bins - 1; // the top edge belongs to the last bin
    if (b < 0) b = 0;
    counts[b] = counts[b]! + 1;
    n++;
  }
  const density = new Float64Array(bins);
  if (n > 0) for (let i = 0; i < bins; i++) density[i] = counts[i]! / (n * w);
  return { edges, counts, density, n };
}
