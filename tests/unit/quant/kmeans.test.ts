import { describe, expect, it } from 'vitest';
import { planted } from '../helpers/planted-clusters';
import { UnsupportedError } from '../../../lib/base/errors';
import { Rng } from '../../../lib/base/rng';
import { kmeans, kmeansPlusPlus, lloyd } from '../../../lib/math/kmeans';
import { nearestCodewords } from '../../../lib/math/nearest-codeword';

function randomData(seed: number, n: number, d: number): Float32Array {
  const rng = new Rng(seed);
  const x = new Float32Array(n * d);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  return x;
}

/** Textbook Lloyd's: explicit distances, first index wins ties, empty clusters left in place. */
function referenceLloyd(x: Float32Array, n: number, d: number, k: number, init: Float32Array, iters: number): number {
  const c = Array.from(init);
  const a = new Array<number>(n).fill(0);
  const assignAll = (): number => {
    let obj = 0;
    for (let i = 0; i < n; i++) {
      let best = Infinity;
      for (let j = 0; j < k; j++) {
        let e = 0;
        for (let t = 0; t < d; t++) e += (x[i * d + t]! - c[j * d + t]!) ** 2;
        if (e < best) {
          best = e;
          a[i] = j;
        }
      }
      obj += best;
    }
    return obj;
  };
  let obj = assignAll();
  for (let it = 0; it < iters; it++) {
    const sum = new Array<number>(k * d).fill(0);
    const cnt = new Array<number>(k).fill(0);
    for (let i = 0; i < n; i++) {
      cnt[a[i]!]!++;
      for (let t = 0; t < d; t++) sum[a[i]! * d + t]! += x[i * d + t]!;
    }
    for (let j = 0; j < k; j++) if (cnt[j]! > 0) for (let t = 0; t < d; t++) c[j * d + t] = Math.fround(sum[j * d + t]! / cnt[j]!);
    obj = assignAll();
  }
  return obj;
}

