/**
 * WebGPU k-means in Chromium: bundles scripts/bench-webgpu-kmeans.page.ts (lib/gpu/kmeans-gpu.ts)
 * with esbuild, serves it and a seeded synthetic layer from a throwaway local server, and times
 * kmeansGpu in /usr/bin/chromium (headless, --enable-unsafe-webgpu). Prints every run, the median,
 * the adapter, and whether the result matches the CPU kmeans (TypeScript kernel) run in Node.
 *   npx tsx scripts/bench-webgpu-kmeans.ts                 # 3072×768 layer, k = 256, d = 4, 20 iterations, 3 runs
 *   npx tsx scripts/bench-webgpu-kmeans.ts --runs 5 --no-cpu
 * Without a hardware GPU Chromium runs WebGPU on SwiftShader (Vulkan emulated on the CPU), so the
 * timings then measure the emulation, not a GPU. Figures are printed, never asserted.
 * scripts/bench.ts can call benchWebgpuKmeans() directly.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { Rng } from '../lib/base/rng';
import { kmeans, type KmeansOptions } from '../lib/math/kmeans';
import { CHROMIUM_ARGS } from '../tests/browser/browser';
import { fnv1a, type BenchPageConfig, type BenchPageResult } from './bench-webgpu-kmeans.page';

const HERE = path.dirname(fileURLToPath(import.meta.url));

export interface BenchWebgpuKmeansOptions {
  /** Timed kmeansGpu runs in the page (default 3). */
  runs?: number;
  /** Layer shape (default 3072 × 768, a GPT-2 MLP weight); sub-vectors run along rows. */
  rows?: number;
  cols?: number;
  d?: number;
  k?: number;
  /** Lloyd updates per run (default 20; tol = 0 so every run does all of them unless one stops improving). */
  maxIter?: number;
  seed?: number;
  /** Also run the CPU kmeans in Node for the comparison (default true). */
  cpuReference?: boolean;
  chromiumPath?: string;
  /** Where progress lines go (default console.log). */
  log?: (line: string) => void;
}

