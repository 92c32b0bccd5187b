import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import * as path from 'node:path';
import { analyzeLayer } from '../../lib/analysis/spectra/analyze-layer';
import { openModel, pickPrimary } from '../../lib/formats/registry';
import { openNodeModel } from '../../lib/io/node/node-file-source';
import { spectraOptions } from '../../lib/jobs/spectra-job';
import { buildLayers } from '../../lib/model/build-layers';
import { DEFAULT_SPECTRA_SETTINGS } from '../../lib/state/spectra-settings';
import { BASE_URL, launch } from './browser';

/**
 * Two MNIST MLPs trained from different seeds compared in the Spectra view (?compare=…): both runs
 * complete, the delta table's Δα equals α_B − α_A from the engine run in Node on each file, a bar
 * click selects the layer (URL and detail follow), the overlay shows both ESDs, and the URL reopens
 * the comparison.
 */

const root = path.resolve(import.meta.dirname, '..', '..');

/** α per layer name, computed in Node the way the worker does with the default settings. */
async function nodeAlphas(file: string): Promise<Map<string, number>> {
  const input = await openNodeModel(path.join(root, 'public', 'models', 'mnist', file), (n) => pickPrimary(n));
  try {
    const src = await openModel(input);
    const out = new Map<string, number>();
    for (const l of buildLayers(src.tensors, src.format).filter((x) => x.analyzable)) {
      const r = analyzeLayer(l, await src.read(l.tensor.name), spectraOptions(DEFAULT_SPECTRA_SETTINGS));
      if (!r.ok || r.status !== 'ok') throw new Error(`${file}: ${l.name} has no α`);
      out.set(l.name, r.alpha);
    }
    return out;
  } finally {
    await input.close();
  }
}

let browser: Browser;
let page: Page;
let alphaA: Map<string, number>;
let alphaB: Map<string, number>;

beforeAll(async () => {
  browser = await launch();
  [alphaA, alphaB] = await Promise.all([nodeAlphas('mlp-seed1.safetensors'), nodeAlphas('mlp-seed2.safetensors')]);
});
afterAll(async () => {
  await browser?.close();
});

const bothDone = '[data-testid="compare-view"][data-status-a="done"][data-status-b="done"]';

async function rowsOf(p: Page) {
  return p.getByTestId('compare-row').evaluateAll((rows) =>
    rows.map((r) => ({ name: r.getAttribute('data-name') ?? '', a: Number(r.getAttribute('data-alpha-a')), b: Number(r.getAttribute('data-alpha-b')), d: Number(r.getAttribute('data-dalpha')) })),
  );
}

describe('Spectra comparison of mnist-mlp-seed1 and mnist-mlp-seed2', () => {
  it('runs both models and tabulates Δα = α_B − α_A for the 3 layers, as the engine computes in Node', async () => {
    expect(alphaA.size).toBe(3);
    page = await browser.newPage({ viewport: { width: 1400, height: 1400 } });
    await page.goto(`${BASE_URL}/spectra?testhooks=1&model=mnist-mlp-seed1&compare=mnist-mlp-seed2`);
    await page.locator(bothDone).waitFor({ timeout: 90_000 });
    const rows = await rowsOf(page);
    expect(rows.map((r) => r.name).sort()).toEqual([...alphaA.keys()].sort());
    for (const r of rows) {
      const a = alphaA.get(r.name)!;
      const b = alphaB.get(r.name)!;
      expect(r.a, `${r.name} α_A`).toBeCloseTo(a, 6);
      expect(r.b, `${r.name} α_B`).toBeCloseTo(b, 6);
      expect(r.d, `${r.name} Δα`).toBeCloseTo(b - a, 6);
      expect(r.d).toBeCloseTo(r.b - r.a, 12);
    }
    // Sorting by |Δα| puts the largest change first.
    await page.getByTestId('compare-sort-dalpha').click();
    const sorted = (await rowsOf(page)).map((r) => Math.abs(r.d));
    expect([...sorted].sort((x, y) => y - x)).toEqual(sorted);
  });

  it('selects a layer by clicking its bar: URL, table, detail and the two-model ESD overlay follow', async () => {
    const bars = page.getByTestId('compare-bar');
    expect(await bars.count()).toBe(3);
    const current = new URL(page.url()).searchParams.get('layer');
    const names = await bars.evaluateAll((b) => b.map((x) => x.getAttribute('data-name') ?? ''));
    const target = names.find((n) => n !== current)!;
    await page.locator(`[data-testid="compare-bar"][data-name="${target}"]`).click();
    await page.waitForFunction((n) => new URL(window.location.href).searchParams.get('layer') === n, target);
    await page.locator(`[data-testid="layer-detail"][data-layer="${target}"]`).waitFor();
    const overlay = page.locator(`[data-testid="compare-esd"][data-layer="${target}"]`);
    await overlay.waitFor();
    expect(await overlay.getAttribute('data-series')).toBe('2');
    expect(Number(await overlay.getByTestId('esd-series-raw').getAttribute('data-shown'))).toBeGreaterThan(0);
    expect(Number(await overlay.getByTestId('esd-series-farms').getAttribute('data-shown'))).toBeGreaterThan(0);
    expect(await page.locator('[data-testid="compare-row"].selected').getAttribute('data-name')).toBe(target);
    expect(await page.getByTestId('spectra-compare').inputValue()).toBe('mnist-mlp-seed2');
  });

  it('is a permalink: a fresh page with the URL reopens the comparison on the same layer', async () => {
    const url = page.url();
    const q = new URL(url).searchParams;
    expect(q.get('compare')).toBe('mnist-mlp-seed2');
    const again = await browser.newPage({ viewport: { width: 1400, height: 1400 } });
    await again.goto(url);
    await again.locator(bothDone).waitFor({ timeout: 90_000 });
    await again.locator(`[data-testid="compare-esd"][data-layer="${q.get('layer')}"][data-series="2"]`).waitFor();
    const rows = await rowsOf(again);
    expect(rows.length).toBe(3);
    for (const r of rows) expect(r.d).toBeCloseTo(alphaB.get(r.name)! - alphaA.get(r.name)!, 6);
    await again.close();
  });
});
