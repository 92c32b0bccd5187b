import { fitClippedPowerLaw, fitPowerLaw, type PowerLawFit } from '../../math/powerlaw-fit';

/**
 * WeightWatcher's per-layer columns from a layer's ESD (apply_powerlaw + apply_norm_metrics of
 * WeightWatcher 0.7.5): the power-law fit runs on the eigenvalues above EVALS_THRESH = 1e-5, the
 * norm metrics on all of them.
 */

/** WeightWatcher's EVALS_THRESH: eigenvalues at or below it are left out of the power-law fit. */
export const EVALS_THRESH = 1e-5;
/** WeightWatcher's OVER_TRAINED_THRESH / UNDER_TRAINED_THRESH on α. */
export const OVER_TRAINED_THRESH = 2.0;
export const UNDER_TRAINED_THRESH = 6.0;

export type FitMethod = 'auto' | 'xmin_peak' | 'xmin_mid' | 'clip_xmax';
export type TrainingWarning = '' | 'over-trained' | 'under-trained';

export interface MetricsOptions {
  /** 'auto' is WeightWatcher's default; 'xmin_peak' / 'clip_xmax' are its fix_fingers; 'xmin_mid' is FARMS / TempBalance's. */
  fit?: FitMethod;
  /** xmin_peak: upper end of the xmin range (default 1.5 × the histogram peak). */
  xminMax?: number;
  /** clip_xmax: WeightWatcher max_fingers (10) and finger_thresh (1.0). */
  maxFingers?: number;
  fingerThresh?: number;
  evalsThresh?: number;
  /** The ESD's matrix_rank when known better than from the eigenvalues (see layerEsd). */
  rank?: number;
}

export interface WwMetrics {
  /** 'ok', or 'failed' when the power-law fit had too few eigenvalues above the threshold. */
  status: 'ok' | 'failed';
  alpha: number;
  alpha_weighted: number;
  D: number;
  xmin: number;
  xmax: number;
  sigma: number;
  num_pl_spikes: number;
  norm: number;
  log_norm: number;
  spectral_norm: number;
  log_spectral_norm: number;
  log_alpha_norm: number;
  stable_rank: number;
  matrix_rank: number;
  entropy: number;
  lambda_max: number;
  num_evals: number;
  warning: TrainingWarning;
  /** clip_xmax only: top eigenvalues clipped, and α before clipping. */
  num_fingers?: number;
  raw_alpha?: number;
}

/** WeightWatcher's matrix_rank from eigenvalues: σ = √λ > σmax · N · ε(float64). */
export function matrixRank(evals: ArrayLike<number>, N: number): number {
  let mx = 0;
  for (let i = 0; i < evals.length; i++) mx = Math.max(mx, evals[i]!);
  const tol = Math.sqrt(mx) * N * Number.EPSILON;
  let r = 0;
  for (let i = 0; i < evals.length; i++) if (Math.sqrt(evals[i]!) > tol) r++;
  return r;
}

/**
 * WeightWatcher's matrix_entropy: −Σ p ln p / ln(rank), p = λ / Σλ, rank from matrix_rank
 * (1.000001 when the rank is 1). Exact zeros contribute 0 here (numpy gives NaN for 0·ln 0).
 */
/** `rank` overrides the rank computed from `evals` (layerEsd settles roundoff-level eigenvalues). */
export function matrixEntropy(evals: ArrayLike<number>, N: number, rank?: number): number {
  let sum = 0;
  for (let i = 0; i < evals.length; i++) sum += evals[i]!;
  let h = 0;
  for (let i = 0; i < evals.length; i++) {
    const p = evals[i]! / sum;
    if (p > 0) h -= p * Math.log(p);
  }
  let r = rank ?? matrixRank(evals, N);
  if (r === 1) r = 1.000001;
  return h / Math.log(r);
}

export function trainingWarning(alpha: number): TrainingWarning {
  if (alpha < OVER_TRAINED_THRESH) return 'over-trained';
  if (alpha > UNDER_TRAINED_THRESH) return 'under-trained';
  return '';
}

/** All WeightWatcher columns for one layer. `evals` ascending, non-negative; N = the layer's long side. */
export function wwMetrics(evals: Float64Array, N: number, options: MetricsOptions = {}): WwMetrics {
  const thresh = options.evalsThresh ?? EVALS_THRESH;
  let first = 0;
  while (first < evals.length && !(evals[first]! > thresh)) first++;
  const nz = evals.subarray(first);
  const method = options.fit ?? 'auto';
  let fit: PowerLawFit | null;
  let extra: Pick<WwMetrics, 'num_fingers' | 'raw_alpha'> = {};
  if (method === 'clip_xmax') {
    const c = fitClippedPowerLaw(nz, { maxFingers: options.maxFingers, fingerThresh: options.fingerThresh });
    fit = c?.fit ?? null;
    extra = { num_fingers: c?.num_fingers ?? 0, raw_alpha: c?.raw.alpha ?? -1 };
  } else {
    fit = fitPowerLaw(nz, { xmin: method, xminMax: options.xminMax });
  }
  const ok = fit !== null && Number.isFinite(fit.alpha);

  let norm = 0;
  let lambdaMax = 0;
  for (const v of evals) {
    norm += v;
    if (v > lambdaMax) lambdaMax = v;
  }
  // WeightWatcher's failure values: -1 for the fit columns.
  const alpha = ok ? fit!.alpha : -1;
  let alphaNorm = 0;
  for (const v of evals) alphaNorm += Math.pow(v, alpha);
  let numPl = -1;
  if (ok) {
    numPl = 0;
    for (const v of evals) if (v >= fit!.xmin) numPl++;
  }
  const logSpectral = Math.log10(lambdaMax);
  return {
    status: ok ? 'ok' : 'failed',
    alpha,
    alpha_weighted: alpha * logSpectral,
    D: ok ? fit!.D : -1,
    xmin: ok ? fit!.xmin : -1,
    xmax: ok ? fit!.xmax : -1,
    sigma: ok ? fit!.sigma : -1,
    num_pl_spikes: numPl,
    norm,
    log_norm: Math.log10(norm),
    spectral_norm: lambdaMax,
    log_spectral_norm: logSpectral,
    log_alpha_norm: Math.log10(alphaNorm),
    stable_rank: norm / lambdaMax,
    matrix_rank: options.rank ?? matrixRank(evals, N),
    entropy: matrixEntropy(evals, N, options.rank),
    lambda_max: lambdaMax,
    num_evals: evals.length,
    // A failed fit is not a training verdict (WeightWatcher would say over-trained for α = −1).
    warning: ok ? trainingWarning(alpha) : '',
    ...extra,
  };
}
