import { describe, expect, it } from 'vitest';
import { CancelledError } from '../../../lib/base/errors';
import { GRAM_UNIT_ROUNDOFF } from '../../../lib/gpu/gram-error-floor';
import { GRAM_DEPTH, GRAM_TILE, gramChunkLength, gramGpu, MAX_MACS_PER_DISPATCH, type GramPrecision } from '../../../lib/gpu/gram-gpu';
import { compensatedGramHolds, gramProbeError } from '../../../lib/gpu/gram-precision-probe';
import { gram } from '../../../lib/math/gram';
import { nodeGpuDevice } from './node-gpu';
import { gaussian, knownSpectrum, naiveGram } from './test-matrices';

/** Largest entry error divided by the error model's scale u·√n·max G_ii (gram-error-floor.ts). */
function modelRatio(g: Float64Array, ref: Float64Array, k: number, n: number, precision: GramPrecision): number {
  let maxDiag = 0;
  for (let i = 0; i < k; i++) maxDiag = Math.max(maxDiag, ref[i * k + i]!);
  let err = 0;
  for (let i = 0; i < k * k; i++) err = Math.max(err, Math.abs(g[i]! - ref[i]!));
  return err / (GRAM_UNIT_ROUNDOFF[precision] * Math.sqrt(n) * maxDiag);
}

function expectSymmetric(g: Float64Array, k: number): void {
  for (let i = 0; i < k; i++) for (let j = 0; j < i; j++) expect(g[i * k + j]).toBe(g[j * k + i]);
}

describe('gramGpu (WebGPU, SwiftShader) against the float64 CPU Gram', () => {
  // Tall, wide, square, tile-aligned and not, degenerate 1-wide.
  const shapes: [number, number][] = [
    [97, 203],
    [203, 97],
    [64, 64],
    [33, 17],
    [16, 160],
    [1, 1],
    [1, 300],
    [300, 1],
    [600, 8],
  ];
  for (const [rows, cols] of shapes) {
    it(`Gaussian ${rows}×${cols}: entries within the df32 error model`, async () => {
      const device = await nodeGpuDevice();
      const W = gaussian(rows, cols, rows * 1000 + cols);
      const { g: ref, k } = gram(W, rows, cols);
      const g = await gramGpu(device, W, rows, cols);
      expect(g.length).toBe(k * k);
      expectSymmetric(g, k);
      expect(modelRatio(g, ref, k, Math.max(rows, cols), 'df32')).toBeLessThan(1);
    });
  }

  it('lib/math/gram agrees with the definition (the reference these tests trust)', () => {
    const W = gaussian(37, 53, 5);
    const { g } = gram(W, 37, 53);
    const naive = naiveGram(W, 37, 53);
    for (let i = 0; i < g.length; i++) expect(Math.abs(g[i]! - naive[i]!)).toBeLessThan(1e-12 * 53);
  });

  it('df32 is far more accurate than plain f32 on a graded spectrum, and both fit the error model', async () => {
    const device = await nodeGpuDevice();
    const { W } = knownSpectrum(96, 256, 1e-3, 1e2, 11);
    const { g: ref, k } = gram(W, 96, 256);
    const df = modelRatio(await gramGpu(device, W, 96, 256), ref, k, 256, 'df32');
    const f = modelRatio(await gramGpu(device, W, 96, 256, { precision: 'f32' }), ref, k, 256, 'f32');
    expect(df).toBeLessThan(1);
    expect(f).toBeLessThan(1);
    // Absolute errors: df32's are below f32's by orders of magnitude.
    const dfErr = df * GRAM_UNIT_ROUNDOFF.df32;
    const fErr = f * GRAM_UNIT_ROUNDOFF.f32;
    expect(dfErr * 1e3).toBeLessThan(fErr);
  });

  it('exact on small integers (every product and sum representable)', async () => {
    const device = await nodeGpuDevice();
    const rows = 20;
    const cols = 45;
    const W = Float32Array.from({ length: rows * cols }, (_, i) => ((i * 7919) % 23) - 11);
    const g = await gramGpu(device, W, rows, cols);
    expect(Array.from(g)).toEqual(Array.from(naiveGram(W, rows, cols)));
  });
});

