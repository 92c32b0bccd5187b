import { readFileSync } from 'node:fs';
import { parseHex } from '../../lib/charts/color-vision';
import { CHART_COLORS } from '../../lib/charts/palette';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_URL, launch } from './browser';

/**
 * Chart exports as a user preparing a slide would use them: the SVG stands on its own (styles
 * inlined, title above, model/settings/permalink below, parses as XML), the PNG is twice the
 * on-screen size, and Copy puts a PNG on the clipboard.
 */

let browser: Browser;
let context: BrowserContext;
let page: Page;

/** Width and height from a PNG's IHDR chunk (bytes 16–23, big-endian), after checking the signature. */
function pngSize(bytes: Uint8Array): { width: number; height: number } {
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  expect(Array.from(bytes.subarray(0, 8))).toEqual(sig);
  expect(String.fromCharCode(...bytes.subarray(12, 16))).toBe('IHDR');
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: v.getUint32(16), height: v.getUint32(20) };
}

async function download(p: Page, button: Locator): Promise<{ name: string; bytes: Uint8Array }> {
  const [d] = await Promise.all([p.waitForEvent('download'), button.click()]);
  return { name: d.suggestedFilename(), bytes: new Uint8Array(readFileSync(await d.path())) };
}

interface Parsed {
  ok: boolean;
  width: number;
  height: number;
  title: string;
  caption: string;
  background: string;
  frameStyle: string | null;
  textStyle: string | null;
}

/** Parses the SVG text with the browser's XML parser and reads back what a viewer would draw. */
function parse(p: Page, text: string): Promise<Parsed> {
  return p.evaluate((t) => {
    const doc = new DOMParser().parseFromString(t, 'image/svg+xml');
    const root = doc.documentElement;
    return {
      ok: !doc.querySelector('parsererror') && root.localName === 'svg' && root.namespaceURI === 'http://www.w3.org/2000/svg',
      width: Number(root.getAttribute('width')),
      height: Number(root.getAttribute('height')),
      title: doc.querySelector('[data-export="title"]')?.textContent ?? '',
      caption: Array.from(doc.querySelectorAll('[data-export="caption"] text'))
        .map((e) => e.textContent ?? '')
        .join(''),
      background: doc.querySelector('[data-export="background"]')?.getAttribute('style') ?? '',
      frameStyle: doc.querySelector('rect.sp-frame')?.getAttribute('style') ?? null,
      textStyle: doc.querySelector('svg svg text')?.getAttribute('style') ?? null,
    };
  }, text);
}

beforeAll(async () => {
  browser = await launch();
  context = await browser.newContext({ viewport: { width: 1400, height: 1200 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE_URL });
  page = await context.newPage();
  await page.goto(`${BASE_URL}/quantize?testhooks=1&model=mnist-mlp-seed1&layer=fc2&d=2&k=16`);
  await page.locator('[data-testid="quant-status"][data-status="done"]').waitFor({ timeout: 90_000 });
});
afterAll(async () => {
  await browser?.close();
});

describe('chart exports', () => {
  it('downloads a standalone SVG with title, caption, permalink and inlined styles', async () => {
    const card = page.getByTestId('quant-map-assign');
    const { name, bytes } = await download(page, card.getByTestId('export-svg'));
    expect(name).toMatch(/fc2-assign\.svg$/);
    const text = new TextDecoder().decode(bytes);
    const svg = await parse(page, text);
    expect(svg.ok).toBe(true);
    expect(svg.title).toBe('Assignment map');
    expect(svg.caption).toContain('mlp-seed1');
    expect(svg.caption).toContain('codewords k 16');
    expect(svg.caption).toContain('layer fc2');
    // The permalink is the page URL, wrapped over lines but whole.
    const url = page.url();
    expect(url).toContain('model=mnist-mlp-seed1');
    expect(svg.caption.replace(/\s/g, '')).toContain(url);
    expect(svg.background).toContain('fill:#ffffff');
    // The frame's class rule (fill none, grey stroke) is in the file, not lost to a black fill.
    expect(svg.frameStyle).toMatch(/(^|;)fill:none/);
    const [r, g, b] = parseHex(CHART_COLORS.light.axis);
    expect(svg.frameStyle).toMatch(new RegExp(`(^|;)stroke:rgb\\(${r}, ${g}, ${b}\\)`));
    expect(svg.textStyle).toMatch(/font-size:\d/);
    // The embedded map image is kept.
    expect(text).toContain('data:image/png;base64');
    // Title band above and caption below the chart: taller than the chart on screen, same width.
    const box = (await card.locator('svg.sp-svg').boundingBox())!;
    expect(svg.width).toBe(Math.ceil(box.width));
    expect(svg.height).toBeGreaterThan(box.height + 30);
  });

  it('downloads the PNG at twice the exported size', async () => {
    const card = page.getByTestId('quant-map-assign');
    const svgText = new TextDecoder().decode((await download(page, card.getByTestId('export-svg'))).bytes);
    const svg = await parse(page, svgText);
    const { name, bytes } = await download(page, card.getByTestId('export-png'));
    expect(name).toMatch(/fc2-assign\.png$/);
    const size = pngSize(bytes);
    const box = (await card.locator('svg.sp-svg').boundingBox())!;
    expect(size.width).toBe(2 * Math.ceil(box.width));
    expect(size.width).toBe(2 * svg.width);
    expect(size.height).toBe(2 * svg.height);
  });

  it('copies the PNG to the clipboard', async () => {
    const card = page.getByTestId('quant-usage');
    const button = card.getByTestId('export-copy');
    expect(await button.getAttribute('aria-label')).toMatch(/clipboard/i);
    await button.focus();
    await page.keyboard.press('Enter');
    await card.locator('[data-testid="export-status"]').filter({ hasText: /^Copied$/ }).waitFor({ timeout: 15_000 });
    const got = await page.evaluate(async () => {
      const items = await navigator.clipboard.read();
      const item = items.find((i) => i.types.includes('image/png'));
      if (!item) return null;
      const b = new Uint8Array(await (await item.getType('image/png')).arrayBuffer());
      return Array.from(b.subarray(0, 32));
    });
    expect(got).not.toBeNull();
    const size = pngSize(new Uint8Array(got!));
    const box = (await card.locator('svg').first().boundingBox())!;
    expect(size.width).toBe(2 * Math.ceil(box.width));
    expect(size.height).toBeGreaterThan(2 * box.height);
  });

  it('exports a Spectra chart with its caption', async () => {
    const p = await context.newPage();
    await p.goto(`${BASE_URL}/spectra?testhooks=1&model=paddleocr-det`);
    const chart = p.getByTestId('esd-chart');
    await chart.waitFor({ timeout: 90_000 });
    const layer = (await chart.getAttribute('data-layer'))!;
    const { bytes } = await download(p, chart.getByTestId('export-svg'));
    const svg = await parse(p, new TextDecoder().decode(bytes));
    expect(svg.ok).toBe(true);
    expect(svg.title).toBe(`ESD · ${layer}`);
    expect(svg.caption).toContain('det');
    expect(svg.caption).toContain(`layer ${layer}`);
    expect(svg.caption.replace(/\s/g, '')).toContain(p.url());
    expect(new URL(p.url()).searchParams.get('model')).toBe('paddleocr-det');
    await p.close();
  });
});
