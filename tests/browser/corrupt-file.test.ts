import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launch, openDemo, openLanding } from './browser';

/**
 * A file that claims to be safetensors but whose header length points past its end: the error
 * must name the file, and the model opened before it must keep working.
 */
function corruptSafetensors(): Buffer {
  const header = Buffer.from('{"w":{"dtype":"F32","shape":[4,4],"data_offsets":[0,64]}}');
  const out = Buffer.alloc(8 + header.length + 16);
  out.writeBigUInt64LE(BigInt(header.length), 0);
  header.copy(out, 8);
  return out; // 16 data bytes where the header promises 64
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

it('shows a corrupt file’s error naming it while the other open model stays usable', async () => {
  await openDemo(page, 'silero-vad');
  await page.getByTestId('file-input').setInputFiles({ name: 'broken-model.safetensors', mimeType: 'application/octet-stream', buffer: corruptSafetensors() });
  const errTab = page.locator('[data-testid="model-tab"][data-label="broken-model.safetensors"][data-status="error"]');
  await errTab.waitFor({ timeout: 30_000 });
  const panel = page.getByTestId('model-error');
  await panel.waitFor();
  const text = await panel.innerText();
  expect(text).toContain('broken-model.safetensors');
  expect(text).toContain('FormatError');

  // Back to the first model: its table and stats still work.
  await page.getByTestId('model-tab').first().click();
  await page.getByTestId('tensor-table').waitFor();
  const row = page.getByTestId('tensor-row').first();
  await row.click();
  await page.locator('[data-testid="stats-panel"][data-status="done"]').waitFor({ timeout: 60_000 });
  expect(Number(await page.getByTestId('tensor-count').getAttribute('data-count'))).toBeGreaterThan(0);

  // A second corrupt file (not a checkpoint at all) opens its own error tab, leaving the others alone.
  await page.getByTestId('file-input').setInputFiles({ name: 'notes.onnx', mimeType: 'application/octet-stream', buffer: Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]) });
  await page.locator('[data-testid="model-tab"][data-label="notes.onnx"][data-status="error"]').waitFor({ timeout: 30_000 });
  expect(await page.getByTestId('model-error').innerText()).toContain('notes.onnx');
  expect(await page.locator('[data-testid="model-tab"][data-status="ready"]').count()).toBe(1);
});
