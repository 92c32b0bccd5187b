/**
 * Marchenko–Pastur fit of an ESD, as WeightWatcher's mp_fit (analyze(mp_fit=True)) does it:
 * 1. rescale the eigenvalues so their mean is 1 (W_scale² = num_evals / Σλ);
 * 2. kernel density of the rescaled values (linear kernel, bandwidth 0.1) on 1000 points of
 *    [0, max + 0.5] — of √λ when Q = 1, where the quarter-circle law of singular values is used;
 * 3. σ minimising the squared residual between that density and the MP (or quarter-circle)
 *    density, first on a grid σ ∈ [0.05 s, 2 s) step 0.01 s with s = √(λmax)/(1 + 1/√Q)
 *    (scipy.optimize.brute), then polished by Nelder–Mead (brute's default `finish=fmin`);
 *    grid points where the density is below 0.01 are left out, and an MP curve whose upper edge
 *    lies left of the density peak or right of the grid, or whose lower edge lies right of the
 *    peak, gets a residual of 1000 at every point;
 * 4. bulk edges λ± = σ²(1 ± 1/√Q)², num_spikes = count of λ > λ+ + √(Q^{-1/2} λ+^{2/3} M^{-2/3})
 *    (the Tracy–Widom margin as WeightWatcher writes it), mp_softrank = λ+ / λmax.
 * bulk_min / bulk_max are reported on the original (unrescaled) scale, like WeightWatcher's.
 * This is RMT_Util's resid_mp / fit_density_with_range after WeightWatcher issue #60 (density
 * floor, σ grid scaled by s), which reproduces the 0.7.5.5 reference numbers; the density peak can
 * be a tie decided by roundoff — see mpResidual and MpFitOptions.tieBreak.
 */

export interface MpFit {
  sigma_mp: number;
  num_spikes: number;
  mp_softrank: number;
  /** Bulk edges on the original eigenvalue scale. */
  bulk_min: number;
  bulk_max: number;
  W_scale: number;
  /**
   * True when the top of the fitted density is a plateau of tied grid points: the fit then hangs
   * on roundoff (in WeightWatcher too), and tieBreak 'last' may give a different σ.
   */
  peak_tied: boolean;
}

const BANDWIDTH = 0.1;
const GRID_POINTS = 1000;
const DENSITY_FLOOR = 0.01;
const PENALTY = 1000;
/** Density values this close (relative) to the maximum are a tie at the top of the density. */
const PEAK_TIE_REL = 1e-12;

/**
 * Linear-kernel density of ascending `values` at `xs`, accumulated the way sklearn's
 * KernelDensity(kernel='linear').score_samples does it for small samples (one KD-tree leaf, points
 * in data order): the log-kernels log(1 − |x − v|/h) are combined with logaddexp, then −log h and
 * −log n are added and the result exponentiated. Mathematically this is (1/nh) Σ max(0, 1 − |x − v|/h);
 * doing it sklearn's way keeps the same rounding, which decides between grid points that tie
 * at the top of the (piecewise-linear) density — and WeightWatcher's fit depends on that peak.
 */
function linearKde(values: Float64Array, xs: Float64Array, h: number): Float64Array {
  const out = new Float64Array(xs.length);
  const n = values.length;
  const logKnorm = -Math.log(h);
  const logN = Math.log(n);
  let lo = 0;
  for (let j = 0; j < xs.length; j++) {
    const x = xs[j]!;
    while (lo < n && values[lo]! <= x - h) lo++;
    let acc = -Infinity;
    for (let i = lo; i < n; i++) {
      const v = values[i]!;
      if (v >= x + h) break;
      const d = Math.abs(x - v);
      if (!(d < h)) continue;
      const lk = Math.log(1 - d / h);
      const a = Math.max(acc, lk);
      acc = a === -Infinity ? -Infinity : a + Math.log(Math.exp(acc - a) + Math.exp(lk - a));
    }
    out[j] = Math.exp(acc + logKnorm - logN);
  }
  return out;
}

