import { beforeAll, describe, expect, it } from 'vitest';
import type { QuantMatrix } from '../../../lib/analysis/quant/quant-matrix';
import { alphaPruningRatios } from '../../../lib/analysis/prune/allocation';
import { applyMask, countKept, maskGet, nmValidity } from '../../../lib/analysis/prune/mask';
import { pruneLayer } from '../../../lib/analysis/prune/prune-layer';
import { pruneLayers, type PruneInputLayer } from '../../../lib/analysis/prune/prune-layers';
import { DEFAULT_PRUNE_SETTINGS, type PruneSettings } from '../../../lib/analysis/prune/prune-types';
import { CancelledError, UnsupportedError } from '../../../lib/base/errors';
import { expectedRemoved, MLP, realMatrices } from './real-layers';

let mlp: Map<string, QuantMatrix>;
let input: PruneInputLayer[];
const ALPHA: Record<string, number> = { fc1: 3.1, fc2: 4.7, fc3: 2.4 };

beforeAll(async () => {
  mlp = await realMatrices(MLP);
  input = [...mlp].map(([name, matrix]) => ({ name, matrix, alpha: ALPHA[name]! }));
});

const settings = (s: Partial<PruneSettings>): PruneSettings => ({ ...DEFAULT_PRUNE_SETTINGS, ...s });

describe('pruneLayer', () => {
  it('magnitude: exact count, exact set, threshold and a 64-bin histogram of every weight', () => {
    const m = mlp.get('fc1')!;
    const r = pruneLayer(m, settings({ method: 'magnitude' }), 0.65);
    const n = m.rows * m.cols;
    const k = Math.round(0.65 * n);
    expect(r.stats.kept).toBe(n - k);
    expect(r.stats.sparsity).toBeCloseTo(k / n, 12);
    const want = expectedRemoved(Float32Array.from(m.data, Math.abs), k);
    let wrong = 0;
    for (let i = 0; i < n; i++) if (maskGet(r.mask, i) === want.has(i)) wrong++;
    expect(wrong).toBe(0);
    expect(r.histogram.counts.length).toBe(64);
    expect(r.histogram.counts.reduce((a, b) => a + b, 0) + r.histogram.zeros).toBe(n);
    expect(r.threshold! >= 10 ** r.histogram.log10Min && r.threshold! <= 10 ** r.histogram.log10Max).toBe(true);
    // The pruned weights really are zero and the kept ones untouched.
    const pruned = applyMask(m.data, r.mask);
    expect(pruned.filter((x) => x === 0).length).toBeGreaterThanOrEqual(k);
  });

  it('wanda without activation norms says why it cannot run', () => {
    const m = mlp.get('fc2')!;
    let err: unknown;
    try {
      pruneLayer(m, settings({ method: 'wanda' }), 0.5);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnsupportedError);
    expect((err as UnsupportedError).code).toBe('wanda-needs-activations');
    expect((err as Error).message).toMatch(/ONNX graph and give calibration inputs/);
  });

  it('wanda with norms prunes each row to the ratio, and the norms change the mask', () => {
    const m = mlp.get('fc2')!;
    const norms = Float32Array.from({ length: m.cols }, (_, j) => 1 + ((j * 37) % 11));
    const r = pruneLayer(m, settings({ method: 'wanda' }), 0.5, { actNorms: norms });
    for (const s of r.stats.rowSparsity) expect(s).toBe(0.5);
    const mag = pruneLayer(m, settings({ method: 'magnitude' }), 0.5);
    let differ = 0;
    for (let i = 0; i < m.rows * m.cols; i++) if (maskGet(r.mask, i) !== maskGet(mag.mask, i)) differ++;
    expect(differ).toBeGreaterThan(0);
    expect(r.threshold).toBeNull();
  });
});

