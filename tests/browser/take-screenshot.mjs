#!/usr/bin/env node
/**
 * Regenerates docs/screenshot.png (the README's picture): serves the built app (.next must exist),
 * opens the PaddleOCR demo model, selects a large tensor so its statistics and histogram show.
 * Usage: node tests/browser/take-screenshot.mjs [out.png]
 */
import { spawn } from 'node:child_process';
import { chromium } from 'playwright-core';

const PORT = 3101;
// Same flags as tests/browser/browser.ts.
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--enable-unsafe-webgpu'];
const out = process.argv[2] ?? 'docs/screenshot.png';
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
  const page = await browser.newPage({ viewport: { width: 1440, height: 1560 } });
  await page.goto(`http://127.0.0.1:${PORT}/`);
  await page.getByTestId('demo-paddleocr-rec').click();
  await page.locator('[data-testid="model-tab"][data-status="ready"]').waitFor();
  await page.getByTestId('sort-params').click();
  await page.getByTestId('tensor-row').nth(2).click();
  await page.locator('[data-testid="stats-panel"][data-status="done"]').waitFor();
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForTimeout(300);
  await page.screenshot({ path: out });
  await browser.close();
  console.log(`wrote ${out}`);
} finally {
  srv.kill();
}