function linspace(a: number, b: number, n: number): Float64Array {
  const xs = new Float64Array(n);
  const step = (b - a) / (n - 1);
  for (let i = 0; i < n; i++) xs[i] = a + i * step;
  xs[n - 1] = b;
  return xs;
}

/** Residual Σ(model − density)² as WeightWatcher's resid_mp (allresid=False); toFit = rescaled λ, or √λ when Q = 1. */
export function mpResidual(toFit: Float64Array, Q: number, tieBreak: 'first' | 'last' = 'first'): { f: (sigma: number) => number; peakTied: boolean } {
  let mx = -Infinity;
  for (const v of toFit) if (v > mx) mx = v;
  const xsAll = linspace(0, mx + 0.5, GRID_POINTS);
  const ysAll = linearKde(toFit, xsAll, BANDWIDTH);
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < xsAll.length; i++) {
    if (ysAll[i]! > DENSITY_FLOOR) {
      xs.push(xsAll[i]!);
      ys.push(ysAll[i]!);
    }
  }
  // numpy: xde[np.where(yde == max(yde))][0], the first grid point at the maximum. The density is
  // piecewise linear, so its top is often a plateau of grid points equal in exact arithmetic, and
  // which one numpy sees as the maximum depends on the last bits of the eigenvalues; `tieBreak`
  // picks the first (default) or the last point of such a plateau.
  let ymax = -Infinity;
  let xMax = -Infinity;
  for (let i = 0; i < xs.length; i++) {
    if (ys[i]! > ymax) ymax = ys[i]!;
    if (xs[i]! > xMax) xMax = xs[i]!;
  }
  let xPeak = NaN;
  let tied = 0;
  for (let i = 0; i < xs.length; i++) {
    if (ys[i]! >= ymax * (1 - PEAK_TIE_REL)) {
      tied++;
      if (tied === 1 || tieBreak === 'last') xPeak = xs[i]!;
    }
  }
  const y = 1 / Q;
  const f = (sigma: number) => {
    let sum = 0;
    if (Q === 1) {
      const c = 1 / (Math.PI * sigma * sigma);
      for (let i = 0; i < xs.length; i++) {
        const x = xs[i]!;
        const q = 4 - x * x;
        const model = q >= 0 ? c * Math.sqrt(q) : 0; // numpy: sqrt(<0) = nan -> nan_to_num -> 0
        const r = model - ys[i]!;
        sum += r * r;
      }
      return sum;
    }
    const b = (sigma * (1 + Math.sqrt(1 / Q))) ** 2;
    const a = (sigma * (1 - Math.sqrt(1 / Q))) ** 2;
    if (b < xPeak || b > xMax || a > xPeak) return xs.length * PENALTY * PENALTY;
    const c = 1 / (2 * Math.PI * sigma * sigma * y);
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i]!;
      const q = (b - x) * (x - a);
      let model = q >= 0 && x !== 0 ? (c / x) * Math.sqrt(q) : 0;
      if (!Number.isFinite(model)) model = 0;
      const r = model - ys[i]!;
      sum += r * r;
    }
    return sum;
  };
  return { f, peakTied: tied > 1 };
}