describe('kmeans', () => {
  it('recovers planted centres and gives pure clusters', () => {
    for (const [k, d] of [[8, 2], [16, 3], [5, 4]] as const) {
      const per = 60;
      const { x, centres, label } = planted(11 + k, k, d, per);
      const n = k * per;
      const r = kmeans(x, n, d, k, { seed: 3, maxIter: 50 });
      // Match each planted centre to its nearest recovered codeword: a permutation, within 0.05.
      const match = nearestCodewords(centres, k, d, r.codebook, k, 1);
      expect(new Set(match.indices).size).toBe(k);
      for (let j = 0; j < k; j++) expect(Math.sqrt(match.distances[j]!)).toBeLessThan(0.05);
      // Purity: every point of planted cluster j sits in codeword match[j].
      for (let i = 0; i < n; i++) expect(r.assign[i]).toBe(match.indices[label[i]!]);
      // Objective ≈ n·d·σ².
      expect(r.objective / (n * d)).toBeGreaterThan(0.0015);
      expect(r.objective / (n * d)).toBeLessThan(0.0035);
    }
  });

  it('objective history is non-increasing and ends at the reported objective', () => {
    const n = 3000;
    const d = 3;
    const x = randomData(5, n, d);
    const seen: number[] = [];
    const r = kmeans(x, n, d, 32, { seed: 9, maxIter: 30, tol: 0, onIteration: (_it, o) => seen.push(o) });
    expect(r.objectiveHistory).toEqual(seen);
    expect(r.objectiveHistory.length).toBe(r.iterations + 1);
    for (let i = 1; i < r.objectiveHistory.length; i++) {
      expect(r.objectiveHistory[i]!).toBeLessThanOrEqual(r.objectiveHistory[i - 1]! * (1 + 1e-9));
    }
    expect(r.objective).toBe(r.objectiveHistory.at(-1));
    // The reported objective is Σ‖x − c_assign‖² recomputed independently.
    let obj = 0;
    for (let i = 0; i < n; i++) for (let t = 0; t < d; t++) obj += (x[i * d + t]! - r.codebook[r.assign[i]! * d + t]!) ** 2;
    expect(r.objective).toBeCloseTo(obj, 6);
  });

  it('same seed gives identical output, another seed differs', () => {
    const n = 2000;
    const d = 2;
    const x = randomData(7, n, d);
    const a = kmeans(x, n, d, 16, { seed: 1 });
    const b = kmeans(x, n, d, 16, { seed: 1 });
    const c = kmeans(x, n, d, 16, { seed: 2 });
    expect(b.codebook).toEqual(a.codebook);
    expect(b.assign).toEqual(a.assign);
    expect(b.objectiveHistory).toEqual(a.objectiveHistory);
    expect(c.codebook).not.toEqual(a.codebook);
  });

  it('reaches the objective of a plain reference Lloyd from the same k-means++ start', () => {
    for (const [n, d, k, seed] of [[1500, 4, 16, 1], [800, 1, 8, 2], [1200, 8, 24, 3]] as const) {
      const x = randomData(100 + seed, n, d);
      const init = kmeansPlusPlus(x, n, d, k, new Rng(seed));
      const ours = kmeans(x, n, d, k, { seed, maxIter: 20, tol: 0 });
      // kmeans seeds exactly like kmeansPlusPlus with Rng(seed)
      expect(lloyd(x, n, d, k, init, 0, 0).objective).toBe(ours.objectiveHistory[0]);
      const ref = referenceLloyd(x, n, d, k, init, 20);
      expect(Math.abs(ours.objective - ref) / ref).toBeLessThan(1e-6);
    }
  });

  it('k-means++ picks k distinct data points', () => {
    const n = 500;
    const d = 2;
    const x = randomData(4, n, d);
    const c = kmeansPlusPlus(x, n, d, 20, new Rng(8));
    const m = nearestCodewords(c, 20, d, x, n, 1);
    for (let j = 0; j < 20; j++) expect(m.distances[j]).toBe(0);
    expect(new Set(m.indices).size).toBe(20);
  });

  it('re-seeds an empty cluster onto the farthest point', () => {
    // Points 0, 1, 2, 10 on a line; codeword 1 starts far away and gets no points.
    const x = new Float32Array([0, 1, 2, 10]);
    const init = new Float32Array([1, 100]);
    const r = lloyd(x, 4, 1, 2, init, 5, 0);
    // After the first assignment every point is in cluster 0 (centre 1); 10 is farthest (81).
    expect(Array.from(r.codebook).sort((a, b) => a - b)).toEqual([1, 10]);
    expect(Array.from(r.assign)).toEqual([0, 0, 0, 1]);
    expect(r.objective).toBe(2);
  });

  it('handles all-identical points (k-means++ falls back to uniform picks)', () => {
    const x = new Float32Array(40).fill(3);
    const r = kmeans(x, 20, 2, 4, { seed: 1 });
    expect(r.objective).toBe(0);
    expect(Array.from(r.codebook)).toEqual(new Array(8).fill(3));
  });

  it('rejects k > n and bad shapes with clear errors', () => {
    const x = randomData(1, 10, 2);
    expect(() => kmeans(x, 10, 2, 11, { seed: 1 })).toThrow(UnsupportedError);
    expect(() => kmeans(x, 10, 2, 11, { seed: 1 })).toThrow('k = 11 codewords but only n = 10 sub-vectors');
    expect(() => kmeans(x, 11, 2, 4, { seed: 1 })).toThrow('data holds 20 values');
    expect(() => kmeans(x, 10, 2, 0, { seed: 1 })).toThrow('k must be an integer');
  });

  it('stops on an aborted signal', () => {
    const x = randomData(1, 100, 2);
    const ac = new AbortController();
    ac.abort();
    expect(() => kmeans(x, 100, 2, 4, { seed: 1, signal: ac.signal })).toThrow('cancelled');
  });
});
