import { CancelledError, LimitError } from '../base/errors';

/**
 * Per-tensor summary statistics, the CPU reference for lib/gpu/tensor-stats-gpu.ts.
 *
 * Definitions (shared with the WGSL kernel, so both backends mean the same thing):
 * - NaN, +Inf and -Inf are counted and otherwise excluded: min, max, mean, std and the histogram
 *   are over the finite values only. With no finite value, min/max/mean/std are NaN.
 * - std is the population standard deviation (divide by the number of finite values, ddof = 0,
 *   like numpy's default), computed two-pass: mean first, then Σ(x − mean)².
 * - zeros counts x === 0 (so −0 too); zeroFraction = zeros / count over all elements.
 * - Histogram over [min, max] with `bins` bins. The bin index is evaluated in float32 so that the
 *   GPU, whose arithmetic is float32, lands every value in the same bin:
 *     scale = f32(bins / f32(max − min))         (0 when max = min or the range is not finite)
 *     bin   = min(bins − 1, floor(f32(f32(x − min) · scale)))
 *   Multiplying by a precomputed scale (rather than dividing per element) matters: WGSL only
 *   promises division to 2.5 ULP, while subtraction and multiplication are correctly rounded.
 * - Sums are float64 here. The GPU sums tiles of 1024 values in float32 and adds the per-tile
 *   partials in float64, so GPU and CPU agree on counts and histogram exactly and on mean/std to
 *   ~1e-6 relative (tested at 1e-5; see STATS_TOLERANCE).
 */

export const DEFAULT_HISTOGRAM_BINS = 64;
/** The GPU keeps one u32 per bin in workgroup memory (8 KB of the 16 KB WebGPU guarantees); 2048 bins is far past any readable chart. */
export const MAX_HISTOGRAM_BINS = 2048;
/** Values processed between cancellation checks (and progress reports) on the CPU. */
export const STATS_CHUNK_ELEMENTS = 1 << 22;

/** Agreement between the GPU kernel and this CPU twin. */
export const STATS_TOLERANCE = {
  /** Relative error of mean, measured against max(|mean|, std): a mean near 0 relative to its spread is ill-conditioned in any summation order. */
  mean: 1e-5,
  /** Relative error of std. */
  std: 1e-5,
  /** min, max, counts and histogram bins are exact (bins may differ only if the GPU flushes subnormal x − min to 0). */
} as const;

export interface TensorStats {
  /** All elements, finite or not. */
  count: number;
  finite: number;
  min: number;
  max: number;
  mean: number;
  std: number;
  zeros: number;
  zeroFraction: number;
  nan: number;
  posInf: number;
  negInf: number;
  /** counts[i] = number of finite values in bin i of [min, max]. */
  histogram: Uint32Array;
}

export interface StatsProgress {
  (done: number, total: number, label: string): void;
}

/** What is known after the first pass (range, mean, counts): sent early so a long tensor shows something. */
export type FirstPassStats = Pick<TensorStats, 'count' | 'finite' | 'min' | 'max' | 'mean' | 'zeros' | 'nan' | 'posInf' | 'negInf'>;

export function firstPassStats(p1: MomentsPass1): FirstPassStats {
  const has = p1.finite > 0;
  return { count: p1.count, finite: p1.finite, min: has ? p1.min : NaN, max: has ? p1.max : NaN, mean: p1.mean(), zeros: p1.zeros, nan: p1.nan, posInf: p1.posInf, negInf: p1.negInf };
}

export interface StatsRunOptions {
  signal?: AbortSignal;
  onProgress?: StatsProgress;
  onFirstPass?: (s: FirstPassStats) => void;
}

export function checkBins(bins: number): number {
  if (!Number.isInteger(bins) || bins < 1 || bins > MAX_HISTOGRAM_BINS) {
    throw new LimitError('bins', `histogram bins must be an integer in 1..${MAX_HISTOGRAM_BINS}, got ${bins}`);
  }
  return bins;
}

/** The float32 multiplier that maps x − min to a bin index (see the binning definition above). */
export function histogramScale(min: number, max: number, bins: number): number {
  const range = Math.fround(max - min);
  if (!(range > 0) || !Number.isFinite(range)) return 0;
  const scale = Math.fround(bins / range);
  return Number.isFinite(scale) ? scale : 0;
}

export function binIndex(x: number, min: number, scale: number, bins: number): number {
  const t = Math.fround(Math.fround(x - min) * scale);
  return Math.min(bins - 1, Math.floor(t));
}

/** First-pass accumulator: counts, range and sum over finite values. */
export class MomentsPass1 {
  count = 0;
  finite = 0;
  min = Infinity;
  max = -Infinity;
  sum = 0;
  private comp = 0; // Neumaier compensation, so the float64 reference is itself accurate
  zeros = 0;
  nan = 0;
  posInf = 0;
  negInf = 0;

