/**
 * The fitted power law drawn over an ESD. With a fraction `tail` of the plotted values at or above
 * xmin, the pdf there is tail·(α−1)/xmin·(x/xmin)^−α; per decade (the histogram's density) that is
 * tail·(α−1)·ln10·(x/xmin)^(1−α), and the CCDF is tail·(x/xmin)^(1−α).
 */

export function powerLawDecadeDensity(x: number, alpha: number, xmin: number, tail: number): number {
  if (x < xmin) return NaN;
  return tail * (alpha - 1) * Math.LN10 * Math.pow(x / xmin, 1 - alpha);
}

export function powerLawCcdf(x: number, alpha: number, xmin: number, tail: number): number {
  if (x < xmin) return NaN;
  return tail * Math.pow(x / xmin, 1 - alpha);
}

/** Points of the curve from xmin to xmax, log-spaced. */
export function powerLawCurve(
  alpha: number,
  xmin: number,
  xmax: number,
  tail: number,
  mode: 'density' | 'ccdf',
  points = 64,
): { x: number; y: number }[] {
  if (!(alpha > 1) || !(xmin > 0) || !(xmax > xmin)) return [];
  const out: { x: number; y: number }[] = [];
  const f = mode === 'ccdf' ? powerLawCcdf : powerLawDecadeDensity;
  for (let i = 0; i < points; i++) {
    const x = xmin * Math.pow(xmax / xmin, i / (points - 1));
    out.push({ x, y: f(x, alpha, xmin, tail) });
  }
  return out;
}
