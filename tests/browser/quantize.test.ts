import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePacked, toStoredPrecision } from '../../lib/analysis/quant/export-quantized';
import { quantMatrix, storedFromQuantMatrix } from '../../lib/analysis/quant/quant-matrix';
import { DEFAULT_QUANT_SETTINGS, quantizeLayer, type QuantSettings } from '../../lib/analysis/quant/quantize-layer';
import { openModel } from '../../lib/formats/registry';
import type { TensorSource } from '../../lib/formats/types';
import { memorySource, singleFileModel } from '../../lib/io/byte-source';
import { buildLayers } from '../../lib/model/build-layers';
import { quantSettingsKey } from '../../lib/state/quant-settings';
import { BASE_URL, launch } from './browser';

/**
 * The Quantize view used as a new user tuning a setting would, on the MNIST demo MLP: the preview
 * matches the engine run here in Node on the same file, a changed setting recomputes (stale results
 * dropped), cancel stops a long run, the URL is a permalink, maps zoom, the sweep covers every
 * layer, charts export, and WebGPU (SwiftShader here) gives the CPU's answer.
 */

const root = path.resolve(import.meta.dirname, '..', '..');
const FILE = path.join(root, 'public', 'models', 'mnist', 'mlp-seed1.safetensors');
let src: TensorSource;
let browser: Browser;
let page: Page;

async function expected(tensor: string, s: QuantSettings): Promise<{ sqnrDb: number; bpw: number }> {
  const layer = buildLayers(src.tensors, src.format).find((l) => l.tensor.name === tensor)!;
  const m = quantMatrix(layer, await src.read(tensor));
  const r = toStoredPrecision(m.data, await quantizeLayer(m, s), s, layer.name);
  return { sqnrDb: r.error.sqnrDb, bpw: r.bits.total };
}

/** Waits until the preview for these settings is done and returns its numbers. */
async function shown(p: Page, s: QuantSettings): Promise<{ sqnrDb: number; bpw: number; backend: string }> {
  await p.locator(`[data-testid="quant-status"][data-status="done"][data-key*="|${quantSettingsKey(s)}|"]`).waitFor({ timeout: 90_000 });
  const card = p.getByTestId('quant-summary');
  return { sqnrDb: Number(await card.getAttribute('data-sqnr')), bpw: Number(await card.getAttribute('data-bpw')), backend: (await card.getAttribute('data-backend')) ?? '' };
}

beforeAll(async () => {
  src = await openModel(singleFileModel(memorySource(new Uint8Array(readFileSync(FILE)), 'mlp.safetensors')));
  browser = await launch();
  page = await browser.newPage({ viewport: { width: 1400, height: 1200 } });
  await page.goto(`${BASE_URL}/quantize?testhooks=1&model=mnist-mlp-seed1&layer=fc2&d=2&k=16`);
});
afterAll(async () => {
  await browser?.close();
});