describe('gramGpu chunking', () => {
  const cases: [number, number, number][] = [
    [203, 97, 5], // tall: row chunks, length not a multiple of the tile
    [203, 97, 16],
    [97, 203, 7], // wide: column blocks copied to contiguous pieces
    [97, 203, 64],
    [1000, 3, 1], // one row per dispatch
  ];
  for (const [rows, cols, chunkLength] of cases) {
    it(`${rows}×${cols} in chunks of ${chunkLength} long-side entries equals the CPU Gram`, async () => {
      const device = await nodeGpuDevice();
      const W = gaussian(rows, cols, 3);
      const n = Math.max(rows, cols);
      const { g: ref, k } = gram(W, rows, cols);
      const progress: number[] = [];
      const g = await gramGpu(device, W, rows, cols, { chunkLength, onProgress: (done, total) => (expect(total).toBe(n), progress.push(done)) });
      expect(progress.length).toBe(Math.ceil(n / chunkLength));
      expect(progress[progress.length - 1]).toBe(n);
      for (let i = 1; i < progress.length; i++) expect(progress[i]!).toBeGreaterThan(progress[i - 1]!);
      expect(modelRatio(g, ref, k, n, 'df32')).toBeLessThan(1);
    });
  }

  it('default chunks fit one storage binding and the per-dispatch work bound', async () => {
    const device = await nodeGpuDevice();
    for (const [k, n] of [
      [768, 50257],
      [4096, 11008],
      [64, 10_000_000],
    ] as const) {
      const m = gramChunkLength(device, k, n);
      expect(m).toBeGreaterThanOrEqual(1);
      expect(m * k * 4).toBeLessThanOrEqual(device.limits.maxStorageBufferBindingSize);
      const blocks = Math.ceil(k / GRAM_TILE);
      expect(((blocks * (blocks + 1)) / 2) * GRAM_TILE * GRAM_TILE * m).toBeLessThanOrEqual(MAX_MACS_PER_DISPATCH);
      if (m < n) expect(m % GRAM_DEPTH).toBe(0);
    }
    expect(gramChunkLength(device, 97, 203, 7)).toBe(7);
  });

  it('stops with CancelledError when aborted between chunks', async () => {
    const device = await nodeGpuDevice();
    const W = gaussian(400, 20, 9);
    const ac = new AbortController();
    ac.abort();
    await expect(gramGpu(device, W, 400, 20, { signal: ac.signal })).rejects.toBeInstanceOf(CancelledError);
    const ac2 = new AbortController();
    let calls = 0;
    const run = gramGpu(device, W, 400, 20, {
      chunkLength: 50,
      signal: ac2.signal,
      onProgress: () => {
        if (++calls === 2) ac2.abort();
      },
    });
    await expect(run).rejects.toBeInstanceOf(CancelledError);
    expect(calls).toBe(2);
    // The device is still usable afterwards.
    const { g: ref, k } = gram(W, 400, 20);
    expect(modelRatio(await gramGpu(device, W, 400, 20), ref, k, 400, 'df32')).toBeLessThan(1);
  });

  it('rejects a value count that does not match the shape', async () => {
    const device = await nodeGpuDevice();
    await expect(gramGpu(device, new Float32Array(10), 3, 4, { label: 'layer.weight' })).rejects.toThrow(/layer\.weight.*12 values, got 10/);
    await expect(gramGpu(device, new Float32Array(12), 3, 4, { chunkLength: 0 })).rejects.toThrow(/chunkLength/);
  });
});

describe('compensated accumulation probe', () => {
  it('holds on this device, and the probe tells df32 from plain f32', async () => {
    const device = await nodeGpuDevice();
    expect(await compensatedGramHolds(device)).toBe(true);
    const df = await gramProbeError(device, 'df32');
    const f = await gramProbeError(device, 'f32');
    // Measured: df32 exact (0), f32 5.7e-8.
    expect(df).toBeLessThan(1e-12);
    expect(f).toBeGreaterThan(1e-8);
  });
});
