import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_QUANT_SETTINGS, type QuantSettings } from '../../lib/analysis/quant/quantize-layer';
import { quantSettingsKey } from '../../lib/state/quant-settings';
import { BASE_URL, launch } from './browser';

/**
 * Stored results (IndexedDB) end to end on the MNIST demo MLP: a finished Spectra run and a
 * Quantize preview and sweep come back after a reload, marked as restored, with the same numbers
 * and without a compute job; another setting recomputes; clearing (all, or one model) makes the
 * next load compute again; damaged stored entries are dropped and recomputed; and with IndexedDB
 * failing the app computes exactly as before.
 */

interface Hooks {
  jobsStarted(): Record<string, number>;
  storedSummary(): Promise<{ entries: number; bytes: number; models: { model: string; label: string; entries: number }[] } | null>;
}

const jobs = (p: Page) => p.evaluate(() => (window as unknown as { __weightlensTest: Hooks }).__weightlensTest.jobsStarted());
const summary = (p: Page) => p.evaluate(() => (window as unknown as { __weightlensTest: Hooks }).__weightlensTest.storedSummary());

/** Waits until the page's stored results hold at least `n` entries (results are written after they are shown). */
async function storedAtLeast(p: Page, n: number): Promise<void> {
  await expect.poll(async () => (await summary(p))?.entries ?? 0, { timeout: 30_000, interval: 200 }).toBeGreaterThanOrEqual(n);
}

let browser: Browser;

/** A browser context: its own IndexedDB, and its own HTTP cache (reloads read models through it). */
async function newContext(): Promise<BrowserContext> {
  return browser.newContext({ viewport: { width: 1400, height: 1100 } });
}

beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

const SPECTRA = `${BASE_URL}/spectra?testhooks=1&model=mnist-mlp-seed1`;
const spectraDone = '[data-testid="spectra-view"][data-status="done"]';

/** Every table row's name and numbers, as the page shows them. */
async function spectraRows(p: Page): Promise<string[]> {
  await p.locator(spectraDone).waitFor({ timeout: 90_000 });
  await p.locator('[data-testid="spectra-row"][data-status="done"]').first().waitFor();
  return p.getByTestId('spectra-row').evaluateAll((rows) =>
    rows.map((r) => [r.getAttribute('data-name'), r.getAttribute('data-status'), r.getAttribute('data-alpha'), r.getAttribute('data-farms-alpha'), r.getAttribute('data-warning'), r.getAttribute('data-status') === 'error' ? r.getAttribute('title') : ''].join(' ')),
  );
}

async function clearAllFromLanding(p: Page): Promise<void> {
  await p.goto(`${BASE_URL}/?testhooks=1`);
  const panel = p.getByTestId('stored-results');
  await panel.locator('[data-testid="stored-results-clear"]').waitFor();
  await p.getByRole('button', { name: 'Clear stored results', exact: true }).focus();
  await p.keyboard.press('Enter'); // keyboard reachable
  await p.locator('[data-testid="stored-results"][data-entries="0"]').waitFor();
}

describe('Spectra results persist across reloads', () => {
  let ctx: BrowserContext;
  let page: Page;
  let computed: string[];
  beforeAll(async () => {
    ctx = await newContext();
    page = await ctx.newPage();
  });
  afterAll(async () => {
    await ctx?.close();
  });

  it('computes on the first visit and stores the finished run', async () => {
    await page.goto(SPECTRA);
    computed = await spectraRows(page);
    expect(computed.length).toBeGreaterThan(0);
    expect(computed.every((r) => r.split(' ')[1] === 'done')).toBe(true);
    expect((await jobs(page)).spectra).toBe(1);
    expect(await page.getByTestId('stored-marker').count()).toBe(0);
    await storedAtLeast(page, computed.length);
  });

  it('shows the same numbers after a reload, marked as restored, without a compute job', async () => {
    await page.reload();
    const restored = await spectraRows(page);
    expect(restored).toEqual(computed);
    const marker = page.getByTestId('stored-marker');
    await marker.waitFor();
    expect(await marker.getAttribute('data-source')).toBe('stored');
    expect(Number(await marker.getAttribute('data-count'))).toBe(computed.length);
    expect(await marker.innerText()).toMatch(/restored from this browser.s storage/i);
    expect((await jobs(page)).spectra ?? 0).toBe(0);
  });

  it('recomputes when a setting changes', async () => {
    await page.getByTestId('spectra-fit').selectOption('xmin_peak');
    await page.waitForURL(/fit=xmin_peak/);
    await page.locator(spectraDone).waitFor({ timeout: 90_000 });
    expect((await jobs(page)).spectra).toBe(1);
    expect(await page.getByTestId('stored-marker').count()).toBe(0);
  });

  it('drops damaged stored entries and recomputes them', async () => {
    const before = (await summary(page))!.entries;
    // Overwrite every stored value with something that is not a result.
    await page.evaluate(
      () =>
        new Promise<void>((resolve, reject) => {
          const req = indexedDB.open('weightlens-results');
          req.onerror = () => reject(new Error('open failed'));
          req.onsuccess = () => {
            const tx = req.result.transaction('values', 'readwrite');
            const store = tx.objectStore('values');
            const all = store.getAll();
            all.onsuccess = () => {
              for (const rec of all.result as { key: string; schema: number }[]) store.put({ key: rec.key, schema: rec.schema, value: { tensor: 42, spectrum: 'x' } });
            };
            tx.oncomplete = () => {
              req.result.close();
              resolve();
            };
            tx.onerror = () => reject(new Error('write failed'));
          };
        }),
    );
    await page.goto(SPECTRA);
    expect(await spectraRows(page)).toEqual(computed);
    expect((await jobs(page)).spectra).toBe(1);
    expect(await page.getByTestId('stored-marker').count()).toBe(0);
    // The bad entries were replaced by good ones: the next load restores again.
    await storedAtLeast(page, before);
    await page.reload();
    expect(await spectraRows(page)).toEqual(computed);
    await page.getByTestId('stored-marker').waitFor();
    expect((await jobs(page)).spectra ?? 0).toBe(0);
  });

  it('computes again after “Clear stored results”', async () => {
    await clearAllFromLanding(page);
    expect((await summary(page))!.entries).toBe(0);
    await page.goto(SPECTRA);
    expect(await spectraRows(page)).toEqual(computed);
    expect((await jobs(page)).spectra).toBe(1);
    expect(await page.getByTestId('stored-marker').count()).toBe(0);
  });
});

