/**
 * The WebGPU nearest-codeword kernel and kmeansGpu in Node through Dawn (the `webgpu` package), on
 * whatever adapter Dawn finds: a real GPU where a Vulkan driver is installed, else SwiftShader
 * (run through vitest's environment: LD_LIBRARY_PATH=/usr/lib/chromium
 * VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json). The Chromium figures come from
 * scripts/bench-webgpu-kmeans.ts; this one exists for machines without a browser, e.g. a GPU server:
 *   SCALE=0.05 npx tsx scripts/bench-webgpu-kmeans.node.ts     # sizes × 0.05 (SwiftShader is slow)
 * Without node_modules there: bundle it (npx esbuild scripts/bench-webgpu-kmeans.node.ts --bundle
 * --platform=node --format=esm --external:webgpu --outfile=run.mjs), copy node_modules/webgpu/dist/
 * linux-x64/dawn.node along and set DAWN_NODE to its path. Prints: refined indices vs the float64
 * CPU twin (must be 0 differences), the kernel's own near-tie counts, a GPT-2 wte-sized streaming
 * search, k = 65536 throughput, and kmeansGpu vs the CPU kmeans on the 3072 × 768 bench layer.
 */
import { createRequire } from 'node:module';
import { Rng } from '../lib/base/rng';
import { kmeansGpu } from '../lib/gpu/kmeans-gpu';
import { createNearestCodewordSearch, nearestCodewordsGpu } from '../lib/gpu/nearest-codeword-gpu';
import { kmeans, kmeansPlusPlus } from '../lib/math/kmeans';
import { nearestCodewords } from '../lib/math/nearest-codeword';

interface Dawn {
  create(flags: string[]): GPU;
  globals: Record<string, unknown>;
}
const require = createRequire(import.meta.url);
const dawn: Dawn = process.env.DAWN_NODE ? (require(process.env.DAWN_NODE) as Dawn) : ((await import('webgpu')) as unknown as Dawn);
const { create, globals } = dawn;
Object.assign(globalThis, globals);
const keep: unknown[] = [];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const normals = (seed: number, len: number, s = 1): Float32Array => {
  const r = new Rng(seed);
  return Float32Array.from({ length: len }, () => s * r.normal());
};
const log = (...a: unknown[]) => console.log(...a);
const S = Number(process.env.SCALE ?? 1);

