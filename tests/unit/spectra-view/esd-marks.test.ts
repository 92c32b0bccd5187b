import { describe, expect, it } from 'vitest';
import { ccdfPoints } from '../../../lib/charts/spectra/ccdf-points';
import { esdChart } from '../../../lib/charts/spectra/esd-chart';
import { logHistogram } from '../../../lib/charts/spectra/log-histogram';
import { mpCurve, mpDensity, mpEdges } from '../../../lib/charts/spectra/mp-curve';
import { powerLawCcdf, powerLawDecadeDensity } from '../../../lib/charts/spectra/power-law-curve';
import { Rng } from '../../../lib/base/rng';
import { eigvalsh } from '../../../lib/math/eigvalsh';
import { gram } from '../../../lib/math/gram';
import { fitMarchenkoPastur } from '../../../lib/math/mp-fit';

/** Trapezoid rule in log10 x over points. */
function integrateDecades(pts: { x: number; y: number }[]): number {
  let s = 0;
  for (let i = 1; i < pts.length; i++) s += ((pts[i]!.y + pts[i - 1]!.y) / 2) * (Math.log10(pts[i]!.x) - Math.log10(pts[i - 1]!.x));
  return s;
}

describe('logHistogram', () => {
  it('bins decades exactly and normalises to unit area per decade', () => {
    const v = [0.1, 0.5, 1, 2, 5, 9.99, 10, -1, 0, NaN];
    const h = logHistogram(v, 2, 0.1, 10);
    expect([...h.edges].map((e) => +e.toPrecision(12))).toEqual([0.1, 1, 10]);
    // [0.1, 1): 0.1, 0.5; [1, 10]: 1, 2, 5, 9.99, 10 (the top edge is closed); non-positive/NaN left out.
    expect([...h.counts]).toEqual([2, 5]);
    expect(h.n).toBe(7);
    expect(h.density[0]! * 1 + h.density[1]! * 1).toBeCloseTo(1, 12);
  });
});

describe('ccdfPoints', () => {
  it('gives P(X ≥ x_i) = (n − i)/n and keeps every point of small ESDs', () => {
    const c = ccdfPoints([0, 1, 2, 3, 4], 100, 0);
    expect(c.n).toBe(4);
    expect([...c.x]).toEqual([1, 2, 3, 4]);
    expect([...c.p]).toEqual([1, 0.75, 0.5, 0.25]);
  });
  it('thins large ESDs by log rank, keeping the top values and the first', () => {
    const v = Float64Array.from({ length: 10000 }, (_, i) => i + 1);
    const c = ccdfPoints(v, 200);
    expect(c.x.length).toBeLessThanOrEqual(200);
    expect(c.x[0]).toBe(1);
    expect(c.p[0]).toBe(1);
    expect(c.x[c.x.length - 1]).toBe(10000);
    expect(c.p[c.p.length - 1]).toBe(1e-4);
    // All of the top ten ranks survive.
    for (let r = 1; r <= 10; r++) expect([...c.p]).toContain(r / 10000);
  });
});