const QUANT = `${BASE_URL}/quantize?testhooks=1&model=mnist-mlp-seed1&layer=fc2&d=2&k=16`;

const S16: QuantSettings = { ...DEFAULT_QUANT_SETTINGS, d: 2, k: 16 };

/** Waits for the preview of these settings and returns its numbers. */
async function previewNumbers(p: Page, s: QuantSettings): Promise<{ sqnr: string; bpw: string; key: string }> {
  await p.locator(`[data-testid="quant-status"][data-status="done"][data-key*="|${quantSettingsKey(s)}|"]`).waitFor({ timeout: 90_000 });
  const card = p.getByTestId('quant-summary');
  return { sqnr: (await card.getAttribute('data-sqnr')) ?? '', bpw: (await card.getAttribute('data-bpw')) ?? '', key: (await p.getByTestId('quant-status').getAttribute('data-key')) ?? '' };
}

describe('Quantize preview and sweep persist across reloads', () => {
  let ctx: BrowserContext;
  let page: Page;
  let first: { sqnr: string; bpw: string; key: string };
  let pooled: string;
  beforeAll(async () => {
    ctx = await newContext();
    page = await ctx.newPage();
  });
  afterAll(async () => {
    await ctx?.close();
  });

  it('computes the preview and the sweep, and stores both', async () => {
    await page.goto(QUANT);
    first = await previewNumbers(page, S16);
    expect(Number(first.sqnr)).toBeGreaterThan(0);
    expect((await jobs(page))['quantize-layer']).toBe(1);
    expect(await page.getByTestId('stored-marker').count()).toBe(0);
    await page.getByTestId('quant-sweep-run').click();
    await page.locator('[data-testid="quant-sweep"][data-status="done"]').waitFor({ timeout: 120_000 });
    pooled = (await page.getByTestId('quant-sweep').getAttribute('data-pooled-sqnr')) ?? '';
    expect(Number(pooled)).toBeGreaterThan(0);
    expect((await jobs(page))['quantize-sweep-layer']).toBe(3);
    await storedAtLeast(page, 2);
  });

  it('restores both after a reload: same numbers, marked, no quantize job', async () => {
    await page.reload();
    const again = await previewNumbers(page, S16);
    expect(again).toEqual(first);
    const status = page.getByTestId('quant-status');
    await status.getByTestId('stored-marker').waitFor();
    expect(await status.getByTestId('stored-marker').getAttribute('data-source')).toBe('stored');
    const sweep = page.locator('[data-testid="quant-sweep"][data-status="done"]');
    await sweep.getByTestId('stored-marker').waitFor();
    expect(await sweep.getAttribute('data-pooled-sqnr')).toBe(pooled);
    expect(Number(await sweep.getAttribute('data-done'))).toBe(3);
    const j = await jobs(page);
    expect(j['quantize-layer'] ?? 0).toBe(0);
    expect(j['quantize-sweep-layer'] ?? 0).toBe(0);
  });

  it('recomputes the preview when a setting changes', async () => {
    await page.getByTestId('quant-k').fill('3'); // k = 8
    await page.waitForURL(/k=8/);
    await previewNumbers(page, { ...S16, k: 8 });
    expect((await jobs(page))['quantize-layer']).toBe(1);
    expect(await page.getByTestId('quant-status').getByTestId('stored-marker').count()).toBe(0);
    expect(await page.getByTestId('quant-summary').getAttribute('data-sqnr')).not.toBe(first.sqnr);
  });

  it('computes again after clearing this model’s stored results', async () => {
    await page.goto(`${BASE_URL}/?testhooks=1`);
    const row = page.getByTestId('stored-results-model');
    await row.first().waitFor();
    expect(await row.count()).toBe(1);
    await row.getByRole('button', { name: /Clear stored results of/ }).click();
    await page.locator('[data-testid="stored-results"][data-entries="0"]').waitFor();
    await page.goto(QUANT);
    expect(await previewNumbers(page, S16)).toEqual(first);
    expect((await jobs(page))['quantize-layer']).toBe(1);
    expect(await page.getByTestId('quant-status').getByTestId('stored-marker').count()).toBe(0);
    expect(await page.locator('[data-testid="quant-sweep"]').getAttribute('data-status')).toBe('idle');
  });
});

