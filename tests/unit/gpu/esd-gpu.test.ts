import { describe, expect, it } from 'vitest';
import { esdGpu } from '../../../lib/gpu/esd-gpu';
import { eigvalsh } from '../../../lib/math/eigvalsh';
import { gram } from '../../../lib/math/gram';
import { nodeGpuDevice } from './node-gpu';
import { gaussian, knownSpectrum } from './test-matrices';

/** The CPU float64 path: lib/math/gram + lib/math/eigvalsh. */
function cpuEsd(W: Float32Array, rows: number, cols: number): Float64Array {
  const { g, k } = gram(W, rows, cols);
  return eigvalsh(g, k);
}

interface Agreement {
  /** Largest |λ_gpu − λ_cpu| / λ_cpu over λ_cpu ≥ 1e-5·λmax. */
  worstRelAbove: number;
  /** Largest |λ_gpu − λ_cpu| / λmax over all λ. */
  worstAbs: number;
}

function agreement(gpu: Float64Array, cpu: Float64Array): Agreement {
  const lmax = cpu[cpu.length - 1]!;
  let worstRelAbove = 0;
  let worstAbs = 0;
  for (let i = 0; i < cpu.length; i++) {
    const d = Math.abs(gpu[i]! - cpu[i]!);
    worstAbs = Math.max(worstAbs, d / lmax);
    if (cpu[i]! >= 1e-5 * lmax) worstRelAbove = Math.max(worstRelAbove, d / cpu[i]!);
  }
  return { worstRelAbove, worstAbs };
}

describe('esdGpu against the float64 CPU path', () => {
  // Singular values log-spaced over 1e-3..1e2, so λ spans 1e-6..1e4 (ten decades).
  const known: [number, number][] = [
    [96, 256],
    [256, 96],
    [97, 203],
  ];
  for (const [rows, cols] of known) {
    it(`known spectrum ${rows}×${cols}: within 1e-4 relative for λ ≥ 1e-5·λmax, and within the floor everywhere`, async () => {
      const device = await nodeGpuDevice();
      const { W, s } = knownSpectrum(rows, cols, 1e-3, 1e2, rows + cols);
      const cpu = cpuEsd(W, rows, cols);
      const r = await esdGpu(device, W, rows, cols);
      expect(r.precision).toBe('df32');
      expect(r.k).toBe(Math.min(rows, cols));
      expect(r.n).toBe(Math.max(rows, cols));
      expect(r.evals.length).toBe(r.k);
      for (let i = 1; i < r.k; i++) expect(r.evals[i]!).toBeGreaterThanOrEqual(r.evals[i - 1]!);
      const a = agreement(r.evals, cpu);
      expect(a.worstRelAbove).toBeLessThan(1e-4); // the requirement
      expect(a.worstRelAbove).toBeLessThan(1e-6); // what df32 actually delivers (~1e-8 measured)
      expect(a.worstAbs).toBeLessThanOrEqual(r.floor);
      expect(r.floor).toBeLessThan(1e-8);
      expect(r.lambdaMax).toBe(r.evals[r.k - 1]);
      // Sanity against the construction: the top of the spectrum is s², up to W's f32 rounding.
      expect(Math.abs(r.lambdaMax - s[s.length - 1]! ** 2) / r.lambdaMax).toBeLessThan(1e-5);
    });
  }

  it('Gaussian 128×512: agrees to ~1e-9 relative across the whole (well-conditioned) spectrum', async () => {
    const device = await nodeGpuDevice();
    const W = gaussian(128, 512, 42);
    const cpu = cpuEsd(W, 128, 512);
    const r = await esdGpu(device, W, 128, 512);
    const a = agreement(r.evals, cpu);
    expect(a.worstRelAbove).toBeLessThan(1e-8);
    expect(a.worstAbs).toBeLessThanOrEqual(r.floor);
  });

  it('plain f32 misses the 1e-4 target on a graded spectrum, and its floor says so', async () => {
    const device = await nodeGpuDevice();
    const { W } = knownSpectrum(96, 256, 1e-3, 1e2, 5);
    const cpu = cpuEsd(W, 96, 256);
    const r = await esdGpu(device, W, 96, 256, { precision: 'f32' });
    expect(r.precision).toBe('f32');
    const a = agreement(r.evals, cpu);
    expect(a.worstRelAbove).toBeGreaterThan(1e-4);
    // The floor bounds the error but is not vacuous: within 100× of the worst error seen.
    expect(a.worstAbs).toBeLessThanOrEqual(r.floor);
    expect(r.floor).toBeLessThan(100 * a.worstAbs);
    // f32's floor sits above the 1e-5·λmax line the issue asks to get right.
    expect(r.floor * 1e4).toBeGreaterThan(1e-5);
  });

  it('zero matrix: zero eigenvalues and a zero floor', async () => {
    const device = await nodeGpuDevice();
    const r = await esdGpu(device, new Float32Array(20 * 30), 20, 30);
    expect(Array.from(r.evals)).toEqual(new Array(20).fill(0));
    expect(r.floor).toBe(0);
    expect(r.lambdaMax).toBe(0);
  });

  it('chunked and unchunked runs give the same eigenvalues to the floor', async () => {
    const device = await nodeGpuDevice();
    const { W } = knownSpectrum(300, 40, 1e-2, 1e1, 8);
    const whole = await esdGpu(device, W, 300, 40);
    const chunked = await esdGpu(device, W, 300, 40, { chunkLength: 37 });
    for (let i = 0; i < 40; i++) expect(Math.abs(whole.evals[i]! - chunked.evals[i]!)).toBeLessThanOrEqual(whole.floor * whole.lambdaMax);
  });
});
