import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alphaPruningRatios } from '../../../lib/analysis/prune/allocation';
import { readMaskSafetensors } from '../../../lib/analysis/prune/export-pruned';
import { analyzeLayer } from '../../../lib/analysis/spectra/analyze-layer';
import { openModel } from '../../../lib/formats/registry';
import type { TensorSource } from '../../../lib/formats/types';
import { memorySource, singleFileModel, type ModelInput } from '../../../lib/io/byte-source';
import { buildLayers } from '../../../lib/model/build-layers';
import { NO_LAYER_LIMITS } from '../../../lib/model/layer';
import { ROOT, runCli as cli, TIMEOUT_MS } from './run-cli';

/**
 * `weightlens prune` as a user runs it (the real CLI in a child process) on the MNIST MLP
 * (fc1 128×784, fc2 128×128, fc3 10×128; PyTorch [out, in], so the stored layout is the mask's
 * row-major order). The printed figures are checked against the files the command wrote and
 * against α recomputed here with the spectra engine.
 */

const MLP = join(ROOT, 'public/models/mnist/mlp-seed1.safetensors');

interface Row {
  name: string;
  tensor: string;
  shape: number[];
  rows: number;
  cols: number;
  weights: number;
  kept: number;
  target: number;
  achieved: number;
  alpha: number | null;
  excluded: boolean;
  nm_valid?: boolean;
  nm_violating_groups?: number;
}
interface PruneJson {
  file: string;
  format: string;
  method: string;
  allocation: string;
  settings: Record<string, unknown>;
  layers: Row[];
  skipped: { name: string; reason: string }[];
  total: { layers: number; pruned: number; excluded: number; weights: number; kept: number; target: number; achieved: number; model_params: number; model_sparsity: number };
  outputs: { pruned?: { file: string; bytes: number }; masks?: { file: string; bytes: number; packed: boolean } };
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wl-prune-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fileModel(path: string): ModelInput {
  return singleFileModel(memorySource(new Uint8Array(readFileSync(path)), path.split('/').pop()!));
}
async function openFile(path: string): Promise<TensorSource> {
  return openModel(fileModel(path));
}
const n = (r: Row) => r.rows * r.cols;

describe('weightlens prune', () => {
  it(
    'magnitude --json: exact sparsity per layer and pooled; --out and --masks reload and match the original × mask',
    async () => {
      const out = join(dir, 'mag.safetensors');
      const masks = join(dir, 'mag.masks.safetensors');
      const r = await cli(['prune', MLP, '--method', 'magnitude', '--sparsity', '0.7', '--exclude', '^fc3$', '--out', out, '--masks', masks, '--json']);
      expect(r.code, r.stderr).toBe(0);
      const j = JSON.parse(r.stdout) as PruneJson;
      expect([j.method, j.allocation, j.format]).toEqual(['magnitude', 'uniform', 'safetensors']);
      expect(j.layers.map((l) => [l.tensor, l.rows, l.cols, l.excluded])).toEqual([['fc1.weight', 128, 784, false], ['fc2.weight', 128, 128, false], ['fc3.weight', 10, 128, true]]);
      for (const l of j.layers) {
        const removed = l.excluded ? 0 : Math.round(0.7 * n(l));
        expect(l.weights - l.kept, l.name).toBe(removed);
        expect(l.achieved).toBe(removed / n(l));
        expect(l.target).toBe(l.excluded ? 0 : 0.7);
      }
      const weights = j.layers.reduce((a, l) => a + n(l), 0);
      expect(j.total).toMatchObject({ layers: 3, pruned: 2, excluded: 1, weights, model_params: weights + 266 });
      expect(j.total.achieved).toBe((weights - j.total.kept) / weights);
      expect(j.outputs.pruned!.bytes).toBe(readFileSync(out).byteLength);

      const src = await openFile(MLP);
      const pruned = await openFile(out);
      const m = await readMaskSafetensors(fileModel(masks));
      expect([...m.masks.keys()].sort()).toEqual(['fc1.weight', 'fc2.weight']);
      expect(pruned.tensors.map((t) => [t.name, t.dtype, t.shape])).toEqual(src.tensors.map((t) => [t.name, t.dtype, t.shape]));
      for (const l of j.layers.filter((x) => !x.excluded)) {
        const keep = m.masks.get(l.tensor)!;
        expect(keep.reduce((a, b) => a + b, 0)).toBe(l.kept);
        const w = await src.read(l.tensor);
        const p = await pruned.read(l.tensor);
        expect(Array.from(p)).toEqual(Array.from(w, (v, i) => (keep[i] ? v : 0)));
        // Magnitude: nothing removed is larger than anything kept.
        let maxRemoved = 0;
        let minKept = Infinity;
        w.forEach((v, i) => (keep[i] ? (minKept = Math.min(minKept, Math.abs(v))) : (maxRemoved = Math.max(maxRemoved, Math.abs(v)))));
        expect(maxRemoved).toBeLessThanOrEqual(minKept);
        expect(m.meta[l.tensor]!.kept).toBe(l.kept);
      }
      // Unpruned tensors (fc3 excluded, every bias) are the same numbers.
      for (const name of ['fc3.weight', 'fc1.bias', 'fc2.bias', 'fc3.bias']) {
        expect(Array.from(await pruned.read(name))).toEqual(Array.from(await src.read(name)));
      }
      expect(pruned.metadata['weightlens:method']).toBe('magnitude');
      expect(JSON.parse(pruned.metadata['weightlens:settings'] as string)).toMatchObject({ sparsity: 0.7, exclude: '^fc3$' });
    },
    TIMEOUT_MS,
  );

  it(
    '--allocation alpha: per-layer targets equal alphaPruningRatios on the α the spectra engine gives',
    async () => {
      const r = await cli(['prune', MLP, '--method', 'magnitude', '--sparsity', '0.5', '--allocation', 'alpha', '--epsilon', '0.25', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const j = JSON.parse(r.stdout) as PruneJson;
      const src = await openFile(MLP);
      const layers = buildLayers(src.tensors, src.format, NO_LAYER_LIMITS);
      const alphas: number[] = [];
      for (const l of layers) {
        const s = analyzeLayer(l, await src.read(l.tensor.name), { mpFit: false, farms: false });
        if (!s.ok) throw new Error(s.error.message);
        alphas.push(s.alpha);
      }
      const want = alphaPruningRatios(layers.map((l, i) => ({ params: l.N * l.M * l.rf, alpha: alphas[i]! })), 0.5, 0.25);
      expect(j.allocation).toBe('alpha');
      expect(j.layers.map((l) => l.alpha)).toEqual(alphas);
      expect(j.layers.map((l) => l.target)).toEqual(want);
      // Larger α, pruned more (AlphaPruning's direction); pooled target met up to per-layer rounding.
      const order = (xs: number[]) => xs.map((_, i) => i).sort((a, b) => xs[a]! - xs[b]!);
      expect(order(want)).toEqual(order(alphas));
      for (const l of j.layers) expect(l.weights - l.kept).toBe(Math.round(l.target * n(l)));
      expect(Math.abs(j.total.target - 0.5)).toBeLessThan(1e-12);
    },
    TIMEOUT_MS,
  );

  it(
    'nm 2:4 with bit-packed masks; text output shows the table and totals',
    async () => {
      const masks = join(dir, 'nm.masks.safetensors');
      const r = await cli(['prune', MLP, '--method', 'nm', '--nm', '2:4', '--masks', masks, '--packed-masks', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const j = JSON.parse(r.stdout) as PruneJson;
      expect(j.allocation).toBe('pattern');
      for (const l of j.layers) expect([l.nm_valid, l.nm_violating_groups, l.achieved]).toEqual([true, 0, 0.5]);
      const m = await readMaskSafetensors(fileModel(masks));
      expect(j.outputs.masks).toMatchObject({ packed: true });
      for (const l of j.layers) {
        const keep = m.masks.get(l.tensor)!;
        expect(keep.length).toBe(n(l));
        for (let g = 0; g < keep.length; g += 4) expect(keep[g]! + keep[g + 1]! + keep[g + 2]! + keep[g + 3]!).toBe(2);
      }
      const text = await cli(['prune', MLP, '--method', 'nm']);
      expect(text.code, text.stderr).toBe(0);
      expect(text.stdout).toMatch(/N:M 2:4; 3 of 3 layers pruned/);
      expect(text.stdout).toMatch(/fc1 +128 +784 +0\.5 +0\.5 +yes/);
      expect(text.stdout).toMatch(/total: 59008 of 118016 weights removed/);
    },
    TIMEOUT_MS,
  );

  it(
    'usage errors exit 2 naming the flag; wanda is refused with the reason',
    async () => {
      const cases: [string[], RegExp][] = [
        [['prune', MLP], /--method/],
        [['prune', MLP, '--method', 'random'], /--method must be one of magnitude, nm, lift, dimap; got "random"/],
        [['prune', MLP, '--method', 'wanda'], /--method wanda .*activation norms/],
        [['prune', MLP, '--method', 'magnitude', '--sparsity', '1.5'], /--sparsity must be a number in \[0, 1\]; got "1.5"/],
        [['prune', MLP, '--method', 'magnitude', '--allocation', 'best'], /--allocation must be uniform, alpha or farms; got "best"/],
        [['prune', MLP, '--method', 'magnitude', '--epsilon', '0.2'], /--epsilon applies only with --allocation alpha or farms/],
        [['prune', MLP, '--method', 'nm', '--nm', '4:2'], /--nm must be N:M/],
        [['prune', MLP, '--method', 'nm', '--sparsity', '0.3'], /--sparsity does not apply to --method nm/],
        [['prune', MLP, '--method', 'magnitude', '--rank', '4'], /--rank does not apply to --method magnitude/],
        [['prune', MLP, '--method', 'magnitude', '--scope', 'global', '--allocation', 'alpha'], /--allocation alpha does not apply to --scope global/],
        [['prune', MLP, '--method', 'dimap', '--module-type', 'attn'], /--module-type must be NAME=REGEX/],
        [['prune', MLP, '--method', 'magnitude', '--exclude', '('], /--exclude: invalid regular expression/],
        [['prune', MLP, '--method', 'magnitude', '--packed-masks'], /--packed-masks needs --masks/],
        [['prune', MLP, '--method', 'magnitude', '--bogus'], /unknown option "--bogus" for prune/],
      ];
      for (const [args, msg] of cases) {
        const r = await cli(args);
        expect(r.code, args.join(' ')).toBe(2);
        expect(r.stderr, args.join(' ')).toMatch(msg);
        expect(r.stdout).toBe('');
      }
    },
    TIMEOUT_MS,
  );

  it(
    'a corrupt or missing model exits 1 naming the file; --out over the source is refused',
    async () => {
      const bad = join(dir, 'broken.safetensors');
      const bytes = new Uint8Array(readFileSync(MLP));
      writeFileSync(bad, bytes.subarray(0, 4000)); // header intact, tensor data cut off
      const r = await cli(['prune', bad, '--method', 'magnitude']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/broken\.safetensors/);
      expect(r.stdout).toBe('');
      const missing = await cli(['prune', join(dir, 'nope.safetensors'), '--method', 'magnitude']);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/nope\.safetensors/);
      const over = await cli(['prune', MLP, '--method', 'magnitude', '--out', MLP]);
      expect(over.code).toBe(1);
      expect(over.stderr).toMatch(/would overwrite the model being pruned/);
      const none = await cli(['prune', MLP, '--method', 'magnitude', '--layers', '^nothing$']);
      expect(none.code).toBe(1);
      expect(none.stderr).toMatch(/no weight matrix matches --layers/);
    },
    TIMEOUT_MS,
  );
});
