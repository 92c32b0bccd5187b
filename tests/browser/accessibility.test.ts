import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHART_COLORS } from '../../lib/charts/palette';
import { BASE_URL, launch } from './browser';

/**
 * Themes, keyboard use and an automated accessibility audit, as a reader who cannot use a mouse,
 * or who presents in a dark room, would meet them: axe-core (WCAG 2.1 A/AA rules, contrast
 * included) finds nothing on any view in either theme; the dark theme is chosen, remembered and
 * exported; layers are selected with arrow keys in charts and tables; maps zoom from the keyboard.
 */

const root = path.resolve(import.meta.dirname, '..', '..');
const AXE = readFileSync(path.join(root, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
let browser: Browser;

/** The views with real content, and what shows each is done. */
const VIEWS: { name: string; url: string; ready: string }[] = [
  { name: 'models', url: '/', ready: '[data-testid="demo-models"] button' },
  { name: 'spectra', url: '/spectra?model=mnist-mlp-seed1', ready: '[data-testid="spectra-row"][data-status="done"]' },
  { name: 'spectra comparison', url: '/spectra?model=mnist-mlp-seed1&compare=mnist-mlp-seed2', ready: '[data-testid="compare-bar"][data-dalpha]' },
  { name: 'quantize', url: '/quantize?model=mnist-mlp-seed1&layer=fc2&d=2&k=16', ready: '[data-testid="quant-status"][data-status="done"]' },
  { name: 'prune', url: '/prune?model=mnist-mlp-seed1', ready: '[data-testid="prune-status"][data-status="done"]' },
  { name: 'merge', url: '/merge?a=mnist-mlp-seed1&b=mnist-mlp-seed2', ready: '[data-testid="merge-view"][data-status="done"]' },
  { name: 'report', url: '/report', ready: '[data-testid="report-item"]' },
];

async function audit(p: Page): Promise<string[]> {
  await p.addScriptTag({ content: AXE });
  return p.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document, o: object): Promise<{ violations: { id: string; help: string; nodes: { target: string[]; failureSummary?: string }[] }[] }> } }).axe;
    const r = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return r.violations.map((v) => `${v.id}: ${v.help} — ${v.nodes.slice(0, 3).map((n) => `${n.target.join(' ')} (${(n.failureSummary ?? '').replace(/\s+/g, ' ').slice(0, 200)})`).join('; ')}`);
  });
}

beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

describe('accessibility audit', () => {
  for (const scheme of ['light', 'dark'] as const) {
    it(`every view passes the WCAG 2.1 AA rules of axe-core in the ${scheme} theme`, async () => {
      const ctx = await browser.newContext({ viewport: { width: 1400, height: 1000 }, colorScheme: scheme, acceptDownloads: true });
      const p = await ctx.newPage();
      // Something in the report to audit: one chart added from Spectra.
      await p.goto(`${BASE_URL}/spectra?testhooks=1&model=mnist-mlp-seed1`);
      await p.locator('[data-testid="spectra-row"][data-status="done"]').first().waitFor({ timeout: 90_000 });
      await p.getByTestId('alpha-depth-chart').getByTestId('export-report').click();
      const found: Record<string, string[]> = {};
      for (const v of VIEWS) {
        await p.goto(`${BASE_URL}${v.url}${v.url.includes('?') ? '&' : '?'}testhooks=1`);
        await p.locator(v.ready).first().waitFor({ timeout: 120_000 });
        expect(await p.evaluate(() => getComputedStyle(document.body).colorScheme)).toBe(scheme);
        const violations = await audit(p);
        if (violations.length) found[v.name] = violations;
      }
      expect(found).toEqual({});
      await ctx.close();
    });
  }
});

describe('themes', () => {
  it('switches to dark, remembers it across a reload, and exports charts on the dark background', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1400, height: 1000 }, colorScheme: 'light', acceptDownloads: true });
    const p = await ctx.newPage();
    await p.goto(`${BASE_URL}/spectra?testhooks=1&model=mnist-mlp-seed1`);
    await p.locator('[data-testid="spectra-row"][data-status="done"]').first().waitFor({ timeout: 90_000 });
    const bg = () => p.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(await bg()).toBe('rgb(246, 247, 249)');
    await p.getByTestId('theme').selectOption('dark');
    expect(await p.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    expect(await bg()).toBe('rgb(15, 19, 27)');
    // Chart marks take the dark palette: the raw ESD fit line is Okabe–Ito sky blue there.
    const fitStroke = () => p.getByTestId('esd-chart').locator('[data-testid^="esd-fit-line-"]').first().evaluate((el) => getComputedStyle(el).stroke);
    expect(await fitStroke()).toBe('rgb(86, 180, 233)');

    await p.reload();
    await p.locator('[data-testid="spectra-row"][data-status="done"]').first().waitFor({ timeout: 90_000 });
    expect(await p.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    expect(await p.getByTestId('theme').inputValue()).toBe('dark');

    const [d] = await Promise.all([p.waitForEvent('download'), p.getByTestId('alpha-depth-chart').getByTestId('export-svg').click()]);
    const svg = readFileSync(await d.path(), 'utf8');
    expect(svg).toMatch(new RegExp(`data-export="background"[^>]*fill:\\s*${CHART_COLORS.dark.bg}|fill:\\s*${CHART_COLORS.dark.bg};stroke:none[^>]*data-export="background"`));
    expect(svg).not.toContain('var(--');

    // Back to the system's preference (light here).
    await p.getByTestId('theme').selectOption('system');
    expect(await p.evaluate(() => document.documentElement.dataset.theme)).toBeUndefined();
    expect(await bg()).toBe('rgb(246, 247, 249)');
    expect(await fitStroke()).toBe('rgb(0, 114, 178)');
    await ctx.close();
  });
});

