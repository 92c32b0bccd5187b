import { describe, expect, it } from 'vitest';
import { Rng } from '../../../lib/base/rng';
import { vqCandidates } from '../../../lib/analysis/quant/vq-candidates';
import { NEAREST_TILE_ROWS, nearestCodewords } from '../../../lib/math/nearest-codeword';

/** Brute force: explicit Σ(x − c)² for every pair, stable sort by (distance, index). */
function bruteNearest(x: Float32Array, n: number, d: number, cb: Float32Array, k: number, m: number): { idx: number[]; dist: number[] } {
  const idx: number[] = [];
  const dist: number[] = [];
  for (let i = 0; i < n; i++) {
    const all: { j: number; e: number }[] = [];
    for (let j = 0; j < k; j++) {
      let e = 0;
      for (let t = 0; t < d; t++) e += (x[i * d + t]! - cb[j * d + t]!) ** 2;
      all.push({ j, e });
    }
    all.sort((a, b) => a.e - b.e || a.j - b.j);
    for (let q = 0; q < m; q++) {
      idx.push(all[q]!.j);
      dist.push(all[q]!.e);
    }
  }
  return { idx, dist };
}

function normals(rng: Rng, len: number): Float32Array {
  const a = new Float32Array(len);
  for (let i = 0; i < len; i++) a[i] = rng.normal();
  return a;
}

describe('nearestCodewords', () => {
  it('equals a brute-force search on random data, d = 1..8, k up to 256', () => {
    const rng = new Rng(42);
    for (let d = 1; d <= 8; d++) {
      for (const k of [1, 3, 17, 256]) {
        const n = d === 4 && k === 256 ? NEAREST_TILE_ROWS + 37 : 300; // one case spans two tiles
        const x = normals(rng, n * d);
        const cb = normals(rng, k * d);
        for (const m of [1, Math.min(k, 4)]) {
          const got = nearestCodewords(x, n, d, cb, k, m);
          const ref = bruteNearest(x, n, d, cb, k, m);
          expect(Array.from(got.indices)).toEqual(ref.idx);
          for (let i = 0; i < ref.dist.length; i++) expect(got.distances[i]).toBeCloseTo(ref.dist[i]!, 9);
        }
      }
    }
  });

  it('breaks ties toward the lowest index and clamps at zero', () => {
    // Integer data: the matmul form is exact, so equal distances are really equal.
    const rng = new Rng(7);
    const d = 3;
    const k = 40;
    const n = 500;
    const x = new Float32Array(n * d);
    const cb = new Float32Array(k * d);
    for (let i = 0; i < x.length; i++) x[i] = rng.int(5) - 2;
    for (let i = 0; i < cb.length; i++) cb[i] = rng.int(5) - 2;
    cb.copyWithin(30 * d, 2 * d, 3 * d); // codeword 30 duplicates codeword 2
    for (const m of [1, 4]) {
      const got = nearestCodewords(x, n, d, cb, k, m);
      const ref = bruteNearest(x, n, d, cb, k, m);
      expect(Array.from(got.indices)).toEqual(ref.idx);
      expect(Array.from(got.distances)).toEqual(ref.dist);
    }
    // A point on a codeword: distance exactly 0, even with large coordinates.
    const big = new Float32Array([12345.678, -9876.5]);
    const r = nearestCodewords(big, 1, 2, new Float32Array([0, 0, 12345.678, -9876.5, 12345.678, -9876.5]), 3, 2);
    expect(Array.from(r.indices)).toEqual([1, 2]);
    expect(Array.from(r.distances)).toEqual([0, 0]);
  });

  it('rejects nNearest outside 1..k', () => {
    const x = new Float32Array(4);
    expect(() => nearestCodewords(x, 2, 2, x, 2, 3)).toThrow('nNearest must be an integer in 1..2');
  });
});

describe('vqCandidates', () => {
  it('weights sum to 1, ratio in [0, 1], margin ≥ 0, and match inverse distances', () => {
    const rng = new Rng(3);
    const d = 4;
    const k = 64;
    const n = 1000;
    const x = normals(rng, n * d);
    const cb = normals(rng, k * d);
    for (let nCand = 1; nCand <= 4; nCand++) {
      const c = vqCandidates(x, n, d, cb, k, nCand);
      const ref = bruteNearest(x, n, d, cb, k, Math.max(2, nCand));
      const m = Math.max(2, nCand);
      for (let i = 0; i < n; i++) {
        let s = 0;
        let inv = 0;
        for (let q = 0; q < nCand; q++) inv += 1 / Math.sqrt(ref.dist[i * m + q]!);
        for (let q = 0; q < nCand; q++) {
          expect(c.indices[i * nCand + q]).toBe(ref.idx[i * m + q]);
          const w = c.weights[i * nCand + q]!;
          expect(w).toBeCloseTo(1 / Math.sqrt(ref.dist[i * m + q]!) / inv, 6);
          s += w;
        }
        expect(s).toBeCloseTo(1, 6);
        const d1 = Math.sqrt(ref.dist[i * m]!);
        const d2 = Math.sqrt(ref.dist[i * m + 1]!);
        expect(c.ratio[i]!).toBeGreaterThanOrEqual(0);
        expect(c.ratio[i]!).toBeLessThanOrEqual(1);
        expect(c.ratio[i]).toBeCloseTo(d1 / d2, 6);
        expect(c.margin[i]!).toBeGreaterThanOrEqual(0);
        expect(c.margin[i]).toBeCloseTo(d2 - d1, 5);
      }
    }
  });

  it('handles points on a codeword and equidistant points', () => {
    const cb = new Float32Array([0, 0, 2, 0, 0, 2]);
    const x = new Float32Array([0, 0, 1, 0]); // on codeword 0; halfway between 0 and 1
    const c = vqCandidates(x, 2, 2, cb, 3, 2);
    expect(Array.from(c.weights.subarray(0, 2))).toEqual([1, 0]);
    expect(c.ratio[0]).toBe(0);
    expect(c.margin[0]).toBe(2);
    expect(Array.from(c.indices.subarray(2, 4))).toEqual([0, 1]);
    expect(Array.from(c.weights.subarray(2, 4))).toEqual([0.5, 0.5]);
    expect(c.ratio[1]).toBe(1);
    expect(c.margin[1]).toBe(0);
  });

  it('single codeword: weight 1, no alternative', () => {
    const c = vqCandidates(new Float32Array([1, 2, 3]), 3, 1, new Float32Array([0]), 1, 1);
    expect(Array.from(c.weights)).toEqual([1, 1, 1]);
    expect(Array.from(c.ratio)).toEqual([0, 0, 0]);
    expect(Array.from(c.margin)).toEqual([Infinity, Infinity, Infinity]);
    expect(() => vqCandidates(new Float32Array([1]), 1, 1, new Float32Array([0]), 1, 2)).toThrow('in 1..1');
  });
});
