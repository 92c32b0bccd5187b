import { describe, expect, it } from 'vitest';
import { Rng } from '../../../lib/base/rng';
import { jacobiSvd } from '../../../lib/math/jacobi-svd';
import { lowRankProduct, orthonormalizeColumns, randomizedSvd } from '../../../lib/math/randomized-svd';

/** A random m × n matrix with orthonormal columns (QR of a Gaussian). */
function randomOrthonormal(rng: Rng, m: number, n: number): Float64Array {
  const x = Float64Array.from({ length: m * n }, () => rng.normal());
  orthonormalizeColumns(x, m, n);
  return x;
}

/** U·diag(s)·Vᵀ with U m × k, V n × k. */
function compose(u: Float64Array, s: number[], v: Float64Array, m: number, n: number): Float64Array {
  const k = s.length;
  const a = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let acc = 0;
    for (let t = 0; t < k; t++) acc += u[i * k + t]! * s[t]! * v[j * k + t]!;
    a[i * n + j] = acc;
  }
  return a;
}

function relFrob(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num / den);
}

describe('jacobiSvd', () => {
  it('recovers known singular values and reconstructs the matrix', () => {
    const rng = new Rng(1);
    const m = 30;
    const n = 12;
    const sigma = Array.from({ length: n }, (_, i) => 10 / (i + 1));
    const a = compose(randomOrthonormal(rng, m, n), sigma, randomOrthonormal(rng, n, n), m, n);
    const svd = jacobiSvd(a, m, n);
    sigma.forEach((s, i) => expect(svd.s[i]!).toBeCloseTo(s, 10));
    const back = lowRankProduct({ rows: m, cols: n, rank: n, s: svd.s, u: svd.u, v: svd.v });
    expect(relFrob(back, a)).toBeLessThan(1e-12);
    // U has orthonormal columns.
    for (let p = 0; p < n; p++) for (let q = 0; q < n; q++) {
      let d = 0;
      for (let i = 0; i < m; i++) d += svd.u[i * n + p]! * svd.u[i * n + q]!;
      expect(d).toBeCloseTo(p === q ? 1 : 0, 10);
    }
  });

  it('rejects wide input with a message', () => {
    expect(() => jacobiSvd(new Float64Array(6), 2, 3)).toThrow(/rows ≥ cols/);
  });
});

describe('randomizedSvd', () => {
  it('finds the top singular triplets of a constructed matrix with decaying spectrum', () => {
    const rng = new Rng(7);
    const m = 200;
    const n = 80;
    const sigma = Array.from({ length: n }, (_, i) => Math.exp(-i / 4));
    const a = compose(randomOrthonormal(rng, m, n), sigma, randomOrthonormal(rng, n, n), m, n);
    const r = 6;
    const svd = randomizedSvd(a, m, n, r, { seed: 3 });
    for (let i = 0; i < r; i++) expect(Math.abs(svd.s[i]! - sigma[i]!) / sigma[i]!).toBeLessThan(1e-8);
    const ref = jacobiSvd(a, m, n);
    const refR = lowRankProduct({ rows: m, cols: n, rank: r, s: ref.s.slice(0, r), u: sliceCols(ref.u, m, n, r), v: sliceCols(ref.v, n, n, r) });
    expect(relFrob(lowRankProduct(svd), refR)).toBeLessThan(1e-6);
  });

  it('matches a full Jacobi SVD on random matrices (tall and wide) when r + p covers the small side', () => {
    const rng = new Rng(11);
    for (const [m, n] of [[17, 9], [9, 17], [40, 12]] as const) {
      const a = Float64Array.from({ length: m * n }, () => rng.normal());
      const r = 4;
      const svd = randomizedSvd(a, m, n, r, { seed: 5 });
      const tall = m >= n;
      const at = tall ? a : transpose(a, m, n);
      const ref = jacobiSvd(at, Math.max(m, n), Math.min(m, n));
      for (let i = 0; i < r; i++) expect(svd.s[i]!).toBeCloseTo(ref.s[i]!, 9);
      const k = Math.min(m, n);
      const refR = lowRankProduct({ rows: Math.max(m, n), cols: k, rank: r, s: ref.s.slice(0, r), u: sliceCols(ref.u, Math.max(m, n), k, r), v: sliceCols(ref.v, k, k, r) });
      const mine = lowRankProduct(svd);
      expect(relFrob(tall ? mine : transpose(mine, m, n), refR)).toBeLessThan(1e-9);
    }
  });

  it('is reproducible from its seed', () => {
    const rng = new Rng(2);
    const a = Float64Array.from({ length: 60 * 50 }, () => rng.normal());
    const x = randomizedSvd(a, 60, 50, 5, { seed: 9 });
    const y = randomizedSvd(a, 60, 50, 5, { seed: 9 });
    expect(Array.from(x.s)).toEqual(Array.from(y.s));
    expect(Array.from(x.u)).toEqual(Array.from(y.u));
  });

  it('rejects a rank beyond the small side', () => {
    expect(() => randomizedSvd(new Float64Array(12), 3, 4, 4)).toThrow(/rank 4/);
  });
});

function sliceCols(a: Float64Array, rows: number, cols: number, r: number): Float64Array {
  const out = new Float64Array(rows * r);
  for (let i = 0; i < rows; i++) for (let j = 0; j < r; j++) out[i * r + j] = a[i * cols + j]!;
  return out;
}

function transpose(a: ArrayLike<number>, m: number, n: number): Float64Array {
  const t = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) t[j * m + i] = a[i * n + j]!;
  return t;
}