/** scipy.optimize.fmin (Nelder–Mead) in one dimension with its defaults xtol = ftol = 1e-4. */
export function nelderMead1d(f: (x: number) => number, x0: number, xtol = 1e-4, ftol = 1e-4): { x: number; fx: number } {
  const maxIter = 200;
  let s0 = x0;
  let s1 = x0 !== 0 ? 1.05 * x0 : 0.00025;
  let f0 = f(s0);
  let f1 = f(s1);
  let calls = 2;
  const order = () => {
    if (f1 < f0) {
      [s0, s1] = [s1, s0];
      [f0, f1] = [f1, f0];
    }
  };
  order();
  let iterations = 1;
  while (calls < maxIter && iterations < maxIter) {
    if (Math.abs(s1 - s0) <= xtol && Math.abs(f0 - f1) <= ftol) break;
    const xbar = s0;
    const xr = 2 * xbar - s1;
    const fxr = f(xr);
    calls++;
    let shrink = false;
    if (fxr < f0) {
      const xe = 3 * xbar - 2 * s1;
      const fxe = f(xe);
      calls++;
      if (fxe < fxr) {
        s1 = xe;
        f1 = fxe;
      } else {
        s1 = xr;
        f1 = fxr;
      }
    } else if (fxr < f1) {
      // With two vertices scipy's 'reflect' case (fxr < fsim[-2] = fsim[0]) cannot happen.
      const xc = 1.5 * xbar - 0.5 * s1;
      const fxc = f(xc);
      calls++;
      if (fxc <= fxr) {
        s1 = xc;
        f1 = fxc;
      } else shrink = true;
    } else {
      const xcc = 0.5 * xbar + 0.5 * s1;
      const fxcc = f(xcc);
      calls++;
      if (fxcc < f1) {
        s1 = xcc;
        f1 = fxcc;
      } else shrink = true;
    }
    if (shrink) {
      s1 = s0 + 0.5 * (s1 - s0);
      f1 = f(s1);
      calls++;
    }
    iterations++;
    order();
  }
  return f0 <= f1 ? { x: s0, fx: f0 } : { x: s1, fx: f1 };
}

/**
 * MP fit of `evals` (any order, non-negative) for a layer with sides N ≥ M.
 * Returns null when there is nothing to fit (no positive eigenvalue).
 */
export interface MpFitOptions {
  /** Which point of a plateau at the top of the density counts as its peak (see mpResidual). */
  tieBreak?: 'first' | 'last';
}

export function fitMarchenkoPastur(evals: ArrayLike<number>, N: number, M: number, options: MpFitOptions = {}): MpFit | null {
  const n = evals.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += evals[i]!;
  if (!(sum > 0) || !Number.isFinite(sum)) return null;
  const Q = N / M;
  const scale2 = n / sum;
  const W_scale = Math.sqrt(n) / Math.sqrt(sum);
  const toPlot = new Float64Array(n);
  let lambdaMax = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = scale2 * evals[i]!;
    toPlot[i] = v;
    if (v > lambdaMax) lambdaMax = v;
  }
  const toFit = Q === 1 ? toPlot.map(Math.sqrt) : toPlot;
  const { f: resid, peakTied } = mpResidual(toFit, Q, options.tieBreak);

  // scipy.optimize.brute over np.mgrid[slice(0.05 s, 2 s, 0.01 s)] (np.arange semantics).
  const s = Math.sqrt(lambdaMax / (1 + 1 / Math.sqrt(Q)) ** 2);
  const start = 0.05 * s;
  const stop = 2.0 * s;
  const step = 0.01 * s;
  const count = Math.ceil((stop - start) / step);
  let bestSigma = start;
  let bestR = Infinity;
  for (let i = 0; i < count; i++) {
    const sigma = start + i * step;
    const r = resid(sigma);
    if (r < bestR) {
      bestR = r;
      bestSigma = sigma;
    }
  }
  const sigma_mp = nelderMead1d(resid, bestSigma).x;

  const bulkMax = (sigma_mp * (1 + 1 / Math.sqrt(Q))) ** 2;
  const bulkMin = (sigma_mp * (1 - 1 / Math.sqrt(Q))) ** 2;
  const TW = (1 / Math.sqrt(Q)) * Math.pow(bulkMax, 2 / 3) * Math.pow(M, -2 / 3);
  const cutoff = bulkMax + Math.sqrt(TW);
  let num_spikes = 0;
  for (const v of toPlot) if (v > cutoff) num_spikes++;
  return {
    sigma_mp,
    num_spikes,
    mp_softrank: bulkMax / lambdaMax,
    bulk_min: bulkMin / scale2,
    bulk_max: bulkMax / scale2,
    W_scale,
    peak_tied: peakTied,
  };
}
