import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { alphaPruningRatios } from '../../../lib/analysis/prune/allocation';
import { layerAlphas } from '../../../lib/analysis/prune/layer-alphas';
import { pruneLayers } from '../../../lib/analysis/prune/prune-layers';
import { pruneModel, selectPruneLayers } from '../../../lib/analysis/prune/prune-model';
import { DEFAULT_PRUNE_SETTINGS, type Mask, type PruneSettings } from '../../../lib/analysis/prune/prune-types';
import { quantMatrix } from '../../../lib/analysis/quant/quant-matrix';
import { analyzeLayer } from '../../../lib/analysis/spectra/analyze-layer';
import { farmsAnalyze } from '../../../lib/analysis/spectra/farms';
import { CancelledError, UnsupportedError } from '../../../lib/base/errors';
import { openModel, pickPrimary } from '../../../lib/formats/registry';
import { writeSafetensors } from '../../../lib/formats/write-safetensors';
import { memorySource, singleFileModel } from '../../../lib/io/byte-source';
import type { TensorSource } from '../../../lib/formats/types';
import { openNodeModel } from '../../../lib/io/node/node-file-source';
import type { Layer } from '../../../lib/model/layer';

/**
 * The model driver on the MNIST MLP (fc1 128×784, fc2 128×128, fc3 10×128): exact sparsity per
 * layer and pooled, magnitude sets checked against |w| directly, α-driven targets against
 * alphaPruningRatios on α recomputed here with the spectra engine, N:M validity, exclusion.
 */

const MLP = join(resolve(__dirname, '../../..'), 'public/models/mnist/mlp-seed1.safetensors');
const closers: { close(): Promise<void> }[] = [];
afterAll(async () => {
  for (const c of closers) await c.close();
});

async function openMlp(): Promise<{ source: TensorSource; layers: Layer[] }> {
  const input = await openNodeModel(MLP, pickPrimary);
  closers.push(input);
  const source = await openModel(input);
  return { source, layers: selectPruneLayers(source).layers };
}

const s = (o: Partial<PruneSettings>): PruneSettings => ({ ...DEFAULT_PRUNE_SETTINGS, ...o });
const bit = (m: Mask, i: number) => ((m.bits[i >>> 5]! >>> (i & 31)) & 1) === 1;

