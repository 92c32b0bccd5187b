import { describe, expect, it } from 'vitest';
import { Rng } from '../../../lib/base/rng';
import { eigvalsh } from '../../../lib/math/eigvalsh';
import { gram, gramOfRows } from '../../../lib/math/gram';
import { rankDeficit } from '../../../lib/math/rank-deficit';
import { randomOrthogonal } from '../gpu/test-matrices';

/** W = U diag(s) Vᵀ, rows × cols (rows ≥ cols = s.length), row-major float64. */
function withSingularValues(rows: number, s: number[], rng: Rng): Float64Array {
  const cols = s.length;
  const u = randomOrthogonal(rows, rng);
  const v = randomOrthogonal(cols, rng);
  const w = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      let x = 0;
      for (let k = 0; k < cols; k++) x += u[r * rows + k]! * s[k]! * v[c * cols + k]!;
      w[r * cols + c] = x;
    }
  }
  return w;
}

/** Cyclic Jacobi eigenvalue method, written independently of the library, for small symmetric matrices. */
function jacobiEigenvalues(a0: Float64Array, n: number): number[] {
  const a = Float64Array.from(a0);
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q]! ** 2;
    if (off < 1e-40) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        if (apq === 0) continue;
        const theta = (a[q * n + q]! - a[p * n + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p]!;
          const akq = a[k * n + q]!;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k]!;
          const aqk = a[q * n + k]!;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
      }
    }
  }
  return Array.from({ length: n }, (_, i) => a[i * n + i]!).sort((x, y) => x - y);
}

/** Eigenvalues of WᵀW through the library: Gram of the smaller side, then eigvalsh. */
function esd(w: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const { g, k } = gram(w, rows, cols);
  return eigvalsh(g, k);
}

/** Max relative error over expected λ ≥ 1e-6 λmax (ascending arrays of equal length). */
function maxRelError(got: ArrayLike<number>, want: number[]): number {
  const lmax = Math.max(...want);
  let worst = 0;
  want.forEach((w, i) => {
    if (w >= 1e-6 * lmax) worst = Math.max(worst, Math.abs(got[i]! - w) / w);
  });
  return worst;
}

describe('gram', () => {
  it('equals the naive float64 product for both orientations and odd sizes', () => {
    const rng = new Rng(1);
    for (const [rows, cols] of [[7, 13], [13, 7], [9, 9], [1, 5], [6, 1], [33, 1030]]) {
      const w = Float32Array.from({ length: rows! * cols! }, () => rng.normal());
      const { g, k } = gram(w, rows!, cols!);
      expect(k).toBe(Math.min(rows!, cols!));
      for (let i = 0; i < k; i++) {
        for (let j = 0; j < k; j++) {
          let s = 0;
          if (rows! <= cols!) for (let c = 0; c < cols!; c++) s += w[i * cols! + c]! * w[j * cols! + c]!;
          else for (let r = 0; r < rows!; r++) s += w[r * cols! + i]! * w[r * cols! + j]!;
          expect(Math.abs(g[i * k + j]! - s)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(s)));
          expect(g[i * k + j]).toBe(g[j * k + i]);
        }
      }
    }
  });

  it('accumulates float32 inputs in float64 (sums float32 would lose)', () => {
    // 1 + 2^-24 is not representable in float32; the float64 Gram keeps it.
    const w = new Float32Array([1, Math.fround(2 ** -12)]);
    expect(gramOfRows(Float64Array.from(w), 1, 2)[0]).toBe(1 + 2 ** -24);
    expect(gram(w, 1, 2).g[0]).toBe(1 + 2 ** -24);
    expect(Math.fround(1 + 2 ** -24)).toBe(1);
  });
});

describe('eigvalsh (Householder tridiagonalization + implicit QL)', () => {
  const rng = new Rng(42);
  const cases: [string, number, number[]][] = [
    ['well conditioned', 60, Array.from({ length: 40 }, (_, i) => 1 + i / 10)],
    ['condition number 1e8 (λ spans 1e16)', 50, Array.from({ length: 30 }, (_, i) => 10 ** (-8 + (8 * i) / 29))],
    ['repeated values', 40, [...Array(10).fill(3), ...Array(10).fill(1), ...Array(5).fill(0.5)]],
    ['rank-deficient (8 zeros)', 30, [...Array(8).fill(0), ...Array.from({ length: 12 }, (_, i) => 2 + i)]],
    ['one huge spike over a bulk', 80, [1e4, ...Array.from({ length: 39 }, (_, i) => 0.5 + i / 40)]],
  ];
  for (const [label, rows, s] of cases) {
    it(`recovers a known spectrum: ${label}`, () => {
      const w = withSingularValues(rows, s, rng);
      const want = s.map((x) => x * x).sort((a, b) => a - b);
      const got = esd(w, rows, s.length);
      expect(got.length).toBe(s.length);
      expect(maxRelError(got, want)).toBeLessThanOrEqual(1e-6);
      // Below 1e-6 λmax only absolute accuracy ~ ε λmax is promised.
      const lmax = want[want.length - 1]!;
      want.forEach((x, i) => expect(Math.abs(got[i]! - x)).toBeLessThanOrEqual(1e-12 * lmax));
      // The wide orientation gives the same values.
      const wt = new Float64Array(w.length);
      for (let r = 0; r < rows; r++) for (let c = 0; c < s.length; c++) wt[c * rows + r] = w[r * s.length + c]!;
      expect(maxRelError(esd(wt, s.length, rows), want)).toBeLessThanOrEqual(1e-6);
    });
  }

  it('agrees with an independent Jacobi routine on small random float32 matrices', () => {
    for (const [rows, cols] of [[5, 3], [12, 12], [20, 9], [3, 17], [31, 16]]) {
      const w = Float32Array.from({ length: rows! * cols! }, () => rng.normal() * (rng.next() < 0.2 ? 10 : 1));
      const { g, k } = gram(w, rows!, cols!);
      const want = jacobiEigenvalues(g, k);
      const got = eigvalsh(Float64Array.from(g), k);
      expect(maxRelError(got, want)).toBeLessThanOrEqual(1e-6);
      // Tridiagonal QL and Jacobi agree to roundoff on every value.
      want.forEach((x, i) => expect(Math.abs(got[i]! - x)).toBeLessThanOrEqual(1e-12 * want[want.length - 1]!));
    }
  });

  it('handles diagonal, 1 × 1 and zero matrices exactly', () => {
    expect(Array.from(eigvalsh(new Float64Array([4]), 1))).toEqual([4]);
    expect(Array.from(eigvalsh(new Float64Array([3, 0, 0, 0, 1, 0, 0, 0, 2]), 3))).toEqual([1, 2, 3]);
    expect(Array.from(eigvalsh(new Float64Array(16), 4))).toEqual([0, 0, 0, 0]);
    expect(eigvalsh(new Float64Array(0), 0).length).toBe(0);
  });
});

describe('rankDeficit (pivoted QR)', () => {
  it('counts singular values below the tolerance, including ones the Gram cannot resolve', () => {
    const rng = new Rng(7);
    const s = [1, 0.5, 1e-9, 0, 0, 2];
    const w = withSingularValues(20, s, rng);
    expect(rankDeficit(w, 20, 6, 1e-12)).toBe(2);
    expect(rankDeficit(w, 20, 6, 1e-6)).toBe(3);
    expect(rankDeficit(w, 20, 6, 0.7)).toBe(4);
    expect(rankDeficit(new Float64Array(12), 3, 4, 1e-30)).toBe(3);
  });
});
