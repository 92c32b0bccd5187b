import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alphaPruningRatios } from '../../lib/analysis/prune/allocation';
import { layerAlpha } from '../../lib/analysis/prune/layer-alphas';
import { countKept, jaccard } from '../../lib/analysis/prune/mask';
import { pruneLayers } from '../../lib/analysis/prune/prune-layers';
import { DEFAULT_PRUNE_SETTINGS, type PruneSettings } from '../../lib/analysis/prune/prune-types';
import { quantMatrix } from '../../lib/analysis/quant/quant-matrix';
import { openModel } from '../../lib/formats/registry';
import type { TensorSource } from '../../lib/formats/types';
import { memorySource, singleFileModel } from '../../lib/io/byte-source';
import { buildLayers } from '../../lib/model/build-layers';
import type { Layer } from '../../lib/model/layer';
import { BASE_URL, launch } from './browser';

/**
 * The Prune view on the MNIST demo MLP, used as a new user would: masks recomputed as the slider
 * moves (checked against the engine run here on the same file), N:M validity, the α-driven
 * allocation against AlphaPruning on the spectra engine's α, a two-mask comparison, Wanda once the
 * activations are collected, the accuracy curve run by onnxruntime-web, zoom, permalink, export.
 */

const root = path.resolve(import.meta.dirname, '..', '..');
const FILE = path.join(root, 'public', 'models', 'mnist', 'mlp-seed1.safetensors');
let src: TensorSource;
let layers: Layer[];
let browser: Browser;
let page: Page;

async function engine(s: PruneSettings) {
  const inputs = [];
  for (const l of layers) inputs.push({ name: l.name, matrix: quantMatrix(l, await src.read(l.tensor.name)) });
  return pruneLayers(inputs, s);
}

async function shownKey(p: Page, fragment: string): Promise<void> {
  await p.locator(`[data-testid="prune-status"][data-status="done"][data-key*="${fragment}"]`).waitFor({ timeout: 90_000 });
}

beforeAll(async () => {
  src = await openModel(singleFileModel(memorySource(new Uint8Array(readFileSync(FILE)), 'mlp.safetensors')));
  layers = buildLayers(src.tensors, src.format).filter((l) => l.kind !== 'other' && l.M > 0);
  browser = await launch();
  page = await browser.newPage({ viewport: { width: 1400, height: 1200 } });
  await page.goto(`${BASE_URL}/prune?testhooks=1&model=mnist-mlp-seed1&layer=fc2`);
});
afterAll(async () => {
  await browser?.close();
});

