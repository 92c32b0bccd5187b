import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { launch, openLanding } from './browser';

/** A two-shard safetensors checkpoint with its index, written byte by byte into a folder. */
function shard(tensors: Record<string, number[]>): Buffer {
  const header: Record<string, unknown> = {};
  let off = 0;
  for (const [name, data] of Object.entries(tensors)) {
    header[name] = { dtype: 'F32', shape: [data.length], data_offsets: [off, off + 4 * data.length] };
    off += 4 * data.length;
  }
  const json = JSON.stringify(header);
  const out = Buffer.alloc(8 + json.length + off);
  out.writeBigUInt64LE(BigInt(json.length), 0);
  out.write(json, 8, 'latin1');
  let p = 8 + json.length;
  for (const data of Object.values(tensors)) {
    Buffer.from(Float32Array.from(data).buffer).copy(out, p);
    p += 4 * data.length;
  }
  return out;
}

let dir: string;
let browser: Browser;
let page: Page;
beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'wl-folder-'));
  const model = path.join(dir, 'tiny-sharded');
  mkdirSync(model);
  writeFileSync(path.join(model, 'model-00001-of-00002.safetensors'), shard({ 'a.weight': [1, 2, 3, 4], 'a.bias': [0, 1] }));
  writeFileSync(path.join(model, 'model-00002-of-00002.safetensors'), shard({ 'b.weight': [5, 6, 7, 8, 9, 10] }));
  const weight_map = { 'a.weight': 'model-00001-of-00002.safetensors', 'a.bias': 'model-00001-of-00002.safetensors', 'b.weight': 'model-00002-of-00002.safetensors' };
  writeFileSync(path.join(model, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map }));
  writeFileSync(path.join(model, 'config.json'), '{}');
  browser = await launch();
  page = await openLanding(browser);
});
afterAll(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

it('opens a picked folder as one sharded model, keeping relative paths', async () => {
  await page.getByTestId('folder-input').setInputFiles(path.join(dir, 'tiny-sharded'));
  const tab = page.locator('[data-testid="model-tab"][data-label="tiny-sharded/"]');
  await tab.waitFor();
  await page.locator('[data-testid="model-tab"][data-label="tiny-sharded/"]:not([data-status="opening"])').waitFor({ timeout: 30_000 });
  expect(await tab.getAttribute('data-status')).toBe('ready');
  expect(Number(await page.getByTestId('tensor-count').getAttribute('data-count'))).toBe(3);
  // A tensor from the second shard reads through its sibling file.
  await page.locator('[data-testid="tensor-row"][data-name="b.weight"]').click();
  await page.locator('[data-testid="stats-panel"][data-status="done"]').waitFor({ timeout: 30_000 });
  expect(await page.getByTestId('stat-max').innerText()).toBe('10.00');
  expect(await page.getByTestId('stat-min').innerText()).toBe('5.000');
});