describe('pruneModel', () => {
  it('uniform magnitude 0.5: round(0.5·n) removed per layer, every removed |w| ≤ every kept |w|, pooled totals', async () => {
    const { source, layers } = await openMlp();
    const r = await pruneModel(source, layers, s({ sparsity: 0.5 }));
    expect(r.layers.map((l) => [l.tensor, l.rows, l.cols])).toEqual([['fc1.weight', 128, 784], ['fc2.weight', 128, 128], ['fc3.weight', 10, 128]]);
    for (const l of r.layers) {
      expect(l.target).toBe(0.5);
      expect(l.weights - l.kept).toBe(Math.round(0.5 * l.weights));
      const w = quantMatrix(l.layer, await source.read(l.tensor)).data;
      let maxRemoved = 0;
      let minKept = Infinity;
      for (let i = 0; i < l.weights; i++) {
        if (bit(l.mask, i)) minKept = Math.min(minKept, Math.abs(w[i]!));
        else maxRemoved = Math.max(maxRemoved, Math.abs(w[i]!));
      }
      expect(maxRemoved).toBeLessThanOrEqual(minKept);
      expect(l.alpha).toBeNull();
    }
    const n = 128 * 784 + 128 * 128 + 10 * 128;
    expect(r.totals).toMatchObject({ layers: 3, pruned: 3, excluded: 0, weights: n, target: 0.5 });
    expect(r.totals.sparsity).toBe((n - r.totals.kept) / n);
    expect(r.totals.kept).toBe(n - r.layers.reduce((a, l) => a + Math.round(0.5 * l.weights), 0));
    // Every tensor of the file (weights + biases 128 + 128 + 10) counts in the model figure.
    expect(r.totals.modelParams).toBe(n + 266);
    expect(r.totals.modelSparsity).toBe((n - r.totals.kept) / (n + 266));
  });

  it('alpha and farms allocation: targets are alphaPruningRatios of the spectra engine’s α, achieved exactly', async () => {
    const { source, layers } = await openMlp();
    for (const kind of ['alpha', 'farms'] as const) {
      const alphas: (number | null)[] = [];
      for (const l of layers) {
        const data = await source.read(l.tensor.name);
        if (kind === 'alpha') {
          const sp = analyzeLayer(l, data, { mpFit: false, farms: false });
          alphas.push(sp.ok && sp.status === 'ok' ? sp.alpha : null);
        } else {
          alphas.push(farmsAnalyze(l, data)?.alpha ?? null);
        }
      }
      expect(alphas.every((a) => a !== null && a > 1)).toBe(true);
      const want = alphaPruningRatios(layers.map((l, i) => ({ params: l.tensor.shape[0]! * l.tensor.shape[1]!, alpha: alphas[i]! })), 0.6, 0.2);
      const r = await pruneModel(source, layers, s({ sparsity: 0.6, allocation: kind, epsilon: 0.2 }));
      expect(r.layers.map((l) => l.alpha)).toEqual(alphas);
      expect(r.layers.map((l) => l.target)).toEqual(want);
      expect(new Set(want).size).toBe(3); // the allocation is not uniform here
      for (const l of r.layers) expect(l.weights - l.kept).toBe(Math.round(l.target * l.weights));
      expect(Math.abs(r.totals.target - 0.6)).toBeLessThan(1e-12);
      expect(Math.abs(r.totals.sparsity - 0.6)).toBeLessThan(1e-4); // rounding per layer only
      // layerAlphas (the progress-reporting helper) gives the same numbers.
      expect((await layerAlphas(source, layers, kind)).map((a) => a.alpha)).toEqual(alphas);
    }
  });

  it('N:M 2:4 is valid in every layer; exclude leaves fc3 dense; global scope pools the ranking', async () => {
    const { source, layers } = await openMlp();
    const nm = await pruneModel(source, layers, s({ method: 'nm', exclude: '^fc3$' }));
    for (const l of nm.layers.slice(0, 2)) {
      expect(l.nm).toEqual({ valid: true, violatingGroups: 0, groups: l.rows * (l.cols / 4) });
      expect(l.achieved).toBe(0.5);
    }
    const fc3 = nm.layers[2]!;
    expect([fc3.excluded, fc3.kept, fc3.weights, fc3.target, fc3.nm]).toEqual([true, 1280, 1280, 0, undefined]);
    expect(nm.totals).toMatchObject({ pruned: 2, excluded: 1 });

    const g = await pruneModel(source, layers, s({ scope: 'global', sparsity: 0.7 }));
    const n = g.totals.weights;
    expect(n - g.totals.kept).toBe(Math.round(0.7 * n));
    // One threshold for all: no removed |w| anywhere exceeds a kept |w| anywhere.
    let maxRemoved = 0;
    let minKept = Infinity;
    for (const l of g.layers) {
      const w = quantMatrix(l.layer, await source.read(l.tensor)).data;
      for (let i = 0; i < l.weights; i++) {
        if (bit(l.mask, i)) minKept = Math.min(minKept, Math.abs(w[i]!));
        else maxRemoved = Math.max(maxRemoved, Math.abs(w[i]!));
      }
    }
    expect(maxRemoved).toBeLessThanOrEqual(minKept);
    expect(new Set(g.layers.map((l) => l.achieved)).size).toBeGreaterThan(1);
  });

  it('refuses Wanda without activations and bad settings; honours an aborted signal', async () => {
    const { source, layers } = await openMlp();
    await expect(pruneModel(source, layers, s({ method: 'wanda' }))).rejects.toThrow(/mlp-seed1\.safetensors: Wanda .* activation norms/);
    await expect(pruneModel(source, layers, s({ sparsity: 1.5 }))).rejects.toThrow(UnsupportedError);
    await expect(pruneModel(source, layers, s({ exclude: '(' }))).rejects.toThrow(/not a valid regular expression/);
    await expect(pruneModel(source, layers, s({ method: 'nm', n: 5, m: 4 }))).rejects.toThrow(/5:4/);
    const ac = new AbortController();
    ac.abort();
    await expect(pruneModel(source, layers, s({}), { signal: ac.signal })).rejects.toThrow(CancelledError);
  });

  it('per-layer methods streamed one tensor at a time give the same masks and targets as the engine’s pruneLayers', async () => {
    const { source, layers } = await openMlp();
    const alphas = (await layerAlphas(source, layers, 'alpha')).map((a) => a.alpha);
    const inputs = await Promise.all(layers.map(async (l, i) => ({ name: l.name, matrix: quantMatrix(l, await source.read(l.tensor.name)), alpha: alphas[i]! })));
    const cases: Partial<PruneSettings>[] = [
      { sparsity: 0.35 },
      { sparsity: 0.5, allocation: 'alpha', epsilon: 0.3, exclude: '^fc2$' },
      { method: 'nm', n: 1, m: 4, exclude: '^fc1$' },
      { method: 'lift', liftRank: 4, sparsity: 0.6 },
      { method: 'dimap', sparsity: 0.4, moduleTypes: [{ name: 'hidden', pattern: 'fc[12]' }] },
    ];
    for (const c of cases) {
      const mine = await pruneModel(source, layers, s(c));
      const engine = await pruneLayers(inputs, s(c));
      expect(mine.layers.map((l) => l.target), JSON.stringify(c)).toEqual(engine.layers.map((l) => l.ratio));
      expect(mine.layers.map((l) => l.excluded)).toEqual(engine.layers.map((l) => l.excluded));
      mine.layers.forEach((l, i) => expect(Array.from(l.mask.bits), `${JSON.stringify(c)} ${l.name}`).toEqual(Array.from(engine.layers[i]!.mask.bits)));
      expect(mine.totals.kept).toBe(engine.kept);
    }
  });

  it('layer α: null with the reason for an all-zero matrix; layers that are not matrices are skipped; progress and abort', async () => {
    const bytes = writeSafetensors([
      { name: 'a.weight', shape: [40, 30], dtype: 'F32', data: Float32Array.from({ length: 1200 }, (_, i) => Math.sin(i * 1.7) * (1 + (i % 7))) },
      { name: 'z.weight', shape: [20, 20], dtype: 'F32', data: new Float32Array(400) },
      { name: 'b.weight', shape: [30, 40], dtype: 'F32', data: Float32Array.from({ length: 1200 }, (_, i) => Math.cos(i * 0.37) / (1 + (i % 11))) },
      { name: 'odd.weight', shape: [2, 2, 2, 2, 2], dtype: 'F32', data: new Float32Array(32).fill(1) },
    ]);
    const source = await openModel(singleFileModel(memorySource(bytes, 'synthetic.safetensors')));
    const { layers } = selectPruneLayers(source);
    const seen: string[] = [];
    const a = await layerAlphas(source, layers.filter((l) => l.kind !== 'other'), 'alpha', { onProgress: (p) => seen.push(`${p.done}/${p.layers}`) });
    expect(seen).toEqual(['0/3', '1/3', '2/3', '3/3']);
    expect(a.map((x) => x.tensor)).toEqual(['a.weight', 'z.weight', 'b.weight']);
    expect(a[1]).toMatchObject({ alpha: null });
    expect(a[1]!.reason).toMatch(/all 400 weights are zero/);
    expect(a[0]!.alpha).toBeGreaterThan(0);
    const ac = new AbortController();
    ac.abort();
    await expect(layerAlphas(source, layers, 'farms', { signal: ac.signal })).rejects.toThrow(CancelledError);

    const r = await pruneModel(source, layers, s({ allocation: 'alpha', sparsity: 0.5 }));
    expect(r.skipped.map((x) => x.tensor)).toEqual(['odd.weight']);
    expect(r.layers.map((l) => l.tensor)).toEqual(['a.weight', 'z.weight', 'b.weight']);
    const z = r.layers[1]!;
    // No α: the layer keeps the model target (alphaPruningRatios' rule) and says why.
    expect([z.alpha, z.target]).toEqual([null, 0.5]);
    expect(z.alphaNote).toMatch(/zero/);
    expect(r.layers.map((l) => l.target)).toEqual(alphaPruningRatios(r.layers.map((l) => ({ params: l.weights, alpha: l.alpha })), 0.5, 0.3));
  });
});