describe('Prune view', () => {
  it('prunes every layer to exactly the target and shows the engine’s masks', async () => {
    await shownKey(page, 'magnitude|0.5|uniform');
    const want = await engine(DEFAULT_PRUNE_SETTINGS);
    expect(Number(await page.getByTestId('prune-summary').getAttribute('data-kept'))).toBe(want.kept);
    expect(Number(await page.getByTestId('prune-layer-summary').getAttribute('data-achieved'))).toBe(0.5);
    expect(await page.getByTestId('prune-mask').getAttribute('data-exact')).toBe('1');
  });

  it('recomputes when the sparsity slider moves', async () => {
    await page.getByTestId('prune-sparsity').fill('0.7');
    await shownKey(page, 'magnitude|0.7|uniform');
    const want = await engine({ ...DEFAULT_PRUNE_SETTINGS, sparsity: 0.7 });
    expect(Number(await page.getByTestId('prune-summary').getAttribute('data-kept'))).toBe(want.kept);
    expect(Number(await page.getByTestId('prune-layer-summary').getAttribute('data-achieved'))).toBeCloseTo(Math.round(0.7 * 16384) / 16384, 12);
    expect(new URL(page.url()).searchParams.get('sparsity')).toBe('0.7');
  });

  it('N:M masks are valid 2:4 in every layer', async () => {
    await page.getByTestId('prune-method').selectOption('nm');
    await shownKey(page, 'nm|');
    await expect.poll(async () => page.getByTestId('prune-layer-summary').innerText()).toContain('valid 2:4');
    expect(Number(await page.getByTestId('prune-layer-summary').getAttribute('data-achieved'))).toBe(0.5);
  });

  it('the α allocation gives each layer the AlphaPruning ratio of its α', async () => {
    await page.getByTestId('prune-method').selectOption('magnitude');
    await page.getByTestId('prune-allocation').selectOption('alpha');
    await shownKey(page, 'magnitude|0.7|alpha|0.3');
    const alphas = [];
    for (const l of layers) alphas.push({ params: l.tensor.shape.reduce((a, b) => a * b, 1), alpha: l.analyzable ? layerAlpha(l, await src.read(l.tensor.name), 'alpha').alpha : null });
    const ratios = alphaPruningRatios(alphas, 0.7, 0.3);
    const bars = page.getByTestId('prune-layer-bar');
    expect(await bars.count()).toBe(layers.length);
    for (let i = 0; i < layers.length; i++) {
      expect(Number(await bars.nth(i).getAttribute('data-target'))).toBeCloseTo(ratios[i]!, 10);
      if (alphas[i]!.alpha !== null) expect(Number(await bars.nth(i).getAttribute('data-alpha'))).toBeCloseTo(alphas[i]!.alpha!, 8);
    }
  });

  it('compares two masks of the layer: Jaccard as computed by the engine', async () => {
    await page.getByTestId('prune-allocation').selectOption('uniform');
    await page.getByTestId('prune-compare-pick').selectOption('lift/uniform');
    await shownKey(page, '#lift/uniform#');
    const a = await engine({ ...DEFAULT_PRUNE_SETTINGS, sparsity: 0.7 });
    const b = await engine({ ...DEFAULT_PRUNE_SETTINGS, sparsity: 0.7, method: 'lift' });
    const i = layers.findIndex((l) => l.name === 'fc2');
    const card = page.getByTestId('prune-compare');
    expect(Number(await card.getAttribute('data-jaccard'))).toBeCloseTo(jaccard(a.layers[i]!.mask, b.layers[i]!.mask), 12);
    // Kept only by magnitude: its kept count minus the weights both keep.
    let both = 0;
    const ma = a.layers[i]!.mask;
    const mb = b.layers[i]!.mask;
    for (let w = 0; w < ma.bits.length; w++) {
      let x = ma.bits[w]! & mb.bits[w]!;
      while (x) {
        both += x & 1;
        x >>>= 1;
      }
    }
    expect(Number(await card.getAttribute('data-only-a'))).toBe(countKept(ma) - both);
  });

  it('zooms the mask to exact weights and keeps zoom and settings in a permalink', async () => {
    await page.getByTestId('prune-mask-overview').click({ position: { x: 30, y: 30 } });
    expect(await page.getByTestId('prune-mask').getAttribute('data-zoomed')).toBe('1');
    const again = await browser.newPage({ viewport: { width: 1400, height: 1200 } });
    await again.goto(page.url());
    await shownKey(again, '#lift/uniform#');
    expect(await again.getByTestId('prune-summary').getAttribute('data-kept')).toBe(await page.getByTestId('prune-summary').getAttribute('data-kept'));
    expect(await again.getByTestId('prune-mask').getAttribute('data-zoomed')).toBe('1');
    await again.close();
  });

  it('downloads the pruned model and its masks: original × mask of the shown setting', async () => {
    const downloads: import('playwright-core').Download[] = [];
    page.on('download', (d) => downloads.push(d));
    await page.getByTestId('prune-export-run').click();
    await page.locator('[data-testid="prune-export"][data-status="done"]').waitFor({ timeout: 120_000 });
    await expect.poll(() => downloads.length, { timeout: 30_000 }).toBe(2);
    const files = new Map(await Promise.all(downloads.map(async (d) => [d.suggestedFilename(), readFileSync((await d.path())!)] as const)));
    const open = (suffix: string) => {
      const name = [...files.keys()].find((n) => n.endsWith(suffix))!;
      return openModel(singleFileModel(memorySource(new Uint8Array(files.get(name)!), name)));
    };
    const pruned = await open('-pruned.safetensors');
    const masks = await open('-masks.safetensors');
    const want = await engine({ ...DEFAULT_PRUNE_SETTINGS, sparsity: 0.7 });
    for (const [i, l] of layers.entries()) {
      const w = await src.read(l.tensor.name);
      const keep = await masks.read(`${l.tensor.name}.mask`);
      const got = await pruned.read(l.tensor.name);
      // MNIST Linear weights are [out, in]: the stored layout is the mask's own row-major order.
      for (let j = 0; j < w.length; j++) {
        const k = (want.layers[i]!.mask.bits[j >>> 5]! >>> (j & 31)) & 1;
        if (keep[j] !== k || got[j] !== (k ? w[j] : 0)) throw new Error(`${l.tensor.name}[${j}]: mask ${keep[j]} vs ${k}, weight ${got[j]} vs ${w[j]}`);
      }
    }
    expect(await pruned.read('fc1.bias')).toEqual(await src.read('fc1.bias'));
    page.removeAllListeners('download');
  });

  it('exports the mask image as SVG', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('prune-mask').getByTestId('export-svg').click()]);
    expect(download.suggestedFilename()).toMatch(/fc2-mask\.svg$/);
    expect(readFileSync(await download.path(), 'utf8')).toContain('data:image/png;base64');
  });

  it('Wanda runs once the activation norms are collected, pruning half of every row', async () => {
    await page.getByTestId('prune-compare-pick').selectOption('');
    await page.getByTestId('prune-sparsity').fill('0.5');
    await expect.poll(async () => page.locator('[data-testid="prune-method"] option[value="wanda"]').isDisabled(), { timeout: 60_000 }).toBe(false);
    await page.getByTestId('prune-method').selectOption('wanda');
    await shownKey(page, 'wanda|0.5');
    // Wanda compares weights within each output row: every row of fc2 loses exactly half.
    expect(Number(await page.getByTestId('prune-profile-row').getAttribute('data-mean'))).toBeCloseTo(0.5, 12);
    expect(Number(await page.getByTestId('prune-layer-summary').getAttribute('data-achieved'))).toBe(0.5);
  });

  it('plots accuracy and loss against sparsity with onnxruntime-web, starting at the model’s own accuracy', async () => {
    await page.getByTestId('prune-eval-run').click();
    await page.locator('[data-testid="prune-eval"][data-status="done"]').waitFor({ timeout: 240_000 });
    const points = page.getByTestId('prune-curve-accuracy').getByTestId('curve-point');
    const all = await points.evaluateAll((els) => els.map((e) => ({ series: e.getAttribute('data-series')!, sparsity: Number(e.getAttribute('data-sparsity')), value: Number(e.getAttribute('data-value')) })));
    const mag = all.filter((p) => p.series === 'Magnitude').sort((a, b) => a.sparsity - b.sparsity);
    expect(mag.length).toBe(10);
    // Dense: the accuracy recorded when the demo model was trained (2,000 held-out images).
    expect(mag[0]!.sparsity).toBe(0);
    expect(mag[0]!.value).toBeCloseTo(Number(src.metadata.eval_accuracy), 3);
    expect(mag.at(-1)!.value).toBeLessThan(mag[0]!.value);
    expect(new Set(all.map((p) => p.series))).toEqual(new Set(['Magnitude', 'LIFT (principal weights)', 'DIMAP', 'Wanda (activations)', 'N:M 2:4']));
  });
});