  add(v: Float32Array, start: number, end: number): void {
    let { min, max, sum, comp, zeros, nan, posInf, negInf, finite } = this;
    for (let i = start; i < end; i++) {
      const x = v[i]!;
      if (x !== x) {
        nan++;
        continue;
      }
      if (x === Infinity) {
        posInf++;
        continue;
      }
      if (x === -Infinity) {
        negInf++;
        continue;
      }
      finite++;
      if (x === 0) zeros++;
      if (x < min) min = x;
      if (x > max) max = x;
      const t = sum + x;
      comp += Math.abs(sum) >= Math.abs(x) ? sum - t + x : x - t + sum;
      sum = t;
    }
    Object.assign(this, { min, max, sum, comp, zeros, nan, posInf, negInf, finite });
    this.count += end - start;
  }

  /** Adds a partial computed elsewhere (a GPU tile) whose sum is already a number. */
  addPartial(p: { finite: number; min: number; max: number; sum: number; zeros: number; nan: number; posInf: number; negInf: number; count: number }): void {
    this.count += p.count;
    this.finite += p.finite;
    if (p.finite > 0) {
      if (p.min < this.min) this.min = p.min;
      if (p.max > this.max) this.max = p.max;
    }
    const t = this.sum + p.sum;
    this.comp += Math.abs(this.sum) >= Math.abs(p.sum) ? this.sum - t + p.sum : p.sum - t + this.sum;
    this.sum = t;
    this.zeros += p.zeros;
    this.nan += p.nan;
    this.posInf += p.posInf;
    this.negInf += p.negInf;
  }

  mean(): number {
    return this.finite > 0 ? (this.sum + this.comp) / this.finite : NaN;
  }
}

/** Second pass: Σ(x − mean)² and the histogram, over finite values. */
export class MomentsPass2 {
  ss = 0;
  readonly histogram: Uint32Array;
  readonly scale: number;
  constructor(
    readonly mean: number,
    readonly min: number,
    max: number,
    readonly bins: number,
  ) {
    this.histogram = new Uint32Array(bins);
    this.scale = histogramScale(min, max, bins);
  }

  add(v: Float32Array, start: number, end: number): void {
    const { mean, min, scale, bins, histogram } = this;
    let ss = this.ss;
    for (let i = start; i < end; i++) {
      const x = v[i]!;
      if (!Number.isFinite(x)) continue;
      const d = x - mean;
      ss += d * d;
      histogram[binIndex(x, min, scale, bins)]!++;
    }
    this.ss = ss;
  }
}

export function finishStats(p1: MomentsPass1, ss: number, histogram: Uint32Array): TensorStats {
  const hasFinite = p1.finite > 0;
  return {
    count: p1.count,
    finite: p1.finite,
    min: hasFinite ? p1.min : NaN,
    max: hasFinite ? p1.max : NaN,
    mean: p1.mean(),
    std: hasFinite ? Math.sqrt(Math.max(0, ss / p1.finite)) : NaN,
    zeros: p1.zeros,
    zeroFraction: p1.count > 0 ? p1.zeros / p1.count : 0,
    nan: p1.nan,
    posInf: p1.posInf,
    negInf: p1.negInf,
    histogram,
  };
}

/** Synchronous reference: what the unit tests and the CLI call. */
export function tensorStatsSync(values: Float32Array, bins = DEFAULT_HISTOGRAM_BINS): TensorStats {
  checkBins(bins);
  const p1 = new MomentsPass1();
  p1.add(values, 0, values.length);
  const p2 = new MomentsPass2(p1.mean(), p1.min, p1.max, bins);
  if (p1.finite > 0) p2.add(values, 0, values.length);
  return finishStats(p1, p2.ss, p2.histogram);
}

/** Lets queued messages (a cancel) run between chunks; a worker cannot see them during a sync loop. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * Same numbers as tensorStatsSync, in chunks: checks `signal` and reports progress between chunks
 * so a long tensor can be cancelled from the main thread.
 */
export async function tensorStats(
  values: Float32Array,
  bins = DEFAULT_HISTOGRAM_BINS,
  opts: StatsRunOptions & { chunk?: number } = {},
): Promise<TensorStats> {
  checkBins(bins);
  const chunk = opts.chunk ?? STATS_CHUNK_ELEMENTS;
  const n = values.length;
  const total = 2 * n;
  const p1 = new MomentsPass1();
  for (let s = 0; s < n; s += chunk) {
    if (opts.signal?.aborted) throw new CancelledError();
    p1.add(values, s, Math.min(n, s + chunk));
    opts.onProgress?.(Math.min(n, s + chunk), total, 'range and mean');
    if (s + chunk < n) await yieldToEventLoop();
  }
  opts.onFirstPass?.(firstPassStats(p1));
  const p2 = new MomentsPass2(p1.mean(), p1.min, p1.max, bins);
  if (p1.finite > 0) {
    for (let s = 0; s < n; s += chunk) {
      if (opts.signal?.aborted) throw new CancelledError();
      p2.add(values, s, Math.min(n, s + chunk));
      opts.onProgress?.(n + Math.min(n, s + chunk), total, 'spread and histogram');
      if (s + chunk < n) await yieldToEventLoop();
    }
  }
  return finishStats(p1, p2.ss, p2.histogram);
}
