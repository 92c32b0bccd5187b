import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inferMlpSpec } from '../../lib/analysis/merge/infer-mlp-spec';
import { applyPermutation } from '../../lib/analysis/merge/apply-permutation';
import { weightMatching } from '../../lib/analysis/merge/weight-matching';
import type { NamedTensor } from '../../lib/analysis/merge/permutation-spec';
import { openModel } from '../../lib/formats/registry';
import { memorySource, singleFileModel } from '../../lib/io/byte-source';
import { BASE_URL, launch } from './browser';

/**
 * The Merge view on the MNIST demos, as a new user would use it: the two seeds show a loss barrier
 * that shrinks after weight matching (the permutation and distances as the engine computes them
 * here), and the two fine-tunes merged by task arithmetic and TIES over their base are compared
 * with each fine-tune on its own digits. Curves run in onnxruntime-web in the inference worker.
 */

const root = path.resolve(import.meta.dirname, '..', '..');
const mnist = (f: string) => path.join(root, 'public', 'models', 'mnist', f);
async function tensorsOf(file: string): Promise<NamedTensor[]> {
  const src = await openModel(singleFileModel(memorySource(new Uint8Array(readFileSync(mnist(file))), file)));
  return Promise.all(src.tensors.map(async (t) => ({ name: t.name, shape: t.shape, data: await src.read(t.name) })));
}
const l2 = (x: NamedTensor[], y: NamedTensor[]) => Math.sqrt(x.reduce((s, t, i) => s + t.data.reduce((q, v, j) => q + (v - y[i]!.data[j]!) ** 2, 0), 0));

let browser: Browser;
let page: Page;
beforeAll(async () => {
  browser = await launch();
  page = await browser.newPage({ viewport: { width: 1400, height: 1200 } });
});
afterAll(async () => {
  await browser?.close();
});

