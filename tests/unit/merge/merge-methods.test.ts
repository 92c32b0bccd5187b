import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lambdaForTensor } from '../../../lib/analysis/merge/lambda-for-tensor';
import {
  dareTensor,
  lerpTensor,
  mergeModels,
  slerpTensor,
  taskArithmeticTensor,
  tensorSeed,
  tiesTensor,
  trimTopMagnitude,
  tsvTensor,
} from '../../../lib/analysis/merge/merge-methods';
import { Rng } from '../../../lib/base/rng';
import { openModel, pickPrimary } from '../../../lib/formats/registry';
import type { TensorSource } from '../../../lib/formats/types';
import { openNodeModel } from '../../../lib/io/node/node-file-source';
import { jacobiSvd } from '../../../lib/math/jacobi-svd';
import { symEigSmall } from '../../../lib/math/sym-eig-small';

const f32 = (xs: number[]) => new Float32Array(xs);

describe('lerp', () => {
  it('returns each end exactly at α = 0 and 1 and the independent mix in between', () => {
    const rng = new Rng(1);
    const a = Float32Array.from({ length: 50 }, () => rng.normal());
    const b = Float32Array.from({ length: 50 }, () => rng.normal());
    expect(lerpTensor(a, b, 0)).toEqual(a);
    expect(lerpTensor(a, b, 1)).toEqual(b);
    const m = lerpTensor(a, b, 0.3);
    for (let i = 0; i < 50; i++) expect(m[i]).toBe(Math.fround(0.7 * a[i]! + 0.3 * b[i]!));
  });
});

describe('SLERP', () => {
  it('on orthogonal vectors of norm 2: the ends at α = 0, 1 and the bisector of norm 2 at α = ½', () => {
    const a = f32([2, 0]);
    const b = f32([0, 2]);
    expect(slerpTensor(a, b, 0)).toEqual({ data: a, fallback: null });
    const one = slerpTensor(a, b, 1).data;
    expect(one[0]).toBeCloseTo(0, 7);
    expect(one[1]).toBeCloseTo(2, 7);
    const half = slerpTensor(a, b, 0.5);
    expect(half.fallback).toBeNull();
    expect(half.data[0]).toBeCloseTo(Math.SQRT2, 6);
    expect(half.data[1]).toBeCloseTo(Math.SQRT2, 6);
  });

  it('at a generic α on 3-vectors matches sin((1−α)Ω)/sin Ω·a + sin(αΩ)/sin Ω·b', () => {
    const a = f32([1, 2, 3]);
    const b = f32([-1, 0.5, 2]);
    const cos = (1 * -1 + 2 * 0.5 + 3 * 2) / (Math.hypot(1, 2, 3) * Math.hypot(-1, 0.5, 2));
    const om = Math.acos(cos);
    const t = 0.25;
    const r = slerpTensor(a, b, t);
    for (let i = 0; i < 3; i++) expect(r.data[i]).toBeCloseTo((Math.sin((1 - t) * om) * a[i]! + Math.sin(t * om) * b[i]!) / Math.sin(om), 6);
  });

  it('falls back to lerp for nearly parallel, antiparallel and zero-norm tensors', () => {
    const a = f32([1, 2, 3, 4]);
    const par = f32([2, 4, 6, 8.001]);
    const p = slerpTensor(a, par, 0.5);
    expect(p.fallback).toBe('parallel');
    expect(p.data).toEqual(lerpTensor(a, par, 0.5));
    expect(slerpTensor(a, f32([-1, -2, -3, -4]), 0.5).fallback).toBe('parallel');
    const z = slerpTensor(a, f32([0, 0, 0, 0]), 0.25);
    expect(z.fallback).toBe('zero-norm');
    expect(Array.from(z.data)).toEqual([0.75, 1.5, 2.25, 3]);
    // cos Ω ≈ 0.9990 is below the threshold: the spherical formula runs.
    const c = Math.cos(Math.acos(0.999));
    expect(slerpTensor(f32([1, 0]), f32([c, Math.sqrt(1 - c * c)]), 0.5).fallback).toBeNull();
  });
});

