import { describe, expect, it } from 'vitest';
import { CancelledError, LimitError } from '../../../lib/base/errors';
import { Rng } from '../../../lib/base/rng';
import { binIndex, histogramScale, tensorStats, tensorStatsSync } from '../../../lib/math/tensor-stats';

describe('tensorStatsSync', () => {
  it('matches closed forms on 0..n-1', () => {
    const n = 1000;
    const v = Float32Array.from({ length: n }, (_, i) => i);
    const s = tensorStatsSync(v, 10);
    expect(s.count).toBe(n);
    expect(s.finite).toBe(n);
    expect(s.min).toBe(0);
    expect(s.max).toBe(n - 1);
    // mean of 0..n-1 = (n-1)/2; population variance = (n²-1)/12
    expect(s.mean).toBe((n - 1) / 2);
    expect(s.std).toBeCloseTo(Math.sqrt((n * n - 1) / 12), 10);
    expect(s.zeros).toBe(1);
    expect(s.zeroFraction).toBe(1 / n);
    // 10 bins over [0, 999]: width 99.9; bin k holds ceil((k+1)·99.9) - ceil(k·99.9) integers, last bin takes max.
    const expected = Array.from({ length: 10 }, (_, k) => {
      const lo = Math.ceil(k * 99.9);
      const hi = k === 9 ? n : Math.ceil((k + 1) * 99.9);
      return hi - lo;
    });
    expect([...s.histogram]).toEqual(expected);
    expect(s.histogram.reduce((a, b) => a + b, 0)).toBe(n);
  });

  it('counts NaN and infinities separately and excludes them from the moments', () => {
    const v = new Float32Array([1, NaN, 2, Infinity, -Infinity, -Infinity, 3, 0, -0, NaN]);
    const s = tensorStatsSync(v, 4);
    expect(s).toMatchObject({ count: 10, finite: 5, nan: 2, posInf: 1, negInf: 2, zeros: 2, min: 0, max: 3 });
    expect(s.mean).toBeCloseTo(6 / 5, 14);
    const m = 6 / 5;
    const varPop = [1, 2, 3, 0, 0].reduce((a, x) => a + (x - m) ** 2, 0) / 5;
    expect(s.std).toBeCloseTo(Math.sqrt(varPop), 14);
    expect(s.zeroFraction).toBe(0.2);
    // bins of width 0.75: {0,0} {1} {2} {3}
    expect([...s.histogram]).toEqual([2, 1, 1, 1]);
  });

  it('gives NaN moments and an empty histogram when nothing is finite', () => {
    const s = tensorStatsSync(new Float32Array([NaN, Infinity]), 8);
    expect(s.finite).toBe(0);
    expect(s.min).toBeNaN();
    expect(s.mean).toBeNaN();
    expect(s.std).toBeNaN();
    expect([...s.histogram]).toEqual(new Array(8).fill(0));
  });

  it('puts a constant tensor in bin 0 with std 0', () => {
    const s = tensorStatsSync(new Float32Array(100).fill(-2.5), 64);
    expect(s.min).toBe(-2.5);
    expect(s.max).toBe(-2.5);
    expect(s.std).toBe(0);
    expect(s.histogram[0]).toBe(100);
  });

  it('agrees with a straightforward float64 computation on Gaussian data', () => {
    const rng = new Rng(7);
    const n = 50_001;
    const v = new Float32Array(n);
    for (let i = 0; i < n; i++) v[i] = 0.3 + 0.02 * rng.normal();
    const s = tensorStatsSync(v, 64);
    const xs = Array.from(v);
    const mean = xs.reduce((a, b) => a + b, 0) / n;
    const std = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / n);
    expect(Math.abs(s.mean - mean) / Math.abs(mean)).toBeLessThan(1e-12);
    expect(Math.abs(s.std - std) / std).toBeLessThan(1e-10);
    expect(s.min).toBe(Math.min(...xs));
    expect(s.max).toBe(Math.max(...xs));
    // Histogram against a float32 re-derivation of the documented bin rule.
    const lo = s.min;
    const scale = Math.fround(64 / Math.fround(s.max - lo));
    const h = new Array(64).fill(0);
    for (const x of xs) h[Math.min(63, Math.floor(Math.fround(Math.fround(x - lo) * scale)))]++;
    expect([...s.histogram]).toEqual(h);
  });

  it('rejects bin counts outside the limit', () => {
    expect(() => tensorStatsSync(new Float32Array(4), 0)).toThrow(LimitError);
    expect(() => tensorStatsSync(new Float32Array(4), 5000)).toThrow(LimitError);
  });
});

describe('binning', () => {
  it('maps min to bin 0 and max to the last bin', () => {
    const scale = histogramScale(-1, 1, 64);
    expect(scale).toBe(32);
    expect(binIndex(-1, -1, scale, 64)).toBe(0);
    expect(binIndex(1, -1, scale, 64)).toBe(63);
    expect(binIndex(0, -1, scale, 64)).toBe(32);
  });
  it('uses scale 0 for an empty or non-finite range', () => {
    expect(histogramScale(3, 3, 64)).toBe(0);
    expect(histogramScale(-3e38, 3e38, 64)).toBe(0);
  });
});

describe('tensorStats (chunked)', () => {
  it('gives the same numbers as the sync version across chunk boundaries', async () => {
    const rng = new Rng(3);
    const v = Float32Array.from({ length: 10_007 }, () => rng.normal());
    v[17] = NaN;
    v[5000] = 0;
    const sync = tensorStatsSync(v, 32);
    const seen: number[] = [];
    const chunked = await tensorStats(v, 32, { chunk: 1000, onProgress: (d) => seen.push(d) });
    expect(chunked.count).toBe(sync.count);
    expect(chunked.nan).toBe(1);
    expect(chunked.min).toBe(sync.min);
    expect(chunked.max).toBe(sync.max);
    expect(Math.abs(chunked.mean - sync.mean)).toBeLessThan(1e-15);
    expect(Math.abs(chunked.std - sync.std) / sync.std).toBeLessThan(1e-13);
    expect([...chunked.histogram]).toEqual([...sync.histogram]);
    expect(seen.at(-1)).toBe(2 * v.length);
    expect(seen.length).toBe(22);
  });

  it('stops between chunks when the signal fires', async () => {
    const v = new Float32Array(100_000);
    const ctrl = new AbortController();
    const p = tensorStats(v, 8, {
      chunk: 1000,
      signal: ctrl.signal,
      onProgress: (done) => {
        if (done >= 5000) ctrl.abort();
      },
    });
    await expect(p).rejects.toBeInstanceOf(CancelledError);
  });
});
