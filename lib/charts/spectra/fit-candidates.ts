/**
 * α and the KS distance D for every candidate xmin, with the formula of WeightWatcher's fitter
 * (lib/math/powerlaw-fit.ts, which returns only the winner): on ascending values x > thresh,
 * α_i = 1 + n/Σ_{k≥i} ln(x_k/x_i), n = N − i, D_i = max_k |1 − (x_{i+k}/x_i)^(1−α_i) − k/n|
 * (1 when α_i ≤ 1). The fit-robustness view plots both against xmin: a flat α near the chosen
 * xmin means the fit is robust, a steep one means α hangs on the choice.
 *
 * Each D costs O(n), so large ESDs are sampled at `maxCandidates` evenly spaced indices (plus any
 * `include` values, e.g. the fitted xmin); runs in a worker.
 */

export interface FitCandidates {
  xmin: Float64Array;
  alpha: Float64Array;
  D: Float64Array;
  /** Values above the threshold (the fit's N). */
  n: number;
  /** Index into the arrays of the smallest D (first on ties, as the fitter picks). */
  best: number;
  /** True when only a sample of the candidates was evaluated. */
  sampled: boolean;
}

export const DEFAULT_MAX_CANDIDATES = 400;

export function fitCandidates(
  sortedAsc: ArrayLike<number>,
  options: { thresh?: number; maxCandidates?: number; include?: number[] } = {},
): FitCandidates {
  const thresh = options.thresh ?? 1e-5;
  let first = 0;
  while (first < sortedAsc.length && !(sortedAsc[first]! > thresh)) first++;
  const N = sortedAsc.length - first;
  const empty = { xmin: new Float64Array(0), alpha: new Float64Array(0), D: new Float64Array(0), n: Math.max(0, N), best: -1, sampled: false };
  if (N < 2) return empty;
  const logs = new Float64Array(N);
  for (let i = 0; i < N; i++) logs[i] = Math.log(sortedAsc[first + i]!);
  const suffix = new Float64Array(N + 1);
  for (let i = N - 1; i >= 0; i--) suffix[i] = suffix[i + 1]! + logs[i]!;

  // Candidates are all values but the last (a one-point tail has no α).
  const total = N - 1;
  const max = Math.max(2, Math.floor(options.maxCandidates ?? DEFAULT_MAX_CANDIDATES));
  const idx = new Set<number>();
  const sampled = total > max;
  if (!sampled) for (let i = 0; i < total; i++) idx.add(i);
  else {
    for (let j = 0; j < max; j++) idx.add(Math.round((j * (total - 1)) / (max - 1)));
    for (const v of options.include ?? []) {
      // The first index holding v (ties: the fitter reports the first).
      let lo = 0;
      let hi = total - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (sortedAsc[first + mid]! < v) lo = mid + 1;
        else hi = mid;
      }
      if (sortedAsc[first + lo] === v) idx.add(lo);
    }
  }
  const order = [...idx].sort((a, b) => a - b);
  const xmin = new Float64Array(order.length);
  const alpha = new Float64Array(order.length);
  const D = new Float64Array(order.length);
  let best = -1;
  order.forEach((i, j) => {
    const n = N - i;
    const a = 1 + n / (suffix[i]! - n * logs[i]!);
    let d = 1;
    if (a > 1) {
      d = 0;
      const li = logs[i]!;
      const e = 1 - a;
      for (let k = 0; k < n; k++) {
        const v = Math.abs(1 - Math.exp(e * (logs[i + k]! - li)) - k / n);
        if (v > d) d = v;
      }
    }
    xmin[j] = sortedAsc[first + i]!;
    alpha[j] = a;
    D[j] = d;
    if (best < 0 || d < D[best]!) best = j;
  });
  return { xmin, alpha, D, n: N, best, sampled };
}
