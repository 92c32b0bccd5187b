import { chromium, type Browser, type Page } from 'playwright-core';

/** The system Chromium (Debian's /usr/bin/chromium), headless, with WebGPU exposed where it can be. */
export const BASE_URL = `http://127.0.0.1:${process.env.WEIGHTLENS_TEST_PORT ?? 3100}`;

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--enable-unsafe-webgpu',
];

export async function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: process.env.WEIGHTLENS_CHROMIUM ?? process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/** Opens the landing page with the test hooks on and waits for the demo list. */
export async function openLanding(browser: Browser, query = ''): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(`${BASE_URL}/?testhooks=1${query}`);
  await page.getByTestId('demo-models').locator('button').first().waitFor();
  return page;
}

/** Clicks a demo model and waits until its tab is ready (or failed). */
export async function openDemo(page: Page, id: string): Promise<void> {
  const before = await page.getByTestId('model-tab').count();
  await page.getByTestId(`demo-${id}`).click();
  await page.locator(`[data-testid="model-tab"]:nth-child(${before + 1}):not([data-status="opening"])`).waitFor({ timeout: 60_000 });
}