describe('pruneLayers on the MNIST MLP', () => {
  it('uniform magnitude and LIFT reach the target in every layer exactly', async () => {
    for (const method of ['magnitude', 'lift'] as const) {
      const res = await pruneLayers(input, settings({ method, sparsity: 0.5 }));
      for (const l of res.layers) expect(l.stats.weights - l.stats.kept).toBe(Math.round(0.5 * l.stats.weights));
      expect(res.sparsity).toBeCloseTo(0.5, 4);
    }
  });

  it('DIMAP ranks within module types: each type reaches the target, layers inside it differ', async () => {
    const types = [{ name: 'hidden', pattern: '^fc[12]$' }];
    const res = await pruneLayers(input, settings({ method: 'dimap', sparsity: 0.5, moduleTypes: types }));
    expect(res.layers.map((l) => l.moduleType)).toEqual([0, 0, 1]);
    const hiddenRemoved = res.layers.slice(0, 2).reduce((a, l) => a + l.stats.weights - l.stats.kept, 0);
    expect(hiddenRemoved).toBe(Math.round(0.5 * (128 * 784 + 128 * 128)));
    expect(res.layers[2]!.stats.weights - res.layers[2]!.stats.kept).toBe(640);
    expect(res.layers[0]!.stats.sparsity).not.toBe(res.layers[1]!.stats.sparsity);
  });

  it('LIFT and magnitude masks differ (a real comparison for the view)', async () => {
    const a = await pruneLayers(input, settings({ method: 'magnitude', sparsity: 0.5 }));
    const b = await pruneLayers(input, settings({ method: 'lift', sparsity: 0.5, liftRank: 8 }));
    const fc1a = a.layers[0]!.mask;
    const fc1b = b.layers[0]!.mask;
    let differ = 0;
    for (let i = 0; i < fc1a.rows * fc1a.cols; i++) if (maskGet(fc1a, i) !== maskGet(fc1b, i)) differ++;
    expect(differ).toBeGreaterThan(0);
  });

  it('global magnitude with an excluded layer: pooled exact top-k, excluded layer dense', async () => {
    const res = await pruneLayers(input, settings({ method: 'magnitude', scope: 'global', sparsity: 0.8, exclude: '^fc3$' }));
    expect(res.layers[2]!.excluded).toBe(true);
    expect(countKept(res.layers[2]!.mask)).toBe(1280);
    const pooledN = 128 * 784 + 128 * 128;
    const removed = res.layers[0]!.stats.weights - res.layers[0]!.stats.kept + res.layers[1]!.stats.weights - res.layers[1]!.stats.kept;
    expect(removed).toBe(Math.round(0.8 * pooledN));
    expect(res.layers[0]!.threshold).toBe(res.layers[1]!.threshold);
  });

  it('N:M ignores the slider and gives valid 2:4 masks', async () => {
    const res = await pruneLayers(input, settings({ method: 'nm', n: 2, m: 4, sparsity: 0.9 }));
    for (const l of res.layers) {
      expect(nmValidity(l.mask, 2, 4).valid).toBe(true);
      expect(l.stats.sparsity).toBe(0.5);
      expect(l.ratio).toBe(0.5);
    }
  });

  it('alpha allocation uses alphaPruningRatios and hits the parameter-weighted target', async () => {
    const res = await pruneLayers(input, settings({ method: 'magnitude', allocation: 'alpha', sparsity: 0.6, epsilon: 0.3 }));
    const want = alphaPruningRatios(input.map((l) => ({ params: l.matrix.rows * l.matrix.cols, alpha: l.alpha! })), 0.6, 0.3);
    res.layers.forEach((l, i) => {
      expect(l.ratio).toBe(want[i]);
      expect(l.stats.weights - l.stats.kept).toBe(Math.round(want[i]! * l.stats.weights));
    });
    // fc2 has the largest α: pruned most; fc3 the smallest: pruned least.
    expect(res.layers[1]!.ratio).toBeGreaterThan(res.layers[0]!.ratio);
    expect(res.layers[0]!.ratio).toBeGreaterThan(res.layers[2]!.ratio);
    expect(res.sparsity).toBeCloseTo(0.6, 4);
  });

  it('reports progress and stops on abort', async () => {
    const seen: string[] = [];
    await pruneLayers(input, settings({}), { onProgress: (p) => seen.push(`${p.done}/${p.layers}`) });
    expect(seen).toEqual(['0/3', '1/3', '2/3', '3/3']);
    const ac = new AbortController();
    const run = pruneLayers(input, settings({ method: 'lift' }), { signal: ac.signal, onProgress: (p) => p.done === 1 && ac.abort() });
    await expect(run).rejects.toBeInstanceOf(CancelledError);
  });
});