describe('Merge analysis persists across reloads', () => {
  it('restores the weight-space analysis of two seeds without a merge-analyze job', async () => {
    const ctx = await newContext();
    try {
      const page = await ctx.newPage();
      const numbers = async () => {
        await page.locator('[data-testid="merge-view"][data-status="done"]').waitFor({ timeout: 90_000 });
        const s = page.getByTestId('merge-summary');
        return Promise.all(['data-paired', 'data-l2-before', 'data-l2-after'].map((a) => s.getAttribute(a)));
      };
      await page.goto(`${BASE_URL}/merge?testhooks=1&a=mnist-mlp-seed1&b=mnist-mlp-seed2`);
      const computed = await numbers();
      expect(Number(computed[0])).toBe(6);
      expect((await jobs(page))['merge-analyze']).toBe(1);
      await storedAtLeast(page, 1);
      const listed = (await summary(page))!.models;
      expect(listed.some((m) => m.label.includes('+'))).toBe(true);
      expect(await page.getByTestId('merge-status').getByTestId('stored-marker').count()).toBe(0);
      await page.reload();
      expect(await numbers()).toEqual(computed);
      expect((await jobs(page))['merge-analyze'] ?? 0).toBe(0);
      expect(await page.getByTestId('merge-status').getByTestId('stored-marker').getAttribute('data-source')).toBe('stored');
    } finally {
      await ctx.close();
    }
  });
});

describe('with IndexedDB failing', () => {
  it('computes as usual when the storage quota is too small to store a result', async () => {
    const ctx = await newContext();
    try {
      const page = await ctx.newPage();
      const warnings: string[] = [];
      page.on('console', (m) => m.type() === 'warning' && warnings.push(m.text()));
      const cdp = await ctx.newCDPSession(page);
      await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(BASE_URL).origin, quotaSize: 8192 });
      await page.goto(SPECTRA);
      const rows = await spectraRows(page);
      expect((await jobs(page)).spectra).toBe(1);
      await expect.poll(() => warnings.join('\n'), { timeout: 20_000 }).toMatch(/stored results unavailable \(write\)/);
      expect((await summary(page))?.entries ?? 0).toBe(0);
      await page.reload();
      expect(await spectraRows(page)).toEqual(rows);
      expect((await jobs(page)).spectra).toBe(1);
      expect(await page.getByTestId('stored-marker').count()).toBe(0);
    } finally {
      await ctx.close();
    }
  });

  it('computes as usual, stores nothing and says so on the landing page', async () => {
    const ctx = await newContext();
    await ctx.addInitScript(() => {
      const broken = {
        open() {
          throw new DOMException('The user denied permission to access the database.', 'SecurityError');
        },
        deleteDatabase() {
          throw new DOMException('denied', 'SecurityError');
        },
      };
      Object.defineProperty(window, 'indexedDB', { get: () => broken, configurable: true });
    });
    try {
      const page = await ctx.newPage();
      await page.goto(SPECTRA);
      const rows = await spectraRows(page);
      expect(rows.length).toBeGreaterThan(0);
      expect((await jobs(page)).spectra).toBe(1);
      await page.reload();
      expect(await spectraRows(page)).toEqual(rows);
      expect((await jobs(page)).spectra).toBe(1);
      expect(await page.getByTestId('stored-marker').count()).toBe(0);
      expect(await summary(page)).toBeNull();
      await page.goto(QUANT);
      await previewNumbers(page, S16);
      expect((await jobs(page))['quantize-layer']).toBe(1);
      await page.goto(`${BASE_URL}/?testhooks=1`);
      await page.locator('[data-testid="stored-results"][data-available="0"]').waitFor();
    } finally {
      await ctx.close();
    }
  });
});
