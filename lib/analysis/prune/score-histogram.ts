/**
 * Histogram of a layer's scores for the threshold chart. Bins are over log10(score): magnitude,
 * Wanda and LIFT scores span several decades and a linear histogram puts nearly everything in
 * the first bin. Zero (and negative or NaN) scores cannot go on a log axis; they are counted
 * apart in `zeros`.
 */
export const SCORE_HISTOGRAM_BINS = 64;

export interface ScoreHistogram {
  /** log10 of the lowest and highest positive score: the edges of the first and last bin. */
  log10Min: number;
  log10Max: number;
  counts: Uint32Array;
  /** Scores ≤ 0 or NaN. */
  zeros: number;
}

export function scoreHistogram(scores: ArrayLike<number>, bins = SCORE_HISTOGRAM_BINS): ScoreHistogram {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    if (s > 0 && s < Infinity) {
      if (s < lo) lo = s;
      if (s > hi) hi = s;
    }
  }
  const counts = new Uint32Array(bins);
  if (lo === Infinity) return { log10Min: 0, log10Max: 0, counts, zeros: scores.length };
  const a = Math.log10(lo);
  const b = Math.log10(hi);
  const width = b > a ? (b - a) / bins : 1;
  let zeros = 0;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    if (!(s > 0)) {
      zeros++;
      continue;
    }
    const j = Math.min(bins - 1, Math.max(0, Math.floor((Math.log10(s) - a) / width)));
    counts[j]!++;
  }
  return { log10Min: a, log10Max: b, counts, zeros };
}