describe('power-law and MP curves', () => {
  it('the fitted power law per decade integrates to the tail fraction and matches its CCDF', () => {
    const alpha = 3.2;
    const xmin = 0.7;
    const tail = 0.4;
    const pts = Array.from({ length: 4001 }, (_, i) => {
      const x = xmin * 10 ** (i / 400);
      return { x, y: powerLawDecadeDensity(x, alpha, xmin, tail) };
    });
    // ∫ from xmin to 1e10·xmin ≈ tail (the rest, tail·1e-22, is negligible).
    expect(integrateDecades(pts)).toBeCloseTo(tail, 4);
    expect(powerLawCcdf(xmin, alpha, xmin, tail)).toBe(tail);
    expect(powerLawCcdf(2 * xmin, alpha, xmin, tail)).toBeCloseTo(tail * 2 ** (1 - alpha), 14);
    expect(Number.isNaN(powerLawDecadeDensity(xmin / 2, alpha, xmin, tail))).toBe(true);
  });

  it('the MP density integrates to 1 over its bulk, also after rescaling', () => {
    for (const Q of [1.5, 4, 16]) {
      const mp = { sigma_mp: 0.8, W_scale: 3, Q };
      const pts = mpCurve(mp, 4000);
      expect(integrateDecades(pts)).toBeCloseTo(1, 2);
      const e = mpEdges(mp);
      expect(pts[pts.length - 1]!.x).toBeCloseTo(e.hi, 12);
      expect(mpDensity(e.hi * 9 * 1.01, 0.8, Q)).toBe(0);
    }
  });

  it('overlays the fitted MP bulk on the ESD of a Gaussian matrix where its eigenvalues are', () => {
    const rng = new Rng(11);
    const N = 400;
    const M = 100;
    const w = new Float32Array(N * M);
    for (let i = 0; i < w.length; i++) w[i] = rng.normal() * 0.05;
    const { g, k } = gram(w, N, M);
    const evals = eigvalsh(g, k).sort();
    const fit = fitMarchenkoPastur(evals, N, M)!;
    const e = mpEdges({ sigma_mp: fit.sigma_mp, W_scale: fit.W_scale, Q: N / M });
    // Same edges as the fit reports, on the eigenvalues' own scale.
    expect(e.hi).toBeCloseTo(fit.bulk_max, 10);
    expect(e.lo).toBeCloseTo(fit.bulk_min, 10);
    // And a random matrix's eigenvalues lie (almost) all inside them.
    const inside = evals.filter((v) => v >= e.lo * 0.8 && v <= e.hi * 1.2).length;
    expect(inside / evals.length).toBeGreaterThan(0.97);
  });
});

describe('esdChart', () => {
  const evals = Float64Array.from([0, 0, 1e-20, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10]);
  const fit = { alpha: 2.5, xmin: 0.5 };

  it('draws a histogram path, the fit from xmin and an xmin marker inside the plot; near-zero eigenvalues are counted, not drawn', () => {
    const m = esdChart([{ key: 'raw', label: 'layer', evals, fit }], 500, 300, { mode: 'hist', bins: 10 });
    expect(m.empty).toBe(false);
    const s = m.series[0]!;
    expect(s.hidden).toBe(3);
    expect(s.shown).toBe(10);
    expect(s.path.startsWith('M')).toBe(true);
    expect(s.fitPath.length).toBeGreaterThan(10);
    expect(s.xmin!.value).toBe(0.5);
    expect(s.xmin!.x).toBeGreaterThan(m.plot.x0);
    expect(s.xmin!.x).toBeLessThan(m.plot.x1);
    // The fit line starts at xmin.
    const firstX = Number(/^M([\d.]+),/.exec(s.fitPath)![1]);
    expect(firstX).toBeCloseTo(s.xmin!.x, 0);
    expect(m.xTicks.length).toBeGreaterThanOrEqual(3);
  });

  it('in CCDF mode puts one dot per eigenvalue from P = 1 down to 1/n', () => {
    const m = esdChart([{ key: 'raw', label: 'layer', evals, fit }], 500, 300, { mode: 'ccdf' });
    const s = m.series[0]!;
    expect(s.dots.length).toBe(10);
    // Highest dot (P = 1) at the smallest value, lowest at the largest.
    expect(s.dots[0]!.y).toBeLessThan(s.dots[9]!.y);
    expect(s.dots[0]!.x).toBeLessThan(s.dots[9]!.x);
    expect(m.yLabel).toContain('P(');
  });

  it('shows the MP band between the bulk edges and handles an empty ESD', () => {
    const m = esdChart([{ key: 'raw', label: 'layer', evals, fit: null }], 500, 300, { mode: 'hist', mp: { sigma_mp: 1, W_scale: 1, Q: 4 } });
    expect(m.mpBand!.x1).toBeGreaterThan(m.mpBand!.x0);
    expect(m.mpPath.length).toBeGreaterThan(10);
    expect(m.series[0]!.fitPath).toBe('');
    const e = esdChart([{ key: 'raw', label: 'layer', evals: new Float64Array(3), fit: null }], 500, 300, { mode: 'hist' });
    expect(e.empty).toBe(true);
  });
});