describe('Quantize view', () => {
  const s0: QuantSettings = { ...DEFAULT_QUANT_SETTINGS, d: 2, k: 16 };

  it('shows the numbers the engine gives for the same layer and settings', async () => {
    const got = await shown(page, s0);
    const want = await expected('fc2.weight', s0);
    expect(got.sqnrDb).toBeCloseTo(want.sqnrDb, 6);
    expect(got.bpw).toBeCloseTo(want.bpw, 12);
    // 128 × 128 with d = 2: exact maps of 128 rows × 64 sub-vectors, Voronoi cells for the 16 codewords.
    expect(await page.getByTestId('quant-map-assign').getAttribute('data-exact')).toBe('1');
    expect(await page.getByTestId('quant-projection').getAttribute('data-mode')).toBe('raw');
    expect(Number(await page.getByTestId('quant-projection').getAttribute('data-cells'))).toBe(16);
    expect(Number(await page.getByTestId('quant-usage').getAttribute('data-dead'))).toBe(0);
    const table = await page.getByTestId('quant-settings-table').innerText();
    expect(table).toContain('codewords k\t16');
  });

  it('recomputes when a setting changes, keeping only the latest answer', async () => {
    // Three quick changes: only the last one's result may end up on screen.
    const k = page.getByTestId('quant-k');
    await k.fill('5'); // 2^5 = 32
    await k.fill('6');
    await k.fill('3'); // k = 8
    const s1 = { ...s0, k: 8 };
    const got = await shown(page, s1);
    expect(got.sqnrDb).toBeCloseTo((await expected('fc2.weight', s1)).sqnrDb, 6);
    await page.waitForTimeout(1500);
    expect(await page.getByTestId('quant-status').getAttribute('data-key')).toContain(`|${quantSettingsKey(s1)}|`);
    expect(new URL(page.url()).searchParams.get('k')).toBe('8');
    // Switching to scalar RTN: 3 bits, group 128, asymmetric.
    await page.getByTestId('quant-method').selectOption('rtn');
    await page.getByTestId('quant-bits').fill('3');
    const s2 = { ...s1, method: 'rtn' as const, bits: 3 };
    const rtn = await shown(page, s2);
    expect(rtn.sqnrDb).toBeCloseTo((await expected('fc2.weight', s2)).sqnrDb, 6);
    expect(rtn.bpw).toBeCloseTo(3 + 32 / 128, 12);
    await page.getByTestId('quant-method').selectOption('vq');
    await shown(page, s1);
  });

  it('the rate–distortion plot fills with RTN and VQ points and rings the current setting', async () => {
    await page.locator('[data-testid="quant-rd"][data-status="done"]').waitFor({ timeout: 120_000 });
    expect(Number(await page.getByTestId('quant-rd').getAttribute('data-points'))).toBeGreaterThanOrEqual(12);
    expect(await page.getByTestId('quant-rd-current').count()).toBe(1);
  });

  it('zooms the maps to exact cells around a clicked spot, all three aligned, and keeps it in the URL', async () => {
    const ov = page.getByTestId('quant-map-assign').getByTestId('quant-map-overview');
    await ov.click({ position: { x: 20, y: 20 } });
    for (const kind of ['assign', 'error', 'ambiguity']) expect(await page.getByTestId(`quant-map-${kind}`).getAttribute('data-zoomed')).toBe('1');
    expect(new URL(page.url()).searchParams.get('zoom')).toMatch(/^\d+,\d+$/);
    await page.getByTestId('quant-map-error').getByTestId('quant-map-zoom').hover({ position: { x: 10, y: 10 } });
    expect(await page.getByTestId('quant-map-error').getByTestId('quant-map-hover').innerText()).toMatch(/row \d+ · sub-vector \d+ · codeword \d+ · err²/);
  });

  it('is a permalink: a fresh tab shows the same layer, settings and numbers', async () => {
    const again = await browser.newPage({ viewport: { width: 1400, height: 1200 } });
    await again.goto(page.url());
    const got = await shown(again, { ...s0, k: 8 });
    expect(got.sqnrDb).toBeCloseTo(Number(await page.getByTestId('quant-summary').getAttribute('data-sqnr')), 9);
    expect(await again.getByTestId('quant-map-assign').getAttribute('data-zoomed')).toBe('1');
    await again.close();
  });

  it('sweeps the whole model and pools the error over all weights', async () => {
    await page.getByTestId('quant-sweep-run').click();
    await page.locator('[data-testid="quant-sweep"][data-status="done"]').waitFor({ timeout: 120_000 });
    expect(Number(await page.getByTestId('quant-sweep').getAttribute('data-done'))).toBe(3);
    // Every layer quantized: a failed one would be left out of the pooled figure.
    expect(await page.getByTestId('quant-sweep').getAttribute('data-errors')).toBe('');
    // Pooled: Σ err² over Σ w² of fc1, fc2, fc3, recomputed here.
    let err = 0;
    let sig = 0;
    for (const t of ['fc1.weight', 'fc2.weight', 'fc3.weight']) {
      const layer = buildLayers(src.tensors, src.format).find((l) => l.tensor.name === t)!;
      const m = quantMatrix(layer, await src.read(t));
      const s = { ...s0, k: 8 };
      const r = toStoredPrecision(m.data, await quantizeLayer(m, s), s, t);
      for (let i = 0; i < m.data.length; i++) {
        err += (m.data[i]! - r.dequantized[i]!) ** 2;
        sig += m.data[i]! ** 2;
      }
    }
    expect(Number(await page.getByTestId('quant-sweep').getAttribute('data-pooled-sqnr'))).toBeCloseTo(-10 * Math.log10(err / sig), 5);
  });

  it('downloads the packed and dequantized files the command line writes, and they decode to the shown weights', async () => {
    const downloads: import('playwright-core').Download[] = [];
    page.on('download', (d) => downloads.push(d));
    await page.getByTestId('quant-export-run').click();
    await page.locator('[data-testid="quant-export"][data-status="done"]').waitFor({ timeout: 120_000 });
    await expect.poll(() => downloads.length, { timeout: 30_000 }).toBe(2);
    const byName = new Map(await Promise.all(downloads.map(async (d) => [d.suggestedFilename(), readFileSync((await d.path())!)] as const)));
    const packedName = [...byName.keys()].find((n) => n.endsWith('-packed.safetensors'))!;
    const deqName = [...byName.keys()].find((n) => n.endsWith('-dequantized.safetensors'))!;
    const decoded = await decodePacked(singleFileModel(memorySource(new Uint8Array(byName.get(packedName)!), packedName)));
    const deq = await openModel(singleFileModel(memorySource(new Uint8Array(byName.get(deqName)!), deqName)));
    const s = { ...s0, k: 8 };
    for (const t of ['fc1.weight', 'fc2.weight', 'fc3.weight']) {
      const layer = buildLayers(src.tensors, src.format).find((l) => l.tensor.name === t)!;
      const m = quantMatrix(layer, await src.read(t));
      const want = storedFromQuantMatrix(layer, toStoredPrecision(m.data, await quantizeLayer(m, s), s, t).dequantized);
      expect(decoded.get(t), t).toEqual(want);
      expect(await deq.read(t), t).toEqual(want);
    }
    // Biases are not quantized: copied byte for byte.
    expect(await deq.read('fc1.bias')).toEqual(await src.read('fc1.bias'));
  });

  it('exports the charts as SVG with the image inside', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('quant-map-assign').getByTestId('export-svg').first().click()]);
    expect(download.suggestedFilename()).toMatch(/fc2-assign\.svg$/);
    const text = readFileSync(await download.path(), 'utf8');
    expect(text).toContain('<svg');
    expect(text).toContain('data:image/png;base64');
  });

  it('cancels a long run and runs it again on request', async () => {
    // fc1 (128 × 784) with k = 4096 on d = 1… is long enough on two cores to catch in flight.
    await page.getByTestId('quant-layer').selectOption('fc1');
    await page.getByTestId('quant-d').selectOption('1');
    await page.getByTestId('quant-k').fill('12');
    await page.getByTestId('quant-iters').fill('200');
    await page.locator('[data-testid="quant-status"][data-status="running"]').waitFor({ timeout: 30_000 });
    await page.getByTestId('quant-cancel').click();
    await page.locator('[data-testid="quant-status"][data-status="cancelled"]').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('quant-rerun').count()).toBe(1);
  });
});

describe('Quantize view on WebGPU', () => {
  it('?gpu=1 runs k-means on the WebGPU nearest-codeword kernel and agrees with the CPU', async () => {
    const p = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await p.goto(`${BASE_URL}/quantize?testhooks=1&gpu=1&model=mnist-mlp-seed1&layer=fc2&d=4&k=64`);
    const s = { ...DEFAULT_QUANT_SETTINGS, d: 4, k: 64 };
    const got = await shown(p, s);
    const want = await expected('fc2.weight', s);
    const hasAdapter = await p.evaluate(async () => Boolean(await (navigator as unknown as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu?.requestAdapter()));
    // Debian's Chromium here exposes SwiftShader; where a browser has no adapter the CPU runs instead.
    expect(got.backend).toBe(hasAdapter ? 'webgpu' : 'cpu');
    // f32 distances on the GPU may break near-ties differently from the CPU: the error agrees closely.
    expect(Math.abs(got.sqnrDb - want.sqnrDb)).toBeLessThan(0.05);
    await p.close();
  });
});
