import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_URL, launch, openLanding } from './browser';

/**
 * Permalinks of models that are not demos: a model opened from a URL re-opens from the permalink
 * in a fresh browser; a local file's permalink asks for the same file, refuses a different one
 * (size or header hash), and shows the same results once the right file is given.
 */

const root = path.resolve(import.meta.dirname, '..', '..');
const seed1 = readFileSync(path.join(root, 'public', 'models', 'mnist', 'mlp-seed1.safetensors'));
const seed2 = readFileSync(path.join(root, 'public', 'models', 'mnist', 'mlp-seed2.safetensors'));

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

async function quantizeDone(p: Page): Promise<string> {
  await p.locator('[data-testid="quant-status"][data-status="done"]').waitFor({ timeout: 90_000 });
  return (await p.getByTestId('quant-summary').getAttribute('data-sqnr'))!;
}

async function toQuantize(p: Page): Promise<void> {
  await p.locator('[data-testid="model-tab"]:not([data-status="opening"])').first().waitFor({ timeout: 60_000 });
  await p.getByRole('link', { name: 'Quantize' }).click();
  await p.getByTestId('quantize-view').waitFor();
}

describe('permalinks of models that are not demos', () => {
  it('a model opened from a URL re-opens from the permalink in a fresh browser', async () => {
    const page = await openLanding(browser);
    // A query string makes it a plain URL rather than the demo of the same file.
    const url = `${BASE_URL}/models/mnist/mlp-seed1.safetensors?v=1`;
    await page.getByTestId('url-input').fill(url);
    await page.getByTestId('url-open').click();
    await toQuantize(page);
    const sqnr = await quantizeDone(page);
    await expect.poll(() => new URL(page.url()).searchParams.get('model')).toBe(url);
    const fresh = await browser.newContext();
    const again = await fresh.newPage();
    await again.goto(page.url());
    expect(await quantizeDone(again)).toBe(sqnr);
    await fresh.close();
    await page.close();
  });

  it('a local file’s permalink asks for the same file and checks it before showing results', async () => {
    const page = await openLanding(browser);
    await page.getByTestId('file-input').setInputFiles({ name: 'mlp.safetensors', mimeType: 'application/octet-stream', buffer: seed1 });
    await toQuantize(page);
    const sqnr = await quantizeDone(page);
    await expect.poll(() => new URL(page.url()).searchParams.get('model') ?? '').toMatch(/^file:mlp\.safetensors:\d+:[0-9a-f]{16}$/);
    const fresh = await browser.newContext();
    const again = await fresh.newPage();
    await again.goto(page.url());
    await again.getByTestId('reopen-file').waitFor();
    // Same name and size, different weights: refused by the header hash; nothing is shown.
    await again.getByTestId('reopen-file-input').setInputFiles({ name: 'mlp.safetensors', mimeType: 'application/octet-stream', buffer: seed2 });
    await expect.poll(async () => again.getByTestId('reopen-file-problem').innerText()).toMatch(/different header|bytes/);
    expect(await again.getByTestId('quant-summary').count()).toBe(0);
    await again.getByTestId('reopen-file-input').setInputFiles({ name: 'mlp.safetensors', mimeType: 'application/octet-stream', buffer: seed1 });
    expect(await quantizeDone(again)).toBe(sqnr);
    await fresh.close();
    await page.close();
  });
});
