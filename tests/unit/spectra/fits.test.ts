import { describe, expect, it } from 'vitest';
import { Rng } from '../../../lib/base/rng';
import { fitMarchenkoPastur, nelderMead1d } from '../../../lib/math/mp-fit';
import { fitClippedPowerLaw, fitPowerLaw } from '../../../lib/math/powerlaw-fit';
import { eigvalsh } from '../../../lib/math/eigvalsh';
import { gram } from '../../../lib/math/gram';
import { wpcaCount } from '../../../lib/analysis/spectra/wpca';
import { matrixEntropy, trainingWarning } from '../../../lib/analysis/spectra/metrics';

function pareto(n: number, alpha: number, xmin: number, rng: Rng): Float64Array {
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = xmin * Math.pow(1 - rng.next(), -1 / (alpha - 1));
  return x.sort();
}

/** WeightWatcher's WWFit written out plainly (pow, no prefix sums), as an independent reference. */
function wwFitReference(x: Float64Array) {
  const N = x.length;
  let best = { D: Infinity, alpha: NaN, xmin: NaN, sigma: NaN };
  for (let i = 0; i < N - 1; i++) {
    const n = N - i;
    let s = 0;
    for (let k = i; k < N; k++) s += Math.log(x[k]!);
    const alpha = 1 + n / (s - n * Math.log(x[i]!));
    let D = 1;
    if (alpha > 1) {
      D = 0;
      for (let k = 0; k < n; k++) D = Math.max(D, Math.abs(1 - Math.pow(x[i + k]! / x[i]!, 1 - alpha) - k / n));
    }
    if (D < best.D) best = { D, alpha, xmin: x[i]!, sigma: (alpha - 1) / Math.sqrt(n) };
  }
  return best;
}

function gaussianEsd(rows: number, cols: number, rng: Rng, spike = 0): Float64Array {
  const w = Float64Array.from({ length: rows * cols }, () => rng.normal());
  if (spike) for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) w[r * cols + c] = w[r * cols + c]! + spike * Math.sin(r + 1) * Math.cos(c + 1);
  const { g, k } = gram(w, rows, cols);
  return eigvalsh(g, k);
}

describe('fitPowerLaw (WeightWatcher WWFit)', () => {
  it('matches a plain re-implementation of WWFit on random data', () => {
    const rng = new Rng(3);
    for (const n of [5, 40, 300]) {
      const x = Float64Array.from({ length: n }, () => Math.exp(3 * rng.normal())).sort();
      const ours = fitPowerLaw(x)!;
      const ref = wwFitReference(x);
      expect(ours.xmin).toBe(ref.xmin);
      expect(ours.alpha).toBeCloseTo(ref.alpha, 10);
      expect(ours.D).toBeCloseTo(ref.D, 10);
      expect(ours.sigma).toBeCloseTo(ref.sigma, 10);
      expect(ours.xmax).toBe(x[n - 1]);
    }
  });

  it('recovers the exponent of Pareto samples', () => {
    const rng = new Rng(11);
    for (const alpha of [2.5, 4]) {
      const fit = fitPowerLaw(pareto(4000, alpha, 1, rng))!;
      expect(Math.abs(fit.alpha - alpha)).toBeLessThan(0.2);
      expect(fit.D).toBeLessThan(0.05);
    }
  });

  it('xmin_mid fits at the ⌊N/2⌋-th value; xmin_peak searches only up to 1.5 × the histogram peak', () => {
    const rng = new Rng(5);
    const x = pareto(1001, 3, 0.5, rng);
    const mid = fitPowerLaw(x, { xmin: 'xmin_mid' })!;
    expect(mid.xmin).toBe(x[500]);
    let s = 0;
    for (let k = 500; k < 1001; k++) s += Math.log(x[k]! / x[500]!);
    expect(mid.alpha).toBeCloseTo(1 + 501 / s, 10);
    const peak = fitPowerLaw(x, { xmin: 'xmin_peak' })!;
    // Pareto density peaks at its smallest values: the first log bin starts at x[0].
    expect(peak.xmin).toBeLessThanOrEqual(1.5 * x[0]! * 10 ** ((Math.log10(x[1000]!) - Math.log10(x[0]!)) / 100) + 1e-12);
    expect(fitPowerLaw(x, { xmin: 'xmin_peak', xminMax: x[3]! })!.xmin).toBeLessThanOrEqual(x[3]!);
  });

  it('fails (null) with fewer than two values', () => {
    expect(fitPowerLaw([])).toBeNull();
    expect(fitPowerLaw([2])).toBeNull();
  });

  it('clip_xmax clips a finger (a few values split off the top) and returns the clipped fit it reports', () => {
    const rng = new Rng(1);
    let fingers = 0;
    for (let t = 0; t < 30; t++) {
      // A narrow log-normal bulk with 1-4 values just split off its top: the unclipped α is large.
      const n = 50 + t * 10;
      const x: number[] = [];
      for (let i = 0; i < n; i++) x.push(Math.exp(rng.normal() * 0.3));
      x.sort((a, b) => a - b);
      const top = x[n - 1]!;
      for (let j = 1; j <= (t % 4) + 1; j++) x.push(top * (1.5 + 0.01 * j));
      const c = fitClippedPowerLaw(x)!;
      expect(c.raw.alpha).toBeCloseTo(fitPowerLaw(x)!.alpha, 12);
      if (c.num_fingers > 0) {
        fingers++;
        expect(c.fit.alpha + 1).toBeLessThan(c.raw.alpha);
        // WeightWatcher drops num_fingers + 1 values for num_fingers reported.
        expect(c.fit.alpha).toBeCloseTo(fitPowerLaw(x.slice(0, x.length - (c.num_fingers + 1)))!.alpha, 12);
      } else expect(c.fit).toBe(c.raw);
    }
    expect(fingers).toBe(3);
  });
});

