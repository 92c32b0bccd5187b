/**
 * Empirical CCDF of ascending values, P(X ≥ x_i) = (n − i)/n, thinned to at most `maxPoints`
 * points spaced evenly in log rank, so the tail (where the power law lives) keeps every point.
 */

export interface CcdfPoints {
  x: Float64Array;
  p: Float64Array;
  /** Number of values the probabilities refer to. */
  n: number;
}

export function ccdfPoints(sortedAsc: ArrayLike<number>, maxPoints = 600, floor = 0): CcdfPoints {
  let first = 0;
  while (first < sortedAsc.length && !(sortedAsc[first]! > floor)) first++;
  const n = sortedAsc.length - first;
  if (n <= 0) return { x: new Float64Array(0), p: new Float64Array(0), n: 0 };
  // Ranks from the top: r = n − i ∈ [1, n]; keep distinct log-spaced ranks.
  const ranks: number[] = [];
  if (n <= maxPoints) for (let r = n; r >= 1; r--) ranks.push(r);
  else {
    const seen = new Set<number>();
    for (let k = maxPoints - 1; k >= 0; k--) {
      const r = Math.round(Math.exp((Math.log(n) * k) / (maxPoints - 1)));
      if (!seen.has(r)) {
        seen.add(r);
        ranks.push(r);
      }
    }
  }
  const x = new Float64Array(ranks.length);
  const p = new Float64Array(ranks.length);
  ranks.forEach((r, j) => {
    x[j] = sortedAsc[first + n - r]!;
    p[j] = r / n;
  });
  return { x, p, n };
}
