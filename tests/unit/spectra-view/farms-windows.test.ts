import { describe, expect, it } from 'vitest';
import { Rng } from '../../../lib/base/rng';
import { farmsEsd } from '../../../lib/analysis/spectra/farms';
import { farmsWindowRects } from '../../../lib/charts/spectra/farms-window-rects';
import { absHeatmap } from '../../../lib/charts/spectra/abs-heatmap';
import { heatmapChart } from '../../../lib/charts/spectra/heatmap-chart';
import { eigvalsh } from '../../../lib/math/eigvalsh';
import { gram } from '../../../lib/math/gram';

function randomMatrix(rows: number, cols: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  return Float64Array.from({ length: rows * cols }, () => rng.normal());
}

/** Pooled eigenvalues of the drawn windows, computed independently of farms.ts. */
function pooledFromRects(m: Float64Array, rows: number, cols: number, rects: ReturnType<typeof farmsWindowRects>): Float64Array {
  const out: number[] = [];
  for (const r of rects) {
    const sub = new Float32Array(r.rows * r.cols);
    for (let i = 0; i < r.rows; i++) for (let j = 0; j < r.cols; j++) sub[i * r.cols + j] = m[(r.row + i) * cols + r.col + j]!;
    const { g, k } = gram(sub, r.rows, r.cols);
    out.push(...Array.from(eigvalsh(g, k), (v) => Math.max(0, v)));
  }
  return Float64Array.from(out).sort();
}

describe('farmsWindowRects', () => {
  it.each([
    [250, 600, { nr: 40, qRatio: 2, opsPerDim: 4 }],
    [37, 500, { nr: 100, qRatio: 2, opsPerDim: 10 }], // window taller than the matrix: clamped
    [300, 120, { nr: 30, qRatio: 1, opsPerDim: 5 }],
    [64, 64, { nr: 64, qRatio: 1, opsPerDim: 10 }], // one window covering the matrix
  ])('%i × %i %o: the windows drawn are the windows FARMS pools', (rows, cols, opts) => {
    // Values exactly representable in float32, so farms.ts (float64) and this check (float32 gram input) see the same matrix.
    const m = Float64Array.from(randomMatrix(rows, cols, rows * 7 + cols), (v) => Math.fround(v));
    const rects = farmsWindowRects(rows, cols, opts);
    const ref = farmsEsd(m, rows, cols, opts);
    expect(rects.length).toBe(ref.windows);
    for (const r of rects) {
      expect([r.rows, r.cols]).toEqual([ref.nr, ref.nc]);
      expect(r.row + r.rows).toBeLessThanOrEqual(rows);
      expect(r.col + r.cols).toBeLessThanOrEqual(cols);
    }
    const mine = pooledFromRects(m, rows, cols, rects);
    expect(mine.length).toBe(ref.evals.length);
    const top = ref.evals[ref.evals.length - 1]!;
    for (let i = 0; i < mine.length; i++) expect(Math.abs(mine[i]! - ref.evals[i]!)).toBeLessThanOrEqual(1e-9 * top);
  });
});

describe('absHeatmap', () => {
  it('averages |w| over even blocks and scales to the 99th percentile', () => {
    // 4 × 4 matrix into 2 × 2 pixels: each pixel is a 2 × 2 block.
    // prettier-ignore
    const w = [
      1, -1, 2, 2,
      -1, 1, 2, -2,
      3, 3, 0, 0,
      3, -3, 0, -8,
    ];
    const h = absHeatmap(w, 4, 4, 2);
    expect([h.width, h.height]).toEqual([2, 2]);
    // Pixel means: [1, 2; 3, 2]; the 99th percentile of four values is the largest.
    expect(h.max).toBe(3);
    expect(h.scale).toBe(3);
    expect([...h.pixels]).toEqual([85, 170, 255, 170]);
    // 3 × 5 into 2 × 2: rows split 2 + 1, columns 3 + 2.
    const g = absHeatmap(Float32Array.from({ length: 15 }, (_, i) => i), 3, 5, 2);
    // Pixel (1, 1) holds row 2, columns 3-4: (13 + 14)/2; pixel (0, 0) rows 0-1, columns 0-2: 21/6.
    expect(g.max).toBe(13.5);
    expect(g.pixels[0]).toBe(Math.round((3.5 / g.scale) * 255));
  });

  it('keeps small matrices at full resolution and caps big ones at maxSide', () => {
    expect(absHeatmap(new Float32Array(10 * 20).fill(1), 10, 20).width).toBe(20);
    const big = absHeatmap(new Float32Array(1000 * 300).fill(-2), 1000, 300, 256);
    expect([big.width, big.height]).toEqual([256, 256]);
    expect(big.pixels.every((p) => p === 255)).toBe(true);
    expect(() => absHeatmap(new Float32Array(5), 2, 3)).toThrow(/2 × 3/);
  });

  it('places the window rectangles proportionally on the image', () => {
    const m = heatmapChart({ rows: 100, cols: 200 }, [{ row: 50, col: 100, rows: 50, cols: 100 }], 446);
    const w = m.windows[0]!;
    expect(w.x - m.image.x).toBeCloseTo(m.image.width / 2, 9);
    expect(w.width).toBeCloseTo(m.image.width / 2, 9);
    expect(w.y - m.image.y).toBeCloseTo(m.image.height / 2, 9);
    expect(w.height).toBeCloseTo(m.image.height / 2, 9);
  });
});
