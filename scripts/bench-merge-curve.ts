/**
 * The Merge view's function-space curve timed in Chromium: /merge on the MNIST seeds, 25 points of
 * θ(α) each evaluated on the 2,000-image evaluation set by onnxruntime-web in the inference worker
 * (the weights built in a compute worker). Serves the existing build (`npm run build` first) with
 * `next start` on a free port. Prints each run and the medians of the first curve in a fresh tab
 * (cold: includes the onnxruntime session and evaluation-set load) and of a second curve in the
 * same tab (warm). Figures are printed, never asserted.
 *   npx tsx scripts/bench-merge-curve.ts [--runs N]
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch } from '../tests/browser/browser';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export async function benchMergeCurve(runs = 3, log: (s: string) => void = console.log): Promise<{ coldMs: number[]; warmMs: number[] }> {
  if (!existsSync(path.join(ROOT, '.next', 'BUILD_ID'))) throw new Error('no build: run `npm run build` first');
  const port = await freePort();
  const server = spawn(process.execPath, [path.join(ROOT, 'node_modules', 'next', 'dist', 'bin', 'next'), 'start', '-p', String(port)], { cwd: ROOT, stdio: 'ignore' });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(base)).ok) break;
    } catch {
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  const browser = await launch();
  const coldMs: number[] = [];
  const warmMs: number[] = [];
  try {
    for (let r = 0; r < runs; r++) {
      const page = await browser.newPage();
      await page.goto(`${base}/merge?a=mnist-mlp-seed1&b=mnist-mlp-seed2&match=0&points=25`);
      await page.locator('[data-testid="merge-view"][data-status="done"]').waitFor({ timeout: 120_000 });
      for (const bucket of [coldMs, warmMs]) {
        await page.getByTestId('merge-function-run').click();
        await page.locator('[data-testid="merge-function"][data-status="done"]').waitFor({ timeout: 120_000 });
        bucket.push(Number(await page.getByTestId('merge-function').getAttribute('data-naive-ms')));
      }
      log(`  merge curve: run ${r + 1}/${runs}: cold ${(coldMs.at(-1)! / 1000).toFixed(2)} s, warm ${(warmMs.at(-1)! / 1000).toFixed(2)} s`);
      await page.close();
    }
  } finally {
    await browser.close();
    server.kill('SIGTERM');
  }
  log(`25-point loss/accuracy curve in Chromium (MNIST seeds, 2,000 images, onnxruntime-web wasm): median cold ${(median(coldMs) / 1000).toFixed(2)} s, warm ${(median(warmMs) / 1000).toFixed(2)} s of ${runs} (target < 5 s)`);
  return { coldMs, warmMs };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const i = process.argv.indexOf('--runs');
  await benchMergeCurve(i >= 0 ? Number(process.argv[i + 1]) || 3 : 3);
}
