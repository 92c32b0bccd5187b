import { readFileSync } from 'node:fs';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_URL, launch } from './browser';

const KEY = 'weightlens.report.v1';

/**
 * The report as a user preparing a write-up would use it: charts and the settings table added from
 * the Quantize view, reordered, pruned and annotated on /report, kept across a reload, exported as
 * one HTML file that opens with the network off, and printed without the app's chrome.
 */

let browser: Browser;
let context: BrowserContext;
let page: Page;
let exported = '';

const items = (p: Page): Locator => p.getByTestId('report-item');
const titles = (p: Page): Promise<string[]> => p.locator('[data-testid="report-item"] .report-item-title').allInnerTexts();

beforeAll(async () => {
  browser = await launch();
  context = await browser.newContext({ viewport: { width: 1400, height: 1200 } });
  page = await context.newPage();
  await page.goto(`${BASE_URL}/quantize?testhooks=1&model=mnist-mlp-seed1&layer=fc2&d=2&k=16`);
  await page.locator('[data-testid="quant-status"][data-status="done"]').waitFor({ timeout: 90_000 });
});
afterAll(async () => {
  await browser?.close();
});

describe('report', () => {
  it('collects two charts and the settings table from the Quantize view, in order', async () => {
    const map = page.getByTestId('quant-map-assign');
    await map.getByTestId('export-report').click();
    await expect.poll(() => map.getByTestId('export-status').innerText()).toBe('Added to report');
    const usage = page.getByTestId('quant-usage');
    await usage.getByTestId('export-report').click();
    await expect.poll(() => usage.getByTestId('export-status').innerText()).toBe('Added to report');
    await page.getByTestId('table-add-report').click();
    await expect.poll(() => page.getByTestId('table-report-status').innerText()).toBe('Added to report');
    // The confirmation goes away by itself.
    await expect.poll(() => usage.getByTestId('export-status').count(), { timeout: 10_000 }).toBe(0);
    expect(await usage.getByTestId('export-report').getAttribute('aria-label')).toBe('Add chart to the report');

    await page.getByRole('link', { name: 'Report' }).click();
    await page.locator('[data-testid="report-view"][data-loaded="1"]').waitFor();
    expect(await items(page).count()).toBe(3);
    expect(await items(page).evaluateAll((els) => els.map((e) => e.getAttribute('data-kind')))).toEqual(['chart', 'chart', 'table']);
    const t = await titles(page);
    expect(t[1]).toBe('Codeword usage');
    expect(t[2]).toContain('fc2');
    // Charts render as images of the standalone SVG; the table keeps its rows and nothing else.
    for (const img of await page.getByTestId('report-chart').all()) {
      await expect.poll(() => img.evaluate((e) => (e as HTMLImageElement).complete && (e as HTMLImageElement).naturalWidth)).toBeGreaterThan(0);
    }
    const table = page.getByTestId('report-table');
    expect(await table.innerText()).toContain('codewords k\t16');
    expect(await table.locator('[class], [style], [data-testid]').count()).toBe(0);
    expect(await items(page).first().getByTestId('report-chart').getAttribute('src')).toMatch(/^data:image\/svg\+xml;base64,/);
  });

  it('moves, removes and annotates items, and keeps them across a reload', async () => {
    const before = await titles(page);
    // Keyboard: focus "Up" on the table and press Enter.
    await items(page).nth(2).getByTestId('report-up').focus();
    await page.keyboard.press('Enter');
    expect(await titles(page)).toEqual([before[0], before[2], before[1]]);
    // The first item cannot go further up.
    expect(await items(page).first().getByTestId('report-up').isDisabled()).toBe(true);
    await items(page).first().getByTestId('report-remove').click();
    expect(await titles(page)).toEqual([before[2], before[1]]);
    await items(page).nth(1).getByTestId('report-note').fill('Usage is flat: no dead codewords at k = 16.');
    await page.getByTestId('report-title').fill('FC2 quantization — notes');

    await page.reload();
    await page.locator('[data-testid="report-view"][data-loaded="1"]').waitFor();
    expect(await titles(page)).toEqual([before[2], before[1]]);
    expect(await items(page).nth(1).getByTestId('report-note').inputValue()).toBe('Usage is flat: no dead codewords at k = 16.');
    expect(await page.getByTestId('report-title').inputValue()).toBe('FC2 quantization — notes');
  });

  it('exports one self-contained HTML file with the SVG inline and nothing to load', async () => {
    const [d] = await Promise.all([page.waitForEvent('download'), page.getByTestId('report-export-html').click()]);
    expect(d.suggestedFilename()).toBe('fc2-quantization-notes.html');
    exported = readFileSync((await d.path())!, 'utf8');
    expect(exported).toMatch(/^<!doctype html>/);
    expect(exported).toContain('<svg');
    expect(exported).toContain('data-export="title"');
    expect(exported).toContain('Codeword usage');
    expect(exported).toContain('codewords k');
    expect(exported).toContain('Usage is flat: no dead codewords at k = 16.');
    // Nothing that would fetch: no remote src/href, no stylesheet links, no scripts, no remote url().
    expect(exported).not.toMatch(/\s(src|href|xlink:href)\s*=\s*["']?\s*(https?:)?\/\//i);
    expect(exported).not.toMatch(/<script|<link\b|@import|url\(\s*['"]?https?:/i);
  });

  it('opens offline and draws the charts', async () => {
    const off = await browser.newContext({ viewport: { width: 1000, height: 1200 } });
    await off.setOffline(true);
    const requests: string[] = [];
    off.on('request', (r) => {
      if (!r.url().startsWith('data:') && !r.url().startsWith('about:')) requests.push(r.url());
    });
    const p = await off.newPage();
    await p.setContent(exported, { waitUntil: 'load' });
    expect(await p.title()).toBe('FC2 quantization — notes');
    expect(await p.locator('section.item').count()).toBe(2);
    // The usage chart is drawn: an inline <svg> with bars, sized, and its nested heat-map-free chart inside.
    const size = await p.locator('section.item').nth(1).locator('figure > svg').evaluate((e) => {
      const r = e.getBoundingClientRect();
      return { w: r.width, h: r.height, bars: e.querySelectorAll('rect.bar').length };
    });
    expect(size.w).toBeGreaterThan(100);
    expect(size.h).toBeGreaterThan(100);
    expect(size.bars).toBeGreaterThan(0);
    expect(await p.locator('section.item').first().locator('table tr').count()).toBeGreaterThan(5);
    expect(requests).toEqual([]);
    await off.close();
  });

  it('prints without the navigation or buttons, one block per item', async () => {
    await page.emulateMedia({ media: 'print' });
    try {
      const display = (sel: string) => page.locator(sel).first().evaluate((e) => getComputedStyle(e).display);
      expect(await display('[data-testid="report-export-html"]')).toBe('none');
      expect(await display('[data-testid="report-print"]')).toBe('none');
      expect(await display('.report-item-actions')).toBe('none');
      expect(await display('.app-header')).toBe('none');
      expect(await display('.report-note-edit')).toBe('none');
      for (const b of await page.locator('button').all()) expect(await b.isVisible()).toBe(false);
      expect(await page.getByTestId('report-note').first().isVisible()).toBe(false);
      // The note is printed as text instead of the text box.
      expect(await display('.report-note-print')).toBe('block');
      expect(await page.locator('.report-note-print').innerText()).toBe('Usage is flat: no dead codewords at k = 16.');
      const item = await items(page).first().evaluate((e) => ({ brk: getComputedStyle(e).breakInside, display: getComputedStyle(e).display, bg: getComputedStyle(document.body).backgroundColor }));
      expect(item).toEqual({ brk: 'avoid', display: 'block', bg: 'rgb(255, 255, 255)' });
    } finally {
      await page.emulateMedia({ media: 'screen' });
    }
    expect(await page.getByTestId('report-export-html').isVisible()).toBe(true);
    expect(await page.locator('.report-note-print').isVisible()).toBe(false);
  });

  it('clears everything and explains how to add charts', async () => {
    await page.getByTestId('report-clear').click();
    await page.getByTestId('report-clear-confirm').click();
    expect(await items(page).count()).toBe(0);
    expect(await page.getByTestId('report-empty').innerText()).toContain('+ Report');
    await page.reload();
    await page.locator('[data-testid="report-view"][data-loaded="1"]').waitFor();
    expect(await page.getByTestId('report-empty').count()).toBe(1);
  });

  it('cleans hostile items from storage: no script runs, nothing remote is kept', async () => {
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="60" onload="window.__pwned=1"><script>window.__pwned=2</script>' +
      '<image href="https://example.com/x.png" width="10" height="10"/><rect width="120" height="60" class="bar" style="fill:#4e79a7;background:url(https://example.com/y.png)"/>' +
      '<a href="javascript:alert(1)"><text y="20">hi</text></a><foreignObject><div xmlns="http://www.w3.org/1999/xhtml">x</div></foreignObject></svg>';
    const html = '<table class="x" onclick="x()"><tbody><tr><th>a<img src="https://example.com/z.png" onerror="window.__pwned=3"></th><td><b>bold</b><script>window.__pwned=4</script></td></tr></tbody></table>';
    const stored = { title: 'Hostile', items: [{ id: 'a', kind: 'chart', title: 'T<i>1</i>', caption: 'c', svg, note: '<b>n</b>', addedAt: 1 }, { id: 'b', kind: 'table', title: 'T2', caption: '', html, note: '', addedAt: 2 }, { id: 'c', kind: 'bogus' }] };
    await page.evaluate(([k, v]) => localStorage.setItem(k!, v!), [KEY, JSON.stringify(stored)]);
    await page.reload();
    await page.locator('[data-testid="report-view"][data-loaded="1"]').waitFor();
    expect(await items(page).count()).toBe(2);
    expect(await titles(page)).toEqual(['T<i>1</i>', 'T2']);
    expect(await page.getByTestId('report-table').innerHTML()).toBe('<table><tbody><tr><th>a</th><td>bold</td></tr></tbody></table>');
    const img = page.getByTestId('report-chart');
    await expect.poll(() => img.evaluate((e) => (e as HTMLImageElement).naturalWidth)).toBe(120);
    const shown = Buffer.from((await img.getAttribute('src'))!.split(',')[1]!, 'base64').toString('utf8');
    for (const bad of ['script', 'onload', 'example.com', 'javascript:', 'foreignObject']) expect(shown).not.toContain(bad);
    expect(shown).toContain('style="fill:#4e79a7"');
    const [d] = await Promise.all([page.waitForEvent('download'), page.getByTestId('report-export-html').click()]);
    const text = readFileSync((await d.path())!, 'utf8');
    for (const bad of ['<script', 'onload', 'onerror', 'onclick', 'example.com', 'javascript:', '<img', '<b>', '<i>']) expect(text).not.toContain(bad);
    expect(text).toContain('T&lt;i&gt;1&lt;/i&gt;');
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  });

  it('refuses an item the browser cannot store, with a message, and keeps the report as it was', async () => {
    await page.goto(`${BASE_URL}/quantize?testhooks=1&model=mnist-mlp-seed1&layer=fc2&d=2&k=16`);
    await page.locator('[data-testid="quant-status"][data-status="done"]').waitFor({ timeout: 90_000 });
    // Fill the origin's storage to within 1 k characters of the browser's quota with another key.
    const left = await page.evaluate((k) => {
      localStorage.removeItem(k);
      let lo = 0;
      let hi = 64 * 1024 * 1024;
      while (hi - lo > 1024) {
        const mid = Math.floor((lo + hi) / 2);
        try {
          localStorage.setItem('weightlens.test.filler', 'x'.repeat(mid));
          lo = mid;
        } catch {
          hi = mid;
        }
      }
      localStorage.setItem('weightlens.test.filler', 'x'.repeat(lo));
      return hi - lo;
    }, KEY);
    expect(left).toBeLessThanOrEqual(1024);
    const usage = page.getByTestId('quant-usage');
    await usage.getByTestId('export-report').click();
    await expect.poll(() => usage.getByTestId('export-status').innerText()).toMatch(/refused to store the report.*remove some items first/);
    expect(await page.evaluate((k) => localStorage.getItem(k), KEY)).toBeNull();
    await page.evaluate(() => localStorage.removeItem('weightlens.test.filler'));
    // With room again the same click works.
    await usage.getByTestId('export-report').click();
    await expect.poll(() => usage.getByTestId('export-status').innerText()).toBe('Added to report');
    expect(await page.evaluate((k) => (JSON.parse(localStorage.getItem(k) ?? '{}') as { items: unknown[] }).items.length, KEY)).toBe(1);
  });

  it('keeps two copies of one Spectra chart apart in the exported file (ids made unique)', async () => {
    await page.goto(`${BASE_URL}/spectra?testhooks=1&model=paddleocr-det`);
    const chart = page.getByTestId('esd-chart');
    await chart.waitFor({ timeout: 90_000 });
    await chart.getByTestId('export-report').click();
    await expect.poll(() => chart.getByTestId('export-status').innerText()).toBe('Added to report');
    await chart.getByTestId('esd-ccdf-toggle').check();
    await chart.getByTestId('export-report').click();
    await page.goto(`${BASE_URL}/report`);
    await page.locator('[data-testid="report-view"][data-loaded="1"]').waitFor();
    expect(await items(page).count()).toBe(3);
    const [d] = await Promise.all([page.waitForEvent('download'), page.getByTestId('report-export-html').click()]);
    const text = readFileSync((await d.path())!, 'utf8');
    const ids = Array.from(text.matchAll(/\sid="([^"]+)"/g), (m) => m[1]);
    expect(ids.length).toBeGreaterThanOrEqual(2);
    expect(new Set(ids).size).toBe(ids.length);
    // Every url(#…) reference points at an id inside its own chart.
    const p = await context.newPage();
    await p.setContent(text);
    const dangling = await p.evaluate(() =>
      Array.from(document.querySelectorAll('figure > svg')).flatMap((svg) =>
        Array.from(svg.querySelectorAll('[clip-path]'))
          .map((e) => /url\(#([^)]+)\)/.exec(e.getAttribute('clip-path') ?? '')?.[1])
          .filter((id): id is string => !!id && !svg.querySelector(`[id="${id}"]`)),
      ),
    );
    expect(dangling).toEqual([]);
    expect(await p.locator('figure > svg [clip-path]').count()).toBeGreaterThanOrEqual(2);
    await p.close();
    await page.getByTestId('report-clear').click();
    await page.getByTestId('report-clear-confirm').click();
  });

  it('adds the whole layer table of a windowed Spectra table, and copies it as Markdown and full-precision TSV', async () => {
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE_URL });
    await page.goto(`${BASE_URL}/spectra?testhooks=1&model=paddleocr-det`);
    await page.locator('[data-testid="spectra-view"][data-status="done"]').waitFor({ timeout: 120_000 });
    const total = Number(await page.getByTestId('spectra-rows-shown').getAttribute('data-count'));
    const drawn = await page.getByTestId('spectra-row').count();
    expect(drawn).toBeLessThan(total); // windowed: only the rows in view exist in the DOM
    const actions = page.getByTestId('spectra-table-actions');

    await actions.getByTestId('spectra-table-actions-tsv').click();
    await expect.poll(() => actions.getByRole('status').innerText()).toContain(`(${total} rows)`);
    const tsv = (await page.evaluate(() => navigator.clipboard.readText())).split('\n').map((l) => l.split('\t'));
    expect(tsv).toHaveLength(total + 1);
    const col = tsv[0]!.indexOf('alpha');
    const first = page.getByTestId('spectra-row').first();
    const name = (await first.getAttribute('data-name'))!;
    const row = tsv.find((r) => r[0] === name)!;
    expect(Number(row[col])).toBe(Number(await first.getAttribute('data-alpha'))); // every digit

    await actions.getByTestId('spectra-table-actions-md').click();
    const md = (await page.evaluate(() => navigator.clipboard.readText())).split('\n');
    expect(md).toHaveLength(total + 2);
    expect(md[0]).toMatch(/^\| layer \| kind \| block \|/);
    expect(md[1]).toContain('---:');

    await actions.getByTestId('table-add-report').click();
    await page.goto(`${BASE_URL}/report`);
    await page.locator('[data-testid="report-view"][data-loaded="1"]').waitFor();
    const item = page.locator('[data-testid="report-item"][data-kind="table"]');
    expect(await item.locator('.report-item-title').innerText()).toBe('Layer metrics: ch_PP-OCRv4_det_infer.onnx');
    expect(await item.locator('tbody tr').count()).toBe(total);
    expect(await item.locator('thead th').first().innerText()).toBe('layer');
    await page.getByTestId('report-clear').click();
    await page.getByTestId('report-clear-confirm').click();
  });
});
