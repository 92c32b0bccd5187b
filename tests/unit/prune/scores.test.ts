import { beforeAll, describe, expect, it } from 'vitest';
import type { QuantMatrix } from '../../../lib/analysis/quant/quant-matrix';
import { dimapScores, liftScores, magnitudeScores, wandaScores } from '../../../lib/analysis/prune/scores';
import { jacobiSvd } from '../../../lib/math/jacobi-svd';
import { DET, MLP, realMatrices } from './real-layers';

let layers: Map<string, QuantMatrix>;

beforeAll(async () => {
  layers = new Map([...(await realMatrices(MLP, ['fc2', 'fc3'])), ...(await realMatrices(DET, ['conv2d_0.w_0', 'conv2d_138.w_0']))]);
});

/** |W_r| from a full Jacobi SVD, computed here without the randomized code. */
function exactLift(m: QuantMatrix, r: number): Float64Array {
  const tall = m.rows >= m.cols;
  const R = Math.max(m.rows, m.cols);
  const C = Math.min(m.rows, m.cols);
  const a = new Float64Array(R * C);
  for (let i = 0; i < m.rows; i++) for (let j = 0; j < m.cols; j++) a[tall ? i * C + j : j * C + i] = m.data[i * m.cols + j]!;
  const { s, u, v } = jacobiSvd(a, R, C);
  const out = new Float64Array(m.rows * m.cols);
  for (let i = 0; i < m.rows; i++) for (let j = 0; j < m.cols; j++) {
    const [x, y] = tall ? [i, j] : [j, i];
    let acc = 0;
    for (let t = 0; t < r; t++) acc += u[x * C + t]! * s[t]! * v[y * C + t]!;
    out[i * m.cols + j] = Math.abs(acc);
  }
  return out;
}

describe('liftScores', () => {
  it('matches |W_r| of an exact SVD on real layers within 1e-4 of the largest entry', () => {
    for (const [name, m] of layers) {
      for (const r of [4, 8]) {
        const got = liftScores(m, r, { seed: 1 });
        const want = exactLift(m, r);
        let maxDiff = 0;
        let maxAbs = 0;
        for (let i = 0; i < want.length; i++) {
          maxDiff = Math.max(maxDiff, Math.abs(got[i]! - want[i]!));
          maxAbs = Math.max(maxAbs, want[i]!);
        }
        expect(maxDiff / maxAbs, `${name} rank ${r}`).toBeLessThan(1e-4);
      }
    }
  });

  it('clamps the rank to the small side (exact full-rank reconstruction = |W|)', () => {
    const m = layers.get('fc3')!; // 10 × 128
    const got = liftScores(m, 50);
    const mag = magnitudeScores(m);
    for (let i = 0; i < mag.length; i += 7) expect(got[i]!).toBeCloseTo(mag[i]!, 5);
  });
});

describe('dimapScores', () => {
  it('computes the relative distortion on a hand-worked example', () => {
    // |w| sorted ascending: 1 (idx 2), 2 (idx 0), 2 (idx 3), 3 (idx 1); squares 1, 4, 4, 9.
    const m = { rows: 2, cols: 2, data: Float32Array.from([-2, 3, 1, 2]) };
    // suffix: w²_(p) / Σ_{q≥p} w²_(q): 1/18, 4/17, 4/13, 9/9
    expect(Array.from(dimapScores(m))).toEqual([4 / 17, 1, 1 / 18, 4 / 13].map(Math.fround));
    // prefix (DESIGN.md as written): w²_(p) / Σ_{q≤p}: 1/1, 4/5, 4/9, 9/18
    expect(Array.from(dimapScores(m, 'prefix'))).toEqual([4 / 5, 9 / 18, 1, 4 / 9].map(Math.fround));
  });

  it('(suffix) orders weights within a layer as their magnitudes do', () => {
    const m = layers.get('fc2')!;
    const d = dimapScores(m);
    const idx = Array.from({ length: m.data.length }, (_, i) => i).sort((a, b) => Math.abs(m.data[a]!) - Math.abs(m.data[b]!) || a - b);
    let violations = 0;
    for (let p = 1; p < idx.length; p++) if (d[idx[p]!]! < d[idx[p - 1]!]!) violations++;
    expect(violations).toBe(0);
    expect(Math.max(...d)).toBeCloseTo(1, 6);
  });
});

describe('wandaScores', () => {
  it('is |W_ij|·‖X_j‖ and checks the norm count', () => {
    const m = layers.get('conv2d_0.w_0')!; // 16 × 27 (3 channels × 3 × 3)
    const norms = Float32Array.from({ length: m.cols }, (_, j) => 0.5 + j);
    const s = wandaScores(m, norms);
    for (const i of [0, 5, 27, 100, 431]) expect(s[i]).toBe(Math.fround(Math.abs(m.data[i]!) * norms[i % m.cols]!));
    expect(() => wandaScores(m, new Float32Array(3))).toThrow(/3 activation norms for a layer with 27/);
  });
});