export interface BenchWebgpuKmeansResult {
  adapter: string;
  adapterInfo: Record<string, string>;
  /** True when the adapter is SwiftShader, i.e. the timings measure CPU emulation. */
  swiftShader: boolean;
  shape: { rows: number; cols: number; n: number; d: number; k: number; maxIter: number };
  timesMs: number[];
  medianMs: number;
  gpuObjective: number;
  iterations: number;
  cpu?: {
    ms: number;
    objective: number;
    /** |gpu − cpu| / cpu. */
    relDiff: number;
    /** Objective within 1e-5 relative. */
    match: boolean;
    /** Same assignment and codebook bit for bit. */
    identical: boolean;
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The seeded synthetic layer: N(0, 0.02²) weights, the scale of a GPT-2 linear layer. */
export function syntheticLayer(rows: number, cols: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const w = new Float32Array(rows * cols);
  for (let i = 0; i < w.length; i++) w[i] = 0.02 * rng.normal();
  return w;
}

async function bundlePage(): Promise<string> {
  const out = await build({
    entryPoints: [path.join(HERE, 'bench-webgpu-kmeans.page.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  return out.outputFiles[0]!.text;
}

function serve(js: string, layer: Float32Array): Promise<Server> {
  const html = '<!doctype html><meta charset="utf-8"><title>bench-webgpu-kmeans</title><script type="module" src="/bench.js"></script>';
  const layerBytes = Buffer.from(layer.buffer, layer.byteOffset, layer.byteLength);
  const server = createServer((req, res) => {
    if (req.url === '/') res.writeHead(200, { 'content-type': 'text/html' }).end(html);
    else if (req.url === '/bench.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
    else if (req.url === '/layer.bin') res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(layerBytes);
    else res.writeHead(404).end();
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

export async function benchWebgpuKmeans(opts: BenchWebgpuKmeansOptions = {}): Promise<BenchWebgpuKmeansResult> {
  const log = opts.log ?? ((s: string) => console.log(s));
  const rows = opts.rows ?? 3072;
  const cols = opts.cols ?? 768;
  const d = opts.d ?? 4;
  const k = opts.k ?? 256;
  const maxIter = opts.maxIter ?? 20;
  const seed = opts.seed ?? 1;
  const runs = Math.max(1, opts.runs ?? 3);
  if (cols % d !== 0) throw new Error(`bench-webgpu-kmeans: cols = ${cols} is not a multiple of d = ${d}`);
  const n = (rows * cols) / d;
  const layer = syntheticLayer(rows, cols, seed);
  const js = await bundlePage();
  const server = await serve(js, layer);
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  let page: BenchPageResult;
  const browser = await chromium.launch({ executablePath: opts.chromiumPath ?? process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
  try {
    const tab = await browser.newPage();
    await tab.goto(url);
    await tab.waitForFunction(() => 'runWebgpuKmeansBench' in window);
    const cfg: BenchPageConfig = { n, d, k, maxIter, seed, runs };
    log(`Chromium ${browser.version()}: ${runs} run(s) of kmeansGpu, ${rows}×${cols} layer as ${n} sub-vectors of ${d}, k = ${k}, ${maxIter} iterations`);
    page = await tab.evaluate(
      (c) => (window as unknown as { runWebgpuKmeansBench(c: BenchPageConfig): Promise<BenchPageResult> }).runWebgpuKmeansBench(c),
      cfg,
    );
  } finally {
    await browser.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  if (page.error || !page.timesMs || page.objective === undefined) throw new Error(`bench-webgpu-kmeans: the page failed: ${page.error ?? 'no result'}`);
  const adapterInfo = page.adapterInfo ?? {};
  const adapter = page.adapter ?? 'unknown adapter';
  const swiftShader = /swiftshader/i.test(`${adapter} ${Object.values(adapterInfo).join(' ')}`);
  const result: BenchWebgpuKmeansResult = {
    adapter,
    adapterInfo,
    swiftShader,
    shape: { rows, cols, n, d, k, maxIter },
    timesMs: page.timesMs,
    medianMs: median(page.timesMs),
    gpuObjective: page.objective,
    iterations: page.iterations ?? 0,
  };
  log(`adapter: ${adapter}${swiftShader ? ' (SwiftShader: CPU emulation, not a GPU)' : ''}; info ${JSON.stringify(adapterInfo)}; limits ${JSON.stringify(page.limits)}`);
  log(`kmeansGpu runs (ms): ${page.timesMs.map((t) => t.toFixed(0)).join(', ')}; median ${result.medianMs.toFixed(0)} ms; ${result.iterations} iterations, objective ${page.objective}`);
  if (opts.cpuReference ?? true) {
    // The reference: the CPU kmeans with its TypeScript kernel.
    const cpuOpts: KmeansOptions = { seed, maxIter, tol: 0, kernel: 'ts' };
    const t0 = performance.now();
    const c = kmeans(layer, n, d, k, cpuOpts);
    const ms = performance.now() - t0;
    const relDiff = Math.abs(page.objective - c.objective) / c.objective;
    const identical = fnv1a(c.assign) === page.assignHash && fnv1a(c.codebook) === page.codebookHash && c.objective === page.objective;
    result.cpu = { ms, objective: c.objective, relDiff, match: relDiff <= 1e-5, identical };
    log(
      `CPU kmeans (TypeScript kernel, Node, 1 run): ${ms.toFixed(0)} ms, objective ${c.objective}; ` +
        `GPU vs CPU: relative difference ${relDiff.toExponential(2)} (${result.cpu.match ? 'match' : 'MISMATCH'} at 1e-5), ` +
        `${identical ? 'identical assignment and codebook' : 'assignment or codebook differ'}`,
    );
  }
  return result;
}

function argValue(args: string[], name: string): number | undefined {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : undefined;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  console.log(`load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  benchWebgpuKmeans({
    runs: argValue(args, '--runs'),
    k: argValue(args, '--k'),
    d: argValue(args, '--d'),
    maxIter: argValue(args, '--iterations'),
    cpuReference: !args.includes('--no-cpu'),
  }).catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
