/**
 * Power-law fit of an eigenvalue tail, WeightWatcher's own fitter (WW_powerlaw.WWFit, the
 * default `pl_package='ww'`): for each candidate xmin = x_i (all sorted values but the last),
 * α_i = 1 + n / Σ_{k≥i} ln(x_k / x_i) with n = N − i, and the KS distance
 * D_i = max_k |1 − (x_{i+k}/x_i)^{1−α_i} − k/n| (D_i = 1 when α_i ≤ 1); the fit is the first i
 * with the smallest D, σ = (α − 1)/√n.
 *
 * Variants (WeightWatcher's `fix_fingers` and FARMS / TempBalance's `xmin_pos`):
 * - `xmin_peak`: only candidates between log10(0.95·peak) and xmin_max (default 1.5·peak) are
 *   tried, peak = left edge of the fullest bin of a 100-bin histogram of log10 x. The lower bound
 *   really is log10 of 0.95·peak in WeightWatcher and TempBalance; we keep it so numbers match.
 * - `xmin_mid`: xmin = x_{⌊N/2⌋} (TempBalance / FARMS `xmin_pos = 2`), one α and D there.
 * - `clip_xmax`: WeightWatcher's fit_clipped_powerlaw — drop the top 2, 3, … values until α falls
 *   by more than `fingerThresh` below the unclipped α (or α ≤ 2, or maxFingers tries).
 * Departures, both named here: WeightWatcher sends xmin_peak to the `powerlaw` package, whose KS
 * distance differs slightly; we score the same xmin range with WWFit's D, as TempBalance does.
 * WeightWatcher resets a user's max_fingers to 10 unless it is ≥ half the eigenvalue count; we
 * honour the value given.
 */

export type XminMode = 'auto' | 'xmin_peak' | 'xmin_mid';

export interface PowerLawFitOptions {
  xmin?: XminMode;
  /** xmin_peak: upper end of the xmin search (default 1.5 × peak). */
  xminMax?: number;
  /** xmin_peak: histogram bins (WeightWatcher and TempBalance use 100). */
  bins?: number;
  /** xmin_mid: xmin index = ⌊N / xminPos⌋. */
  xminPos?: number;
}

export interface PowerLawFit {
  alpha: number;
  D: number;
  xmin: number;
  xmax: number;
  sigma: number;
  /** Index of xmin in the fitted (sorted) data. */
  xminIndex: number;
  /** Values in the fitted data (after any clipping). */
  n: number;
}

/**
 * Fit a power law to ascending, strictly positive values. Returns null when there are fewer than
 * two values (WeightWatcher's fit fails there too).
 */
export function fitPowerLaw(sorted: ArrayLike<number>, options: PowerLawFitOptions = {}): PowerLawFit | null {
  const N = sorted.length;
  if (N < 2) return null;
  const logs = new Float64Array(N);
  for (let i = 0; i < N; i++) logs[i] = Math.log(sorted[i]!);
  // suffix[i] = Σ_{k≥i} ln x_k
  const suffix = new Float64Array(N + 1);
  for (let i = N - 1; i >= 0; i--) suffix[i] = suffix[i + 1]! + logs[i]!;

  const alphaAt = (i: number) => {
    const n = N - i;
    return 1 + n / (suffix[i]! - n * logs[i]!);
  };
  const dAt = (i: number, alpha: number) => {
    if (!(alpha > 1)) return 1;
    const n = N - i;
    const li = logs[i]!;
    const e = 1 - alpha;
    let dmax = 0;
    for (let k = 0; k < n; k++) {
      const v = Math.abs(1 - Math.exp(e * (logs[i + k]! - li)) - k / n);
      if (v > dmax) dmax = v;
    }
    return dmax;
  };

  const mode = options.xmin ?? 'auto';
  let best = -1;
  let bestD = Infinity;
  let bestAlpha = NaN;
  if (mode === 'xmin_mid') {
    const i = Math.min(N - 1, Math.floor(N / (options.xminPos ?? 2)));
    best = i;
    bestAlpha = alphaAt(i);
    bestD = dAt(i, bestAlpha);
  } else {
    let lo = -Infinity;
    let hi = Infinity;
    if (mode === 'xmin_peak') {
      const peak = histogramPeak(logs, options.bins ?? 100);
      lo = Math.log10(0.95 * peak);
      hi = options.xminMax ?? 1.5 * peak;
    }
    for (let i = 0; i < N - 1; i++) {
      const x = sorted[i]!;
      if (x < lo) continue;
      if (x > hi) break;
      const alpha = alphaAt(i);
      const D = dAt(i, alpha);
      if (D < bestD) {
        bestD = D;
        best = i;
        bestAlpha = alpha;
      }
    }
    if (best < 0) return null;
  }
  const n = N - best;
  return {
    alpha: bestAlpha,
    D: bestD,
    xmin: sorted[best]!,
    xmax: sorted[N - 1]!,
    sigma: (bestAlpha - 1) / Math.sqrt(n),
    xminIndex: best,
    n: N,
  };
}