describe('keyboard', () => {
  let p: Page;
  beforeAll(async () => {
    p = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  });

  it('the skip link is the first stop and jumps to the content', async () => {
    await p.goto(`${BASE_URL}/?testhooks=1`);
    await p.keyboard.press('Tab');
    expect(await p.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await p.keyboard.press('Enter');
    expect(await p.evaluate(() => document.activeElement?.id)).toBe('main');
  });

  it('arrow keys select layers in the α-by-depth chart and read the selection out', async () => {
    await p.goto(`${BASE_URL}/spectra?testhooks=1&model=mnist-mlp-seed1`);
    await p.locator('[data-testid="spectra-row"][data-status="done"]').nth(2).waitFor({ timeout: 90_000 });
    const chart = p.getByTestId('alpha-depth-chart').locator('svg[tabindex="0"]');
    await chart.focus();
    await p.keyboard.press('Home');
    await p.waitForFunction(() => new URL(location.href).searchParams.get('layer') === 'fc1');
    await p.keyboard.press('ArrowRight');
    await p.waitForFunction(() => new URL(location.href).searchParams.get('layer') === 'fc2');
    const alpha = Number(await p.locator('[data-testid="spectra-row"][data-name="fc2"]').getAttribute('data-alpha'));
    expect(await p.getByTestId('alpha-depth-chart').getByTestId('chart-live').innerText()).toContain(`fc2: α ${alpha.toFixed(3)}`);
    await p.keyboard.press('End');
    await p.waitForFunction(() => new URL(location.href).searchParams.get('layer') === 'fc3');
  });

  it('arrow keys move the selection and the focus through the layer table', async () => {
    const row = (n: string) => p.locator(`[data-testid="spectra-row"][data-name="${n}"]`);
    await row('fc1').click();
    expect(await row('fc1').getAttribute('tabindex')).toBe('0');
    expect(await row('fc2').getAttribute('tabindex')).toBe('-1');
    await row('fc1').focus();
    await p.keyboard.press('ArrowDown');
    await p.waitForFunction(() => new URL(location.href).searchParams.get('layer') === 'fc2');
    await p.waitForFunction(() => document.activeElement?.getAttribute('data-name') === 'fc2');
    await p.keyboard.press('End');
    await p.waitForFunction(() => document.activeElement?.getAttribute('data-name') === 'fc3');
    expect(await row('fc3').getAttribute('aria-selected')).toBe('true');
    // Sorting is a button in each header: reachable and operable from the keyboard.
    await p.getByTestId('spectra-sort-alpha').focus();
    await p.keyboard.press('Enter');
    expect(await p.locator('th[aria-sort="descending"]').count()).toBe(1);
  });

  it('Enter zooms a quantization map, arrows move the zoom, Escape closes it', async () => {
    await p.goto(`${BASE_URL}/quantize?testhooks=1&model=mnist-mlp-seed1&layer=fc2&d=2&k=16`);
    await p.locator('[data-testid="quant-status"][data-status="done"]').waitFor({ timeout: 90_000 });
    const card = p.getByTestId('quant-map-error');
    await card.locator('svg[tabindex="0"]').focus();
    await p.keyboard.press('Enter');
    expect(await card.getAttribute('data-zoomed')).toBe('1');
    const zoom = () => new URL(p.url()).searchParams.get('zoom')!.split(',').map(Number) as [number, number];
    await p.waitForFunction(() => new URL(location.href).searchParams.get('zoom') !== null);
    const [r0, c0] = zoom();
    await p.keyboard.press('ArrowRight');
    await p.waitForFunction((c) => Number(new URL(location.href).searchParams.get('zoom')?.split(',')[1]) > c, c0);
    expect(zoom()[0]).toBe(r0);
    await p.keyboard.press('Escape');
    await p.waitForFunction(() => new URL(location.href).searchParams.get('zoom') === null);
    expect(await card.getAttribute('data-zoomed')).toBe('0');
  });
});