describe('TIES by hand', () => {
  // τ1, τ2, τ3 keep their 2 largest magnitudes (keep = 0.2 of 10 entries):
  //   τ1 → 5 at 0, −4 at 9;  τ2 → 3 at 0, 6 at 8;  τ3 → −2 at 0, 7 at 9.
  // Elected signs: entry 0: 5+3−2 > 0, entry 8: +, entry 9: −4+7 > 0.
  // Disjoint means: entry 0: (5+3)/2 = 4, entry 8: 6, entry 9: 7. Conflicts at 0 and 9.
  const base = f32([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  const taus = [
    [5, -1, 0.5, 0, 0, 0, 0, 0, 0, -4],
    [3, 0, 0, 0, 0, 0, 0, 0, 6, 2],
    [-2, 0, 0, 0, 0, 0, 0, 0, 0, 7],
  ];
  const tasks = taus.map((t) => Float32Array.from(t, (v, i) => base[i]! + v));

  it('trims, elects, takes the disjoint mean and counts sign conflicts', () => {
    const r = tiesTensor(base, tasks, { keep: 0.2, lambda: 0.5 });
    const merged = [4, 0, 0, 0, 0, 0, 0, 0, 6, 7];
    expect(Array.from(r.data)).toEqual(merged.map((m, i) => base[i]! + 0.5 * m));
    expect(r.signConflicts).toBe(2);
    expect(r.overlapping).toBe(2);
    expect(r.signConflictRate).toBeCloseTo(0.2, 12);
  });

  it('an entry whose trimmed values cancel takes the majority sign of the tensor', () => {
    // Sums [0, 3, 4] → elected [0, +, +]; majority + → entry 0 averages only the +1.
    const r = tiesTensor(f32([0, 0, 0]), [f32([1, 2, 3]), f32([-1, 1, 1])], { keep: 1 });
    expect(Array.from(r.data)).toEqual([1, 1.5, 2]);
    expect(r.signConflicts).toBe(1);
  });

  it('trim keeps ties at the threshold and at least one entry', () => {
    expect(Array.from(trimTopMagnitude(new Float64Array([1, -1, 1, 0.5]), 0.25))).toEqual([1, -1, 1, 0]);
    expect(Array.from(trimTopMagnitude(new Float64Array([0.1, -3, 2]), 0.01))).toEqual([0, -3, 0]);
    expect(Array.from(trimTopMagnitude(new Float64Array([0.1, -3, 2]), 0))).toEqual([0, 0, 0]);
  });
});

describe('DARE', () => {
  const n = 20000;
  const rng = new Rng(5);
  const tau = Float32Array.from({ length: n }, () => rng.normal() || 1);
  const base = new Float32Array(n);

  it('drops a binomial fraction and rescales every survivor by exactly 1/(1−p)', () => {
    const p = 0.3;
    const r = dareTensor(base, [tau], { dropRate: p, seed: 42 });
    // Binomial(n, p): mean 6000, sd ≈ 64.8; 5 sd either side.
    const sd = Math.sqrt(n * p * (1 - p));
    expect(Math.abs(r.dropped[0]! - n * p)).toBeLessThan(5 * sd);
    let zeros = 0;
    for (let j = 0; j < n; j++) {
      if (r.data[j] === 0) zeros++;
      else expect(r.data[j]).toBe(Math.fround(tau[j]! / (1 - p)));
    }
    expect(zeros).toBe(r.dropped[0]);
  });

  it('draws from Rng(seed), task after task, and is reproducible', () => {
    const p = 0.5;
    const t2 = Float32Array.from(tau, (v) => -2 * v);
    const r = dareTensor(base, [tau, t2], { dropRate: p, seed: 9, lambda: 1 });
    const draws = new Rng(9);
    const keep1 = Array.from({ length: n }, () => draws.next() >= p);
    const keep2 = Array.from({ length: n }, () => draws.next() >= p);
    for (let j = 0; j < n; j += 7) {
      const expected = (keep1[j] ? tau[j]! / 0.5 : 0) + (keep2[j] ? t2[j]! / 0.5 : 0);
      expect(r.data[j]).toBe(Math.fround(expected));
    }
    expect(dareTensor(base, [tau, t2], { dropRate: p, seed: 9 }).data).toEqual(r.data);
    expect(dareTensor(base, [tau, t2], { dropRate: p, seed: 10 }).data).not.toEqual(r.data);
    expect(() => dareTensor(base, [tau], { dropRate: 1, seed: 0 })).toThrow(/drop rate/);
  });
});

/** Orthonormal columns from seeded Gaussian columns by Gram–Schmidt (dim × count, column-major list). */
function orthonormal(dim: number, count: number, seed: number): number[][] {
  const rng = new Rng(seed);
  const cols: number[][] = [];
  while (cols.length < count) {
    const v = Array.from({ length: dim }, () => rng.normal());
    for (const c of cols) {
      const d = c.reduce((s, x, i) => s + x * v[i]!, 0);
      for (let i = 0; i < dim; i++) v[i]! -= d * c[i]!;
    }
    const norm = Math.hypot(...v);
    cols.push(v.map((x) => x / norm));
  }
  return cols;
}

describe('TSV-merge', () => {
  it('recovers the sum of task vectors living in orthogonal singular subspaces', () => {
    const m = 8;
    const n = 6;
    const U = orthonormal(m, 6, 11);
    const V = orthonormal(n, 6, 12);
    const rank = (idx: number[], sig: number[]) => {
      const out = new Float64Array(m * n);
      idx.forEach((j, t) => {
        for (let r = 0; r < m; r++) for (let c = 0; c < n; c++) out[r * n + c]! += sig[t]! * U[j]![r]! * V[j]![c]!;
      });
      return out;
    };
    const tau1 = rank([0, 1, 2], [3, 1.5, 0.5]);
    const tau2 = rank([3, 4, 5], [2, 1, 0.25]);
    const rng = new Rng(3);
    const base = Float32Array.from({ length: m * n }, () => rng.normal());
    const t1 = Float32Array.from(base, (b, i) => b + tau1[i]!);
    const t2 = Float32Array.from(base, (b, i) => b + tau2[i]!);
    const r = tsvTensor(base, [t1, t2], [m, n]);
    expect(r.mode).toBe('svd');
    expect(r.rankPerTask).toBe(3);
    for (let i = 0; i < m * n; i++) expect(r.data[i]).toBeCloseTo((t1[i]! - base[i]!) + (t2[i]! - base[i]!) + base[i]!, 5);
    // The same holds for the wide orientation.
    const tr = (a: Float32Array) => Float32Array.from({ length: m * n }, (_, i) => a[(i % m) * n + Math.floor(i / m)]!);
    const rt = tsvTensor(tr(base), [tr(t1), tr(t2)], [n, m]);
    const expT = tr(Float32Array.from(base, (b, i) => b + tau1[i]! + tau2[i]!));
    for (let i = 0; i < m * n; i++) expect(rt.data[i]).toBeCloseTo(expT[i]!, 5);
  });

  it('decorrelates overlapping rank-1 tasks: Δ = polar(U)·Σ·polar(V)ᵀ, polar by Newton iteration', () => {
    const a1 = [1, 0];
    const a2 = [Math.cos(0.5), Math.sin(0.5)];
    const b1 = [0.6, 0.8];
    const b2 = [1, 0];
    const s1 = 2;
    const s2 = 0.7;
    const base = f32([0.5, -1, 2, 0]);
    const outer = (s: number, a: number[], b: number[]) => [s * a[0]! * b[0]!, s * a[0]! * b[1]!, s * a[1]! * b[0]!, s * a[1]! * b[1]!];
    const t1 = Float32Array.from(outer(s1, a1, b1), (v, i) => base[i]! + v);
    const t2 = Float32Array.from(outer(s2, a2, b2), (v, i) => base[i]! + v);
    // Use the stored (float32-rounded) task vectors' exact rank-1 factors: recompute from t − base.
    // Polar factor of a 2×2 matrix by X ← (X + X⁻ᵀ)/2.
    const polar = (x: number[]) => {
      let [p, q, r, s] = x as [number, number, number, number];
      for (let it = 0; it < 60; it++) {
        const det = p * s - q * r;
        // X⁻ᵀ = [s, −r; −q, p] / det
        [p, q, r, s] = [(p + s / det) / 2, (q - r / det) / 2, (r - q / det) / 2, (s + p / det) / 2];
      }
      return [p, q, r, s];
    };
    // Columns of U = [a1 a2], V = [b1 b2] (row-major 2×2).
    const pu = polar([a1[0]!, a2[0]!, a1[1]!, a2[1]!]);
    const pv = polar([b1[0]!, b2[0]!, b1[1]!, b2[1]!]);
    const delta = [0, 0, 0, 0];
    for (let r = 0; r < 2; r++) {
      for (let c = 0; c < 2; c++) delta[r * 2 + c] = pu[r * 2]! * s1 * pv[c * 2]! + pu[r * 2 + 1]! * s2 * pv[c * 2 + 1]!;
    }
    const r = tsvTensor(base, [t1, t2], [2, 2], { lambda: 0.8 });
    for (let i = 0; i < 4; i++) expect(r.data[i]).toBeCloseTo(base[i]! + 0.8 * delta[i]!, 5);
    // Not simply the sum: the tasks' directions overlap and TSV removes the overlap.
    const sum = (t1[0]! - base[0]!) + (t2[0]! - base[0]!) + base[0]!;
    expect(Math.abs(r.data[0]! - (base[0]! + 0.8 * (sum - base[0]!)))).toBeGreaterThan(1e-3);
  });

  it('1-D tensors and layers with fewer singular values than tasks take the mean task vector', () => {
    const base = f32([1, 2, 3]);
    const r = tsvTensor(base, [f32([2, 2, 3]), f32([1, 4, 0])], [3], { lambda: 2 });
    expect(r.mode).toBe('mean');
    expect(Array.from(r.data)).toEqual([2, 4, 0]);
    expect(tsvTensor(f32([0, 0, 0]), [f32([1, 1, 1]), f32([1, 1, 1]), f32([1, 1, 1]), f32([1, 1, 1])], [1, 3]).mode).toBe('mean');
  });

  it('refuses a layer whose concatenation exceeds the Jacobi limit, naming the tensor', () => {
    const n = 1100 * 1100;
    const z = new Float32Array(n);
    expect(() => tsvTensor(z, [z], [1100, 1100], { name: 'big.weight' })).toThrow(/TSV: tensor "big.weight" \(1100 × 1100, 1 tasks\).*limit is 1024/);
  });
});

describe('block coefficients', () => {
  it('first matching rule by name pattern or block number, else the global λ', () => {
    const rules = [{ pattern: '^fc1\\.', lambda: 0.5 }, { block: 3, lambda: 2 }, { pattern: 'bias$', lambda: 0 }];
    expect(lambdaForTensor('fc1.weight', rules, 1)).toBe(0.5);
    expect(lambdaForTensor('model.layers.3.mlp.weight', rules, 1)).toBe(2);
    expect(lambdaForTensor('model.layers.4.mlp.bias', rules, 1)).toBe(0);
    expect(lambdaForTensor('model.layers.4.mlp.weight', rules, 1)).toBe(1);
    expect(lambdaForTensor('fc1.weight', undefined, 0.7)).toBe(0.7);
    expect(() => lambdaForTensor('x', [{ pattern: '(', lambda: 1 }], 1)).toThrow(/not a valid regular expression/);
  });
});

describe('mergeModels on the MNIST fine-tunes', () => {
  const inputs: Awaited<ReturnType<typeof openNodeModel>>[] = [];
  const m: Record<string, TensorSource> = {};
  const open = async (n: string) => {
    const input = await openNodeModel(`public/models/mnist/mlp-${n}.safetensors`, (names) => pickPrimary(names));
    inputs.push(input);
    m[n] = await openModel(input);
  };
  beforeAll(async () => {
    for (const n of ['base', 'ft-low', 'ft-high', 'seed1', 'seed2']) await open(n);
  });
  afterAll(async () => {
    for (const i of inputs) await i.close();
  });

  it('task arithmetic with λ = 1 equals base + τ_low + τ_high exactly, tensor by tensor', async () => {
    const r = await mergeModels({ models: [m['ft-low']!, m['ft-high']!], base: m.base!, method: { kind: 'ta', lambda: 1 } });
    expect(r.tensors).toHaveLength(6);
    for (const t of r.tensors) {
      const b = await m.base!.read(t.name);
      const lo = await m['ft-low']!.read(t.name);
      const hi = await m['ft-high']!.read(t.name);
      const expected = Float32Array.from(b, (x, i) => x + (lo[i]! - x) + (hi[i]! - x));
      expect(t.data).toEqual(expected);
    }
  });

  it('block coefficients scale only the matching tensors', async () => {
    const r = await mergeModels({
      models: [m['ft-low']!, m['ft-high']!], base: m.base!,
      method: { kind: 'ta', lambda: 1, blockLambdas: [{ pattern: '^fc1\\.', lambda: 0.25 }] },
    });
    const w = r.tensors.find((t) => t.name === 'fc1.weight')!;
    const b = await m.base!.read('fc1.weight');
    const lo = await m['ft-low']!.read('fc1.weight');
    const hi = await m['ft-high']!.read('fc1.weight');
    for (let i = 0; i < b.length; i += 97) expect(w.data[i]).toBe(Math.fround(b[i]! + 0.25 * ((lo[i]! - b[i]!) + (hi[i]! - b[i]!))));
    expect(r.stats.map((s) => s.lambda)).toEqual([0.25, 0.25, 1, 1, 1, 1]);
  });

  it('TIES on fc3 matches an independent trim / elect / disjoint-mean and reports the conflict rate', async () => {
    const r = await mergeModels({ models: [m['ft-low']!, m['ft-high']!], base: m.base!, method: { kind: 'ties', lambda: 1, keep: 0.2 } });
    for (const name of ['fc3.weight', 'fc3.bias']) {
      const b = await m.base!.read(name);
      const taus = [await m['ft-low']!.read(name), await m['ft-high']!.read(name)].map((t) => Array.from(t, (v, i) => v - b[i]!));
      const n = b.length;
      const kept = taus.map((t) => {
        const order = t.map((v, i) => [Math.abs(v), i] as const).sort((x, y) => y[0] - x[0]);
        const thr = order[Math.max(1, Math.floor(0.2 * n)) - 1]![0];
        return t.map((v) => (Math.abs(v) >= thr ? v : 0));
      });
      let conflicts = 0;
      const sums = Array.from({ length: n }, (_, j) => kept[0]![j]! + kept[1]![j]!);
      const majority = Math.sign(sums.reduce((s, v) => s + Math.sign(v), 0));
      const out = r.tensors.find((t) => t.name === name)!.data;
      for (let j = 0; j < n; j++) {
        const sign = Math.sign(sums[j]!) || majority;
        const agree = kept.map((k) => k[j]!).filter((v) => v !== 0 && Math.sign(v) === sign);
        const mean = agree.length ? agree.reduce((s, v) => s + v, 0) / agree.length : 0;
        if (kept[0]![j]! * kept[1]![j]! < 0) conflicts++;
        expect(out[j]).toBe(Math.fround(b[j]! + mean));
      }
      const stat = r.stats.find((s) => s.name === name)!;
      expect(stat.signConflicts).toBe(conflicts);
      expect(stat.signConflictRate).toBeCloseTo(conflicts / n, 12);
    }
  });

  it('DARE with p = 0 is task arithmetic; with p > 0 its draws are seeded per tensor name', async () => {
    const models = [m['ft-low']!, m['ft-high']!];
    const ta = await mergeModels({ models, base: m.base!, method: { kind: 'ta', lambda: 0.7 } });
    const d0 = await mergeModels({ models, base: m.base!, method: { kind: 'dare', lambda: 0.7, dropRate: 0, seed: 1 } });
    d0.tensors.forEach((t, i) => expect(t.data).toEqual(ta.tensors[i]!.data));
    const d = await mergeModels({ models, base: m.base!, method: { kind: 'dare', lambda: 1, dropRate: 0.9, seed: 1 } });
    const name = 'fc2.weight';
    const b = await m.base!.read(name);
    const lo = await m['ft-low']!.read(name);
    const hi = await m['ft-high']!.read(name);
    const direct = dareTensor(b, [lo, hi], { dropRate: 0.9, seed: tensorSeed(1, name), lambda: 1 });
    expect(d.tensors.find((t) => t.name === name)!.data).toEqual(direct.data);
    const dropped = d.stats.find((s) => s.name === name)!.dropped!;
    const sd = Math.sqrt(b.length * 0.9 * 0.1);
    for (const k of dropped) expect(Math.abs(k - 0.9 * b.length)).toBeLessThan(5 * sd);
  });

  it('TSV on the fine-tunes: fc3 matches an independent polar factor, fc2 keeps dead rows and ‖Δ‖ ≤ ‖Σ‖, biases take the mean', async () => {
    const r = await mergeModels({ models: [m['ft-low']!, m['ft-high']!], base: m.base!, method: { kind: 'tsv', lambda: 1 } });
    expect(r.stats.map((s) => s.tsvMode)).toEqual(['svd', 'mean', 'svd', 'mean', 'svd', 'mean']);
    const load = async (name: string) => {
      const b = await m.base!.read(name);
      const taus = [await m['ft-low']!.read(name), await m['ft-high']!.read(name)].map((t) => Float64Array.from(t, (v, i) => v - b[i]!));
      return { b, taus, out: r.tensors.find((t) => t.name === name)!.data };
    };
    const transpose = (a: Float64Array, rows: number, cols: number) => Float64Array.from({ length: rows * cols }, (_, i) => a[(i % rows) * cols + Math.floor(i / rows)]!);

    // fc3.weight, 10 × 128: k = 5 per task. Top triplets from an independent SVD of τᵀ, polar
    // factors as M·(MᵀM)^(−1/2) from the eigenvectors of the 10 × 10 Gram matrix.
    {
      const { b, taus, out } = await load('fc3.weight');
      const R = 10;
      const C = 128;
      const k = 5;
      const K = 10;
      const uCat = new Float64Array(R * K);
      const vCat = new Float64Array(C * K);
      const sCat: number[] = [];
      taus.forEach((tau, i) => {
        const svd = jacobiSvd(transpose(tau, R, C), C, R); // τᵀ = U'ΣV'ᵀ: u' are τ's right vectors
        for (let j = 0; j < k; j++) {
          sCat.push(svd.s[j]!);
          for (let c = 0; c < C; c++) vCat[c * K + i * k + j] = svd.u[c * R + j]!;
          for (let rr = 0; rr < R; rr++) uCat[rr * K + i * k + j] = svd.v[rr * R + j]!;
        }
      });
      const polar = (mat: Float64Array, rows: number) => {
        const g = new Float64Array(K * K);
        for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) for (let t = 0; t < rows; t++) g[i * K + j]! += mat[t * K + i]! * mat[t * K + j]!;
        const { values, vectors } = symEigSmall(g, K);
        expect(values[K - 1]!).toBeGreaterThan(1e-6); // full rank: the polar factor is unique
        const w = new Float64Array(K * K); // (MᵀM)^(−1/2)
        for (let e = 0; e < K; e++) for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) w[i * K + j]! += (vectors[e * K + i]! * vectors[e * K + j]!) / Math.sqrt(values[e]!);
        const p = new Float64Array(rows * K);
        for (let t = 0; t < rows; t++) for (let j = 0; j < K; j++) for (let i = 0; i < K; i++) p[t * K + j]! += mat[t * K + i]! * w[i * K + j]!;
        return p;
      };
      const pu = polar(uCat, R);
      const pv = polar(vCat, C);
      for (let rr = 0; rr < R; rr++) {
        for (let c = 0; c < C; c++) {
          let d = 0;
          for (let j = 0; j < K; j++) d += pu[rr * K + j]! * sCat[j]! * pv[c * K + j]!;
          expect(out[rr * C + c]! - b[rr * C + c]!).toBeCloseTo(d, 6);
        }
      }
    }

    // fc2.weight, 128 × 128: hidden units that never fired have all-zero rows in both τ; the
    // concatenated U is rank-deficient and TSV must not invent weights for those rows.
    {
      const { b, taus, out } = await load('fc2.weight');
      let deadRows = 0;
      for (let rr = 0; rr < 128; rr++) {
        if (taus.every((t) => t.subarray(rr * 128, rr * 128 + 128).every((v) => v === 0))) {
          deadRows++;
          for (let c = 0; c < 128; c++) expect(Math.abs(out[rr * 128 + c]! - b[rr * 128 + c]!)).toBeLessThan(1e-9);
        }
      }
      expect(deadRows).toBeGreaterThan(0);
      let kept = 0;
      for (const tau of taus) {
        const svd = jacobiSvd(tau, 128, 128);
        for (let j = 0; j < 64; j++) kept += svd.s[j]! ** 2;
      }
      let got = 0;
      for (let i = 0; i < b.length; i++) got += (out[i]! - b[i]!) ** 2;
      expect(got).toBeLessThanOrEqual(kept * (1 + 1e-6));
      expect(got).toBeGreaterThan(0.3 * kept);
    }

    const { b: bb, taus: bt, out: bias } = await load('fc3.bias');
    for (let i = 0; i < bb.length; i++) expect(bias[i]).toBe(Math.fround(bb[i]! + (bt[0]![i]! + bt[1]![i]!) / 2));
  });

  it('linear and SLERP between the two seeds; wrong model counts are refused with a message', async () => {
    const lin = await mergeModels({ models: [m.seed1!, m.seed2!], method: { kind: 'linear', alpha: 0.5 } });
    const a = await m.seed1!.read('fc3.bias');
    const b = await m.seed2!.read('fc3.bias');
    expect(lin.tensors.find((t) => t.name === 'fc3.bias')!.data).toEqual(lerpTensor(a, b, 0.5));
    const sl = await mergeModels({ models: [m.seed1!, m.seed2!], method: { kind: 'slerp', alpha: 0.5 } });
    expect(sl.stats.every((s) => s.slerpFallback === null)).toBe(true);
    expect(sl.tensors.find((t) => t.name === 'fc3.bias')!.data).toEqual(slerpTensor(a, b, 0.5).data);
    await expect(mergeModels({ models: [m.seed1!, m.seed2!, m.base!], method: { kind: 'slerp', alpha: 0.5 } })).rejects.toThrow(/exactly two models/);
    await expect(mergeModels({ models: [m.seed1!], method: { kind: 'ta', lambda: 1 } })).rejects.toThrow(/base model/);
  });

  it('taskArithmeticTensor on one task with λ = 1 returns that task', () => {
    const b = f32([1, 2, 3]);
    const t = f32([1.5, -2, 0]);
    expect(taskArithmeticTensor(b, [t], 1)).toEqual(t);
  });
});