describe('fitMarchenkoPastur', () => {
  it('finds σ ≈ 1 and no spikes for a Gaussian random matrix', () => {
    const rng = new Rng(21);
    const ev = gaussianEsd(800, 200, rng);
    const mp = fitMarchenkoPastur(ev, 800, 200)!;
    expect(Math.abs(mp.sigma_mp - 1)).toBeLessThan(0.1);
    expect(mp.num_spikes).toBeLessThanOrEqual(1);
    expect(mp.mp_softrank).toBeGreaterThan(0.8);
    // Bulk edges are reported on the original scale: λ+ ≈ N (1 + 1/√Q)² for unit-variance entries.
    expect(mp.bulk_max / (800 * 1.5 ** 2)).toBeGreaterThan(0.8);
    expect(mp.bulk_max / (800 * 1.5 ** 2)).toBeLessThan(1.2);
  });

  it('counts a planted rank-one spike', () => {
    const rng = new Rng(22);
    const ev = gaussianEsd(800, 200, rng, 3);
    const mp = fitMarchenkoPastur(ev, 800, 200)!;
    expect(mp.num_spikes).toBeGreaterThanOrEqual(1);
    expect(mp.mp_softrank).toBeLessThan(0.5);
  });

  it('uses the quarter-circle law for square matrices and returns null for an all-zero ESD', () => {
    const rng = new Rng(23);
    const mp = fitMarchenkoPastur(gaussianEsd(150, 150, rng), 150, 150)!;
    expect(Number.isFinite(mp.sigma_mp)).toBe(true);
    expect(mp.sigma_mp).toBeGreaterThan(0);
    expect(fitMarchenkoPastur(new Float64Array(5), 10, 5)).toBeNull();
  });

  it('nelderMead1d minimises a smooth 1-D function like scipy.optimize.fmin', () => {
    const r = nelderMead1d((x) => (x - 0.3) ** 2 + 1, 1);
    expect(Math.abs(r.x - 0.3)).toBeLessThan(1e-3);
    expect(r.fx).toBeCloseTo(1, 6);
  });
});

describe('norm metrics and W-PCA', () => {
  it('entropy is 1 for a flat spectrum and ~0 for a single dominant value', () => {
    expect(matrixEntropy([2, 2, 2, 2], 10)).toBeCloseTo(1, 12);
    expect(matrixEntropy([1e-9, 1e-9, 1], 10)).toBeLessThan(1e-6);
  });

  it('warning strings and thresholds are WeightWatcher’s', () => {
    expect([trainingWarning(1.99), trainingWarning(2), trainingWarning(6), trainingWarning(6.01)]).toEqual(['over-trained', '', '', 'under-trained']);
  });

  it('wpcaCount counts the largest directions holding η of the energy', () => {
    expect(wpcaCount([1, 1, 1, 97], 0.97)).toBe(1);
    expect(wpcaCount([1, 1, 1, 97], 0.98)).toBe(2);
    expect(wpcaCount([1, 1, 1, 97], 1)).toBe(4);
    expect(wpcaCount([5, 5, 5, 5])).toBe(4);
    expect(wpcaCount([0, 0])).toBe(0);
    expect(() => wpcaCount([1], 0)).toThrow(RangeError);
  });
});