describe('Merge view', () => {
  it('matches seed 2 onto seed 1 as the engine does: same distances before and after', async () => {
    await page.goto(`${BASE_URL}/merge?testhooks=1&a=mnist-mlp-seed1&b=mnist-mlp-seed2`);
    await page.locator('[data-testid="merge-view"][data-status="done"]').waitFor({ timeout: 90_000 });
    const a = await tensorsOf('mlp-seed1.safetensors');
    const b = await tensorsOf('mlp-seed2.safetensors');
    const spec = inferMlpSpec(a);
    const m = weightMatching(a, b, spec, { seed: 0 });
    const summary = page.getByTestId('merge-summary');
    expect(Number(await summary.getAttribute('data-paired'))).toBe(6);
    expect(Number(await summary.getAttribute('data-l2-before'))).toBeCloseTo(l2(a, b), 6);
    expect(Number(await summary.getAttribute('data-l2-after'))).toBeCloseTo(l2(a, applyPermutation(b, spec, m.perms)), 6);
    expect(Number(await page.getByTestId('merge-permutation').getAttribute('data-size'))).toBe(128);
    // One layer's weight-space curve: at α = 0 the distance to B is ‖A − B‖ of that layer.
    await page.getByTestId('merge-curve-layer').selectOption('fc1.weight');
    const fc1 = a.findIndex((t) => t.name === 'fc1.weight');
    const d0 = await page.getByTestId('merge-weight-space').locator('[data-testid="line-point"][data-series="‖θ(α) − B‖ naive"][data-x="0"]').getAttribute('data-y');
    expect(Number(d0)).toBeCloseTo(l2([a[fc1]!], [b[fc1]!]), 5);
  });

  it('downloads the merged model and the matched B: the midpoint and the engine’s permutation', async () => {
    const downloads: import('playwright-core').Download[] = [];
    page.on('download', (d) => downloads.push(d));
    await page.getByTestId('merge-export-run').click();
    await page.locator('[data-testid="merge-export"][data-status="done"]').waitFor({ timeout: 120_000 });
    await expect.poll(() => downloads.length, { timeout: 30_000 }).toBe(2);
    page.removeAllListeners('download');
    const files = new Map(await Promise.all(downloads.map(async (d) => [d.suggestedFilename(), readFileSync((await d.path())!)] as const)));
    const read = async (suffix: string) => {
      const name = [...files.keys()].find((n) => n.endsWith(suffix))!;
      const src = await openModel(singleFileModel(memorySource(new Uint8Array(files.get(name)!), name)));
      return new Map(await Promise.all(src.tensors.map(async (t) => [t.name, await src.read(t.name)] as const)));
    };
    const merged = await read('-linear.safetensors');
    const matched = await read('-matched-to-mlp-seed1.safetensors');
    const a = await tensorsOf('mlp-seed1.safetensors');
    const b = await tensorsOf('mlp-seed2.safetensors');
    const spec = inferMlpSpec(a);
    const perm = applyPermutation(b, spec, weightMatching(a, b, spec, { seed: 0 }).perms);
    for (const [i, t] of a.entries()) {
      const want = t.data.map((v, j) => Math.fround(0.5 * v + 0.5 * b[i]!.data[j]!));
      expect(merged.get(t.name), t.name).toEqual(want);
      expect(matched.get(t.name), t.name).toEqual(perm[i]!.data);
    }
  });

  it('the loss barrier between the seeds shrinks after weight matching (25 points each, onnxruntime-web)', async () => {
    await page.getByTestId('merge-function-run').click();
    await page.locator('[data-testid="merge-function"][data-status="done"]').waitFor({ timeout: 180_000 });
    const f = page.getByTestId('merge-function');
    const naive = Number(await f.getAttribute('data-barrier-naive'));
    const matched = Number(await f.getAttribute('data-barrier-matched'));
    console.log(`merge: barrier naive ${naive.toFixed(4)}, matched ${matched.toFixed(4)}; naive 25-point curve ${Number(await f.getAttribute('data-naive-ms')).toFixed(0)} ms (logged, not asserted)`);
    expect(naive).toBeGreaterThan(0.1);
    expect(matched).toBeLessThan(naive / 4);
    // The path's ends are the models themselves: their recorded accuracy.
    const pts = await page.getByTestId('merge-accuracy').getByTestId('line-point').evaluateAll((els) => els.map((e) => ({ s: e.getAttribute('data-series'), x: Number(e.getAttribute('data-x')), y: Number(e.getAttribute('data-y')) })));
    const naivePts = pts.filter((p) => p.s === 'naive');
    expect(naivePts.length).toBe(25);
    expect(naivePts[0]!.y).toBeCloseTo(0.9475, 4);
  });

  it('merges the two fine-tunes over their base with task arithmetic and TIES, each judged on its own digits', async () => {
    await page.goto(`${BASE_URL}/merge?testhooks=1&a=mnist-mlp-ft-low&b=mnist-mlp-ft-high&base=mnist-mlp-base&method=ta&match=0`);
    await page.locator('[data-testid="merge-view"][data-status="done"]').waitFor({ timeout: 90_000 });
    await page.getByTestId('merge-function-run').click();
    await page.locator('[data-testid="merge-function"][data-status="done"]').waitFor({ timeout: 180_000 });
    const rows = async () =>
      page.locator('[data-testid="merge-eval-table"] tr[data-role]').evaluateAll((els) => els.map((e) => ({ role: e.getAttribute('data-role')!, acc: Number(e.getAttribute('data-accuracy')), low: Number(e.getAttribute('data-low')), high: Number(e.getAttribute('data-high')) })));
    const ta = await rows();
    const [low, high, merged] = ta;
    // Each fine-tune is best on the digits it was tuned on; the merge keeps both better than the other fine-tune does.
    expect(low!.low).toBeGreaterThan(high!.low);
    expect(high!.high).toBeGreaterThan(low!.high);
    expect(merged!.role).toBe('merged (ta)');
    expect(merged!.acc).toBeGreaterThan(Math.min(low!.acc, high!.acc));
    console.log(`merge: fine-tunes (acc, 0–4, 5–9): low ${JSON.stringify(low)}, high ${JSON.stringify(high)}, task arithmetic ${JSON.stringify(merged)}`);
    await page.getByTestId('merge-method').selectOption('ties');
    // The TIES analysis (after the settings debounce) brings the sign-conflict chart.
    await page.getByTestId('merge-conflicts').waitFor({ timeout: 90_000 });
    await page.locator('[data-testid="merge-view"][data-status="done"]').waitFor({ timeout: 90_000 });
    expect(Number(await page.getByTestId('merge-conflicts').getAttribute('data-rows'))).toBe(6);
    await page.getByTestId('merge-function-run').click();
    await page.locator('[data-testid="merge-function"][data-status="done"]').waitFor({ timeout: 180_000 });
    const ties = (await rows())[2]!;
    expect(ties.role).toBe('merged (ties)');
    console.log(`merge: TIES ${JSON.stringify(ties)}`);
    expect(ties.acc).toBeGreaterThan(0.5);
  });

  it('is a permalink and exports its charts', async () => {
    const url = new URL(page.url());
    expect(url.searchParams.get('method')).toBe('ties');
    expect(url.searchParams.get('base')).toBe('mnist-mlp-base');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('merge-loss').getByTestId('export-svg').click()]);
    expect(download.suggestedFilename()).toMatch(/merge-loss\.svg$/);
  });
});