/** 10^(left edge of the fullest of `bins` equal bins over [min, max] of log10 x), as numpy.histogram bins it. */
function histogramPeak(logs: Float64Array, bins: number): number {
  const LOG10E = Math.LOG10E;
  let mn = Infinity;
  let mx = -Infinity;
  for (const v of logs) {
    const l = v * LOG10E;
    if (l < mn) mn = l;
    if (l > mx) mx = l;
  }
  if (!(mx > mn)) return 10 ** mn;
  const counts = new Int32Array(bins);
  const width = mx - mn;
  for (const v of logs) {
    const l = v * LOG10E;
    let b = Math.floor(((l - mn) / width) * bins);
    if (b >= bins) b = bins - 1; // numpy's last bin is closed
    if (b < 0) b = 0;
    counts[b] = counts[b]! + 1;
  }
  let ih = 0;
  for (let b = 1; b < bins; b++) if (counts[b]! > counts[ih]!) ih = b;
  return 10 ** (mn + (width * ih) / bins);
}

export interface ClippedPowerLawFit {
  fit: PowerLawFit;
  /** The unclipped fit (WeightWatcher's raw_alpha comes from it). */
  raw: PowerLawFit;
  num_fingers: number;
}

export interface ClipOptions extends PowerLawFitOptions {
  /** Largest number of top values to try removing (WeightWatcher DEFAULT_MAX_FINGERS = 10). */
  maxFingers?: number;
  /** α must drop by more than this to count as a finger (WeightWatcher DEFAULT_FINGER_THRESH = 1.0). */
  fingerThresh?: number;
  /** Stop clipping once α ≤ this (WeightWatcher min_alpha = 2.0). */
  minAlpha?: number;
}

/** WeightWatcher's fix_fingers='clip_xmax' (fit_clipped_powerlaw). */
export function fitClippedPowerLaw(sorted: ArrayLike<number>, options: ClipOptions = {}): ClippedPowerLawFit | null {
  const raw = fitPowerLaw(sorted, options);
  if (!raw) return null;
  const maxFingers = options.maxFingers ?? 10;
  const thresh = options.fingerThresh ?? 1.0;
  const minAlpha = options.minAlpha ?? 2.0;
  const arr = Array.from(sorted);
  for (let idx = 2; idx < maxFingers; idx++) {
    if (arr.length - idx < 2) break;
    const fit = fitPowerLaw(arr.slice(0, arr.length - idx), options);
    if (!fit) break;
    // WeightWatcher removes idx values but reports idx − 1 fingers.
    if (fit.alpha + thresh < raw.alpha) return { fit, raw, num_fingers: idx - 1 };
    if (fit.alpha <= minAlpha) break;
  }
  return { fit: raw, raw, num_fingers: 0 };
}
