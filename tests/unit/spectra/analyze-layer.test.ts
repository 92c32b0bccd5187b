import { describe, expect, it } from 'vitest';
import { Rng } from '../../../lib/base/rng';
import { analyzeLayer } from '../../../lib/analysis/spectra/analyze-layer';
import { farmsAnalyze, farmsEsd, farmsMatrix } from '../../../lib/analysis/spectra/farms';
import { layerEsd } from '../../../lib/analysis/spectra/layer-esd';
import { eigvalsh } from '../../../lib/math/eigvalsh';
import { gram } from '../../../lib/math/gram';
import { buildLayers } from '../../../lib/model/build-layers';
import type { Layer } from '../../../lib/model/layer';

function layerOf(name: string, shape: number[], format = 'safetensors'): Layer {
  const n = shape.reduce((p, d) => p * d, 1);
  const [l] = buildLayers([{ name, shape, dtype: 'F32', byteLength: 4 * n, decodable: true }], format, { minEvals: 1 });
  return l!;
}

function esdOf(w: ArrayLike<number>, rows: number, cols: number): number[] {
  const { g, k } = gram(w, rows, cols);
  return Array.from(eigvalsh(g, k));
}

const sorted = (a: number[]) => a.slice().sort((x, y) => x - y);

describe('layerEsd', () => {
  it('dense: eigenvalues of WᵀW, no scaling', () => {
    const rng = new Rng(1);
    const l = layerOf('fc.weight', [30, 50]);
    const w = Float32Array.from({ length: 1500 }, () => rng.normal());
    const { evals, scale } = layerEsd(l, w);
    expect(scale).toBe(1);
    const want = esdOf(w, 30, 50);
    expect(evals.length).toBe(30);
    want.forEach((x, i) => expect(evals[i]).toBeCloseTo(x, 9));
  });

  it('conv2d [out, in, kh, kw]: kh·kw slices W[:, :, i, j] pooled, each eigenvalue × 0.5 (conv2d_norm)', () => {
    const rng = new Rng(2);
    const [out, inC, kh, kw] = [6, 10, 3, 2];
    const l = layerOf('conv.weight', [out, inC, kh, kw]);
    const w = Float32Array.from({ length: out * inC * kh * kw }, () => rng.normal());
    const want: number[] = [];
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const slice = new Float64Array(out * inC);
        for (let o = 0; o < out; o++) for (let c = 0; c < inC; c++) slice[o * inC + c] = w[((o * inC + c) * kh + i) * kw + j]!;
        want.push(...esdOf(slice, out, inC).map((x) => 0.5 * x));
      }
    }
    const { evals, scale } = layerEsd(l, w);
    expect(scale).toBe(0.5);
    expect(evals.length).toBe(l.num_evals);
    sorted(want).forEach((x, i) => expect(evals[i]).toBeCloseTo(x, 9));
    expect(layerEsd(l, w, { conv2dNorm: false }).evals[evals.length - 1]).toBeCloseTo(2 * evals[evals.length - 1]!, 9);
  });

  it('rank from the ESD: exact zeros for a rank-3 matrix, as WeightWatcher’s SVD would count', () => {
    const rng = new Rng(3);
    const l = layerOf('fc.weight', [40, 20]);
    const a = Array.from({ length: 40 * 3 }, () => rng.normal());
    const b = Array.from({ length: 3 * 20 }, () => rng.normal());
    const w = new Float32Array(800);
    for (let r = 0; r < 40; r++) for (let c = 0; c < 20; c++) for (let k = 0; k < 3; k++) w[r * 20 + c] = w[r * 20 + c]! + a[r * 3 + k]! * b[k * 20 + c]!;
    const { evals, rank } = layerEsd(l, w);
    // Float32 rounding of W leaves ~1e-7-relative singular values, which WeightWatcher counts too.
    expect(rank).toBeGreaterThanOrEqual(3);
    const exact = layerEsd(l, new Float32Array(800).map((_, i) => (i % 20 === 0 ? 1 : 0)));
    expect(exact.rank).toBe(1);
    expect(Array.from(exact.evals.subarray(0, 19))).toEqual(Array(19).fill(0));
    expect(evals.length).toBe(20);
  });
});

describe('analyzeLayer on degenerate layers', () => {
  const l = layerOf('fc.weight', [24, 12]);
  it('all zeros: an error result, not a throw', () => {
    const r = analyzeLayer(l, new Float32Array(288));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatchObject({ code: 'zero-matrix' });
  });

  it('NaN / Inf: an error result naming the layer', () => {
    const w = new Float32Array(288).fill(1);
    w[5] = NaN;
    w[7] = Infinity;
    const r = analyzeLayer(l, w);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toBe('fc: 2 of 288 weights are NaN or ±Inf; no spectrum');
  });

  it('rank one: metrics with a failed fit, a note, and no training verdict', () => {
    const w = new Float32Array(288).fill(0.5);
    const r = analyzeLayer(l, w, { farms: false });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.status).toBe('failed');
    expect([r.alpha, r.D, r.xmin, r.num_pl_spikes]).toEqual([-1, -1, -1, -1]);
    expect(r.warning).toBe('');
    expect(r.matrix_rank).toBe(1);
    expect(r.lambda_max).toBeCloseTo(288 * 0.25, 9);
    expect(r.stable_rank).toBeCloseTo(1, 9);
    expect(r.notes.join(' ')).toMatch(/power-law fit failed.*rank-deficient: numerical rank 1 of 12/);
    expect(r.wpca).toBe(1);
  });

  it('a tensor that is not a matrix, or data of the wrong size: an error result', () => {
    const t3 = layerOf('attn.relative_bias', [4, 5, 6]);
    const r = analyzeLayer(t3, new Float32Array(120).fill(1));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('not-a-matrix');
    const bad = analyzeLayer(l, new Float32Array(100).fill(1));
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error.message).toMatch(/^fc: expected 288 values for shape \[24, 12\], got 100$/);
  });

  it('a healthy layer: every WeightWatcher column is finite', () => {
    const rng = new Rng(4);
    const w = Float32Array.from({ length: 288 }, () => rng.normal());
    const r = analyzeLayer(l, w);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    for (const k of ['alpha', 'alpha_weighted', 'D', 'xmin', 'xmax', 'sigma', 'log_norm', 'log_spectral_norm', 'spectral_norm', 'log_alpha_norm', 'stable_rank', 'entropy', 'lambda_max'] as const) {
      expect(Number.isFinite(r[k]), k).toBe(true);
    }
    expect(r.num_evals).toBe(12);
    expect(r.mp && Number.isFinite(r.mp.sigma_mp)).toBe(true);
    expect(r.farms?.windows).toBe(1);
  });
});

