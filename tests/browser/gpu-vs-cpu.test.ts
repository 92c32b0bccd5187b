import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { STATS_TOLERANCE } from '../../lib/math/tensor-stats';
import { launch, openDemo, openLanding } from './browser';

interface StatsOut {
  backend: 'webgpu' | 'cpu';
  count: number;
  finite: number;
  min: number;
  max: number;
  mean: number;
  std: number;
  zeros: number;
  nan: number;
  posInf: number;
  negInf: number;
  histogram: number[];
  adapter?: string;
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

async function stats(modelId: string, tensor: string, forceCpu: boolean): Promise<StatsOut> {
  return page.evaluate(
    ([m, t, f]) => (window as unknown as { __weightlensTest: { tensorStats(m: string, t: string, f: boolean): Promise<StatsOut> } }).__weightlensTest.tensorStats(m, t, f),
    [modelId, tensor, forceCpu] as [string, string, boolean],
  );
}

function expectAgree(gpu: StatsOut, cpu: StatsOut): void {
  expect(gpu.backend).toBe('webgpu');
  expect(cpu.backend).toBe('cpu');
  for (const k of ['count', 'finite', 'zeros', 'nan', 'posInf', 'negInf', 'min', 'max'] as const) expect(gpu[k], k).toBe(cpu[k]);
  const scale = Math.max(Math.abs(cpu.mean), cpu.std);
  expect(Math.abs(gpu.mean - cpu.mean)).toBeLessThanOrEqual(STATS_TOLERANCE.mean * scale);
  expect(Math.abs(gpu.std - cpu.std)).toBeLessThanOrEqual(STATS_TOLERANCE.std * cpu.std);
  expect(gpu.histogram).toEqual(cpu.histogram);
}

it('runs the WebGPU kernel and its CPU twin on the same tensors and they agree', async (ctx) => {
  const gpuOk = await page.evaluate(() => (window as unknown as { __weightlensTest: { gpuAvailable(): Promise<boolean> } }).__weightlensTest.gpuAvailable());
  if (!gpuOk) ctx.skip('this Chromium grants no WebGPU adapter');
  await openDemo(page, 'paddleocr-rec');
  const model = await page.evaluate(() => (window as unknown as { __weightlensTest: { models(): { id: string }[] } }).__weightlensTest.models()[0]!);
  // The three largest tensors: many workgroups, partial tiles, real weight distributions.
  await page.getByTestId('sort-params').click();
  const names = (await page.getByTestId('tensor-row').evaluateAll((rows) => rows.slice(0, 3).map((r) => r.getAttribute('data-name') ?? ''))).filter(Boolean);
  expect(names).toHaveLength(3);
  for (const name of names) {
    const gpu = await stats(model.id, name, false);
    const cpu = await stats(model.id, name, true);
    expect(gpu.count).toBeGreaterThan(1024);
    expectAgree(gpu, cpu);
  }
});

/** A safetensors file with awkward values: NaN, ±Inf, ±0, a wide range, a length that leaves a partial tile. */
function specialValuesFile(): Buffer {
  const n = 3 * 1024 + 517;
  const v = new Float32Array(n);
  let x = 12345;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    v[i] = ((x / 2 ** 32) * 2 - 1) * (i % 7 === 0 ? 1e3 : 0.05) + 0.01;
  }
  v[5] = NaN;
  v[1000] = Infinity;
  v[2000] = -Infinity;
  v[2001] = -Infinity;
  for (let i = 0; i < 40; i++) v[103 + i * 50] = i % 2 ? 0 : -0;
  const header = JSON.stringify({ odd: { dtype: 'F32', shape: [n], data_offsets: [0, 4 * n] } });
  const padded = header + ' '.repeat((8 - ((8 + header.length) % 8)) % 8);
  const out = Buffer.alloc(8 + padded.length + 4 * n);
  out.writeBigUInt64LE(BigInt(padded.length), 0);
  out.write(padded, 8, 'latin1');
  Buffer.from(v.buffer).copy(out, 8 + padded.length);
  return out;
}

it('agrees on NaN/Inf/zero counts and a partial last tile', async (ctx) => {
  const gpuOk = await page.evaluate(() => (window as unknown as { __weightlensTest: { gpuAvailable(): Promise<boolean> } }).__weightlensTest.gpuAvailable());
  if (!gpuOk) ctx.skip('this Chromium grants no WebGPU adapter');
  await page.getByTestId('file-input').setInputFiles({ name: 'special-values.safetensors', mimeType: 'application/octet-stream', buffer: specialValuesFile() });
  await page.locator('[data-testid="model-tab"][data-label="special-values.safetensors"][data-status="ready"]').waitFor({ timeout: 30_000 });
  const models = await page.evaluate(() => (window as unknown as { __weightlensTest: { models(): { id: string; label: string }[] } }).__weightlensTest.models());
  const id = models.find((m) => m.label === 'special-values.safetensors')!.id;
  const gpu = await stats(id, 'odd', false);
  const cpu = await stats(id, 'odd', true);
  expect(cpu).toMatchObject({ nan: 1, posInf: 1, negInf: 2, zeros: 40, count: 3 * 1024 + 517 });
  expectAgree(gpu, cpu);
});

it('shows the backend that ran and recomputes on the CPU when "Force CPU" is on (?cpu=1)', async () => {
  const gpuOk = await page.evaluate(() => (window as unknown as { __weightlensTest: { gpuAvailable(): Promise<boolean> } }).__weightlensTest.gpuAvailable());
  if ((await page.getByTestId('model-tab').count()) === 0) await openDemo(page, 'paddleocr-rec');
  const row = page.getByTestId('tensor-row').first();
  await row.click();
  await page.locator('[data-testid="stats-panel"][data-status="done"]').waitFor({ timeout: 60_000 });
  expect(await page.getByTestId('stats-backend').getAttribute('data-backend')).toBe(gpuOk ? 'webgpu' : 'cpu');
  await page.getByTestId('force-cpu').check();
  expect(new URL(page.url()).searchParams.get('cpu')).toBe('1');
  await page.waitForFunction(() => document.querySelector('[data-testid="stats-backend"]')?.getAttribute('data-backend') === 'cpu', undefined, { timeout: 60_000 });
  await page.locator('[data-testid="stats-panel"][data-status="done"]').waitFor({ timeout: 60_000 });
  // The setting is a permalink: a fresh page with ?cpu=1 starts with the toggle on.
  const again = await openLanding(browser, '&cpu=1');
  await again.waitForFunction(() => (document.querySelector('[data-testid="force-cpu"]') as HTMLInputElement | null)?.checked === true);
  await again.close();
});