async function main(): Promise<void> {
  const gpu = create([]);
  keep.push(gpu);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('no adapter');
  const info = adapter.info;
  log('adapter', JSON.stringify({ vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description }));
  const device: GPUDevice = await adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: Math.min(adapter.limits.maxStorageBufferBindingSize, 2 ** 30),
      maxBufferSize: Math.min(adapter.limits.maxBufferSize, 2 ** 30),
    },
  });
  log('limits', device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize, device.limits.maxComputeWorkgroupsPerDimension);

  // 1. Correctness sweep: refined indices equal the CPU twin; raw (kernel alone) near-tie count.
  for (const d of S < 1 ? [3] : [2, 3, 5, 8]) {
    const n = 5001, k = 1000;
    const x = normals(100 + d, n * d), cb = normals(200 + d, k * d);
    const parts: string[] = [];
    for (let m = 1; m <= 4; m++) {
      const cpu = nearestCodewords(x, n, d, cb, k, m);
      const g = await nearestCodewordsGpu(device, x, n, d, cb, k, m);
      const raw = await nearestCodewordsGpu(device, x, n, d, cb, k, m, undefined, { refine: false });
      let diff = 0, rawDiff = 0, worst = 0;
      for (let i = 0; i < n * m; i++) {
        if (g.indices[i] !== cpu.indices[i]) diff++;
        if (raw.indices[i] !== cpu.indices[i]) rawDiff++;
        const row = Math.floor(i / m);
        let xn = 0, cn = 0;
        for (let t = 0; t < d; t++) { xn += x[row * d + t]! ** 2; cn += cb[cpu.indices[i]! * d + t]! ** 2; }
        worst = Math.max(worst, Math.abs(raw.distances[i]! - cpu.distances[i]!) / (xn + cn));
      }
      parts.push(`m${m}: refined≠cpu ${diff}, raw≠cpu ${rawDiff}, flagged ${g.nearTieRows}, dist err ${worst.toExponential(1)}`);
    }
    log(`sweep d=${d} n=5001 k=1000 | ${parts.join(' | ')}`);
  }

  // 2. Streaming a GPT-2 wte-sized layer: 50257 × 768 as 9.65 M sub-vectors of 4, k = 256.
  {
    const rows = Math.floor(50257 * S), cols = 768, d = 4, k = 256, n = (rows * cols) / d;
    const w = normals(5, rows * cols, 0.02);
    const cb = kmeansPlusPlus(w.subarray(0, Math.floor(200000 * S) * d), Math.floor(200000 * S), d, k, new Rng(1));
    const ts: number[] = [];
    let r = await nearestCodewordsGpu(device, w, n, d, cb, k, 1);
    for (let i = 0; i < 3; i++) { const t0 = performance.now(); r = await nearestCodewordsGpu(device, w, n, d, cb, k, 1); ts.push(performance.now() - t0); }
    const rp = await createNearestCodewordSearch(device, w, n, d, k, 1);
    log(`wte stream n=${n} k=${k} d=${d}: rowsPerDispatch ${rp.rowsPerDispatch}, runs ms ${ts.map((t) => t.toFixed(0)).join(',')}, median ${median(ts).toFixed(0)} ms, flagged ${r.nearTieRows}`);
    rp.destroy();
    // Check a strided sample of rows against the CPU twin.
    const step = 97, ns = Math.floor(n / step);
    const xs = new Float32Array(ns * d);
    for (let i = 0; i < ns; i++) xs.set(w.subarray(i * step * d, i * step * d + d), i * d);
    const cpu = nearestCodewords(xs, ns, d, cb, k, 1);
    let diff = 0;
    for (let i = 0; i < ns; i++) if (cpu.indices[i] !== r.indices[i * step]) diff++;
    log(`wte sample of ${ns} rows: ${diff} index differences from the CPU twin`);
    const t0 = performance.now(); nearestCodewords(w.subarray(0, Math.floor(1_000_000 * S) * d), Math.floor(1_000_000 * S), d, cb, k, 1); log(`CPU twin on 1M rows: ${(performance.now() - t0).toFixed(0)} ms`);
  }

  // 3. Large codebook: k = 65536, d = 8 and 4, 100k rows, nNearest 1..4; kernel alone (refine off) and refined.
  for (const d of [8, 4]) {
    const n = Math.floor(100_000 * S), k = 65536;
    const x = normals(7, n * d), cb = normals(8, k * d);
    const cpu = nearestCodewords(x.subarray(0, 2000 * d), 2000, d, cb, k, 4);
    for (let m = 1; m <= 4; m++) {
      await nearestCodewordsGpu(device, x.subarray(0, 1000 * d), 1000, d, cb, k, m, undefined, { refine: false }); // compile
      let t0 = performance.now();
      const raw = await nearestCodewordsGpu(device, x, n, d, cb, k, m, undefined, { refine: false });
      const rawMs = performance.now() - t0;
      t0 = performance.now();
      const g = await nearestCodewordsGpu(device, x, n, d, cb, k, m);
      const ms = performance.now() - t0;
      let diff = 0;
      for (let i = 0; i < 2000; i++) for (let q = 0; q < m; q++) if (cpu.indices[i * 4 + q] !== g.indices[i * m + q]) diff++;
      log(`k=65536 d=${d} n=${n} nNearest=${m}: kernel ${rawMs.toFixed(0)} ms (${((n * k * d) / rawMs / 1e6).toFixed(1)} GMAC/s), refined ${ms.toFixed(0)} ms, flagged ${g.nearTieRows} (raw ${raw.nearTieRows}), first 2000 rows: ${diff} index differences`);
    }
  }

  // 4. The bench shape: kmeansGpu 3072 × 768, k = 256, d = 4, 20 iterations, 3 runs; CPU kmeans (ts) once.
  {
    const rows = Math.floor(3072 * S), cols = 768, d = 4, k = 256, n = (rows * cols) / d;
    const rng = new Rng(1);
    const w = new Float32Array(rows * cols);
    for (let i = 0; i < w.length; i++) w[i] = 0.02 * rng.normal();
    const s = await createNearestCodewordSearch(device, w, n, d, k, 1, { resident: true });
    const cb = kmeansPlusPlus(w, n, d, k, new Rng(1));
    const st: number[] = [];
    for (let i = 0; i < 6; i++) { const t0 = performance.now(); await s.search(cb); st.push(performance.now() - t0); }
    s.destroy();
    log(`one resident assignment step (n=${n}, k=${k}): ms ${st.map((t) => t.toFixed(1)).join(',')}, median ${median(st).toFixed(1)}`);
    const run = kmeansGpu(device);
    const ts: number[] = [];
    let g = await run(w, n, d, k, { seed: 1, maxIter: 20, tol: 0 });
    for (let i = 0; i < 3; i++) { const t0 = performance.now(); g = await run(w, n, d, k, { seed: 1, maxIter: 20, tol: 0 }); ts.push(performance.now() - t0); }
    log(`kmeansGpu 3072x768 k=256 d=4 20 it (auto seeding): runs ms ${ts.map((t) => t.toFixed(0)).join(',')}, median ${median(ts).toFixed(0)}; objective ${g.objective}, iterations ${g.iterations}`);
    const gt = await run(w, n, d, k, { seed: 1, maxIter: 20, tol: 0, kernel: 'ts' });
    const t0 = performance.now();
    const c = kmeans(w, n, d, k, { seed: 1, maxIter: 20, tol: 0, kernel: 'ts' });
    const cms = performance.now() - t0;
    let ad = 0; for (let i = 0; i < n; i++) if (c.assign[i] !== gt.assign[i]) ad++;
    let cd = 0; for (let i = 0; i < k * d; i++) if (c.codebook[i] !== gt.codebook[i]) cd++;
    log(`CPU kmeans ts: ${cms.toFixed(0)} ms, objective ${c.objective}; GPU(ts seeding) objective ${gt.objective}, rel diff ${(Math.abs(gt.objective - c.objective) / c.objective).toExponential(2)}, assign diffs ${ad}, codebook diffs ${cd}`);
    const t1 = performance.now();
    const cw = kmeans(w, n, d, k, { seed: 1, maxIter: 20, tol: 0, kernel: 'wasm' });
    log(`CPU kmeans wasm: ${(performance.now() - t1).toFixed(0)} ms, objective ${cw.objective}; GPU(auto) objective ${g.objective}`);
  }
  device.destroy();
}

main().then(() => process.exit(0), (e) => { console.error('FAILED', e); process.exit(1); });