describe('FARMS', () => {
  it('pools the eigenvalues of a 10 × 10 grid of nr × 2nr windows, last window flush with the edge', () => {
    const rng = new Rng(5);
    const rows = 300;
    const cols = 700;
    const w = Float64Array.from({ length: rows * cols }, () => rng.normal());
    const { evals, nr, nc, windows } = farmsEsd(w, rows, cols, { nr: 100, qRatio: 2, opsPerDim: 10 });
    expect([nr, nc, windows, evals.length]).toEqual([100, 200, 100, 10_000]);
    // Published placement: step ⌊(300−100)/9⌋ = 22 rows, ⌊(700−200)/9⌋ = 55 columns.
    const want: number[] = [];
    for (let i = 0; i < 10; i++) {
      for (let j = 0; j < 10; j++) {
        const r0 = Math.min(i * 22, 200);
        const c0 = Math.min(j * 55, 500);
        const sub = new Float64Array(100 * 200);
        for (let r = 0; r < 100; r++) for (let c = 0; c < 200; c++) sub[r * 200 + c] = w[(r0 + r) * cols + c0 + c]!;
        want.push(...esdOf(sub, 100, 200));
      }
    }
    sorted(want).forEach((x, i) => expect(Math.abs(evals[i]! - x)).toBeLessThanOrEqual(1e-9 * Math.max(1, x)));
  });

  it('clamps the window to a small matrix (one window = the whole ESD)', () => {
    const rng = new Rng(6);
    const w = Float64Array.from({ length: 50 * 80 }, () => rng.normal());
    const r = farmsEsd(w, 50, 80);
    expect([r.nr, r.nc, r.windows]).toEqual([50, 80, 1]);
    sorted(esdOf(w, 50, 80)).forEach((x, i) => expect(r.evals[i]).toBeCloseTo(x, 8));
  });

  it('conv kernels are flattened to [out, in·kh·kw] × √0.5 and fitted at xmin_mid', () => {
    const rng = new Rng(7);
    const l = layerOf('conv.weight', [64, 32, 3, 3]);
    const w = Float32Array.from({ length: 64 * 32 * 9 }, () => rng.normal());
    const m = farmsMatrix(l, w);
    expect([m.rows, m.cols]).toEqual([64, 288]);
    expect(m.data[1 * 288 + 2 * 9 + 1 * 3 + 2]).toBe(w[((1 * 32 + 2) * 3 + 1) * 3 + 2]);
    const f = farmsAnalyze(l, w)!;
    expect([f.nr, f.nc]).toEqual([64, 200]);
    const N = f.evals.length;
    expect(f.xmin).toBe(f.evals[Math.floor(N / 2)]);
    const direct = farmsEsd(m.data.map((x) => x * Math.SQRT1_2), 64, 288);
    expect(f.evals[N - 1]).toBeCloseTo(direct.evals[N - 1]!, 9);
    // A Gaussian matrix is not heavy-tailed: the pooled α is large.
    expect(f.alpha).toBeGreaterThan(3);
  });

  it('[in, out] weights (MatMul) are read as [out, in]', () => {
    const l = layerOf('w', [3, 2], 'onnx');
    const l2: Layer = { ...l, slices: { ...l.slices, layout: 'io' } };
    const m = farmsMatrix(l2, new Float32Array([1, 2, 3, 4, 5, 6]));
    expect([m.rows, m.cols, Array.from(m.data)]).toEqual([2, 3, [1, 3, 5, 2, 4, 6]]);
  });
});

describe('layerEsd rank on a large slice (past the QR budget)', () => {
  it('counts dead units (all-zero columns) as exact zeros', () => {
    const rng = new Rng(8);
    const [rows, cols] = [2000, 400]; // 2·N·M² > budget: no pivoted QR
    const l = layerOf('big.weight', [cols, rows]); // stored [out=400, in=2000]
    const w = Float32Array.from({ length: rows * cols }, () => rng.normal());
    for (const dead of [3, 77, 250]) for (let c = 0; c < rows; c++) w[dead * rows + c] = 0; // three dead output units
    const { evals, rank } = layerEsd(l, w);
    expect(rank).toBe(cols - 3);
    expect(Array.from(evals.subarray(0, 3))).toEqual([0, 0, 0]);
    expect(evals[3]).toBeGreaterThan(1);
  });
});
