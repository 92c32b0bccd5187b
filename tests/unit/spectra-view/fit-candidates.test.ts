import { describe, expect, it } from 'vitest';
import { fitCandidates } from '../../../lib/charts/spectra/fit-candidates';
import { fitPowerLaw } from '../../../lib/math/powerlaw-fit';
import { Rng } from '../../../lib/base/rng';

/** Pareto(α, xmin) samples by inverse CDF, ascending. */
function pareto(n: number, alpha: number, xmin: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = xmin * Math.pow(1 - rng.next(), -1 / (alpha - 1));
  return out.sort();
}

describe('fitCandidates', () => {
  it('computes α_i = 1 + n/Σ ln(x_k/x_i) and the KS distance by hand on four values', () => {
    const x = [1, 2, 4, 8];
    const c = fitCandidates(x, { thresh: 0 });
    expect(c.xmin.length).toBe(3);
    // i = 0: n = 4, Σ ln(x_k/1) = ln2 + ln4 + ln8 = 6 ln2.
    const a0 = 1 + 4 / (6 * Math.LN2);
    expect(c.alpha[0]).toBeCloseTo(a0, 14);
    let d0 = 0;
    for (let k = 0; k < 4; k++) d0 = Math.max(d0, Math.abs(1 - Math.pow(x[k]!, 1 - a0) - k / 4));
    expect(c.D[0]).toBeCloseTo(d0, 14);
    // i = 2: n = 2, Σ ln(x_k/4) = ln 2.
    expect(c.alpha[2]).toBeCloseTo(1 + 2 / Math.LN2, 14);
    expect([...c.xmin]).toEqual([1, 2, 4]);
  });

  it('has its D minimum exactly where WeightWatcher’s fitter puts xmin, with the same α and D', () => {
    for (const [alpha, seed] of [
      [2.5, 1],
      [4, 2],
      [1.8, 3],
    ] as const) {
      const x = pareto(1000, alpha, 0.5, seed);
      const fit = fitPowerLaw(x)!;
      const c = fitCandidates(x, { thresh: 0, maxCandidates: Infinity });
      expect(c.sampled).toBe(false);
      expect(c.best).toBe(fit.xminIndex);
      expect(c.xmin[c.best]).toBe(fit.xmin);
      expect(c.alpha[c.best]).toBeCloseTo(fit.alpha, 12);
      expect(c.D[c.best]).toBeCloseTo(fit.D, 12);
      // And the recovered exponent is near the true one.
      expect(Math.abs(fit.alpha - alpha)).toBeLessThan(0.4);
    }
  });

  it('samples large ESDs but keeps the requested xmin among the candidates', () => {
    const x = pareto(5000, 3, 1, 7);
    const fit = fitPowerLaw(x)!;
    const c = fitCandidates(x, { thresh: 0, maxCandidates: 100, include: [fit.xmin] });
    expect(c.sampled).toBe(true);
    expect(c.xmin.length).toBeGreaterThanOrEqual(100);
    expect(c.xmin.length).toBeLessThanOrEqual(101);
    const j = c.xmin.indexOf(fit.xmin);
    expect(j).toBeGreaterThanOrEqual(0);
    expect(c.alpha[j]).toBeCloseTo(fit.alpha, 12);
    expect(c.D[j]).toBeCloseTo(fit.D, 12);
    for (let i = 1; i < c.xmin.length; i++) expect(c.xmin[i]!).toBeGreaterThanOrEqual(c.xmin[i - 1]!);
  });

  it('leaves out values at or below the threshold, like the fit does', () => {
    const x = [0, 1e-7, 1e-6, ...pareto(50, 3, 1, 9)];
    const c = fitCandidates(x);
    expect(c.n).toBe(50);
    expect(c.xmin[0]!).toBeGreaterThanOrEqual(1);
    expect(fitCandidates([0, 0, 1]).xmin.length).toBe(0);
  });
});
