#!/usr/bin/env node
/**
 * Regenerates docs/spectra.png: serves the built app (.next must exist), opens the Spectra view
 * on the PaddleOCR detector demo with one layer selected, waits for the whole model, screenshots.
 * Usage: node tests/browser/spectra-screenshot.mjs [out.png] [layer]
 */
import { spawn } from 'node:child_process';
import { chromium } from 'playwright-core';

const PORT = 3103;
// Same flags as tests/browser/browser.ts.
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--enable-unsafe-webgpu'];
const out = process.argv[2] ?? 'docs/spectra.png';
const layer = process.argv[3] ?? 'conv2d_405.w_0';
const srv = spawn(process.execPath, ['node_modules/next/dist/bin/next', 'start', '-p', String(PORT)], { stdio: 'ignore' });
try {
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${PORT}/`)).ok) break;
    } catch {
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: [...CHROMIUM_ARGS, '--hide-scrollbars'] });
  const page = await browser.newPage({ viewport: { width: 1440, height: 1500 } });
  await page.goto(`http://127.0.0.1:${PORT}/spectra?model=paddleocr-det&layer=${encodeURIComponent(layer)}`);
  await page.locator('[data-testid="spectra-view"][data-status="done"]').waitFor({ timeout: 120_000 });
  await page.locator(`[data-testid="esd-chart"][data-layer="${layer}"]`).waitFor();
  await page.waitForTimeout(400);
  await page.screenshot({ path: out, fullPage: true });
  await browser.close();
  console.log(`wrote ${out}`);
} finally {
  srv.kill();
}
