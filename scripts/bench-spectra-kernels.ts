// Prints the CPU spectra kernels' timings, TypeScript vs WebAssembly SIMD: median of 5 runs of
// gram, tridiagonalize and eigvalsh (Gram → eigenvalues) on GPT-2-small-shaped layers, and FARMS
// (100 windows of 100 × 200) on one 768 × 3072 layer. Run: npx tsx scripts/bench-spectra-kernels.ts
import { loadavg } from 'node:os';
import { Rng } from '../lib/base/rng';
import { farmsEsd } from '../lib/analysis/spectra/farms';
import { eigvalsh } from '../lib/math/eigvalsh';
import { gram } from '../lib/math/gram';
import { tridiagonalize } from '../lib/math/tridiagonalize';
import { setDefaultCpuKernel, wasmKernelsAvailable, type CpuKernel } from '../lib/math/wasm/spectra-kernels';

const RUNS = Number(process.env.RUNS ?? 5);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function time(fn: () => void): number {
  const xs: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    fn();
    xs.push(performance.now() - t0);
  }
  return median(xs);
}

const rng = new Rng(1);
const shapes: [number, number][] = [[768, 3072], [768, 768]];
const kernels: CpuKernel[] = wasmKernelsAvailable() ? ['ts', 'wasm'] : ['ts'];
console.log(`load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}; median of ${RUNS}, ms`);
for (const [rows, cols] of shapes) {
  const w = new Float32Array(rows * cols);
  for (let i = 0; i < w.length; i++) w[i] = rng.normal() * 0.02;
  const k = Math.min(rows, cols);
  const g0 = gram(w, rows, cols, { kernel: 'ts' }).g;
  for (const kernel of kernels) {
    const tg = time(() => gram(w, rows, cols, { kernel }));
    const tt = time(() => tridiagonalize(g0.slice(), k, { kernel }));
    const te = time(() => eigvalsh(gram(w, rows, cols, { kernel }).g, k, { kernel }));
    console.log(`${rows}×${cols} ${kernel.padEnd(4)} gram ${tg.toFixed(0).padStart(5)}  tridiagonalize ${tt.toFixed(0).padStart(5)}  gram+eigvalsh ${te.toFixed(0).padStart(5)}`);
  }
}
{
  const rows = 768;
  const cols = 3072;
  const w = new Float64Array(rows * cols);
  for (let i = 0; i < w.length; i++) w[i] = Math.fround(rng.normal() * 0.02);
  for (const kernel of kernels) {
    setDefaultCpuKernel(kernel);
    const tf = time(() => farmsEsd(w, rows, cols));
    console.log(`FARMS ${rows}×${cols} (100 windows 100×200) ${kernel.padEnd(4)} ${tf.toFixed(0).padStart(5)}`);
  }
  setDefaultCpuKernel('auto');
}
console.log(`load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
