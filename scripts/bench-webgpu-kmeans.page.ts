// Browser entry of scripts/bench-webgpu-kmeans.ts, bundled by esbuild and loaded into Chromium:
// fetches the synthetic layer the runner serves, acquires the device the app would (lib/gpu/device.ts)
// and times kmeansGpu on it. Also imported by the runner in Node for `fnv1a` (nothing runs on import).
import { getGpuDevice } from '../lib/gpu/device';
import { kmeansGpu } from '../lib/gpu/kmeans-gpu';

export interface BenchPageConfig {
  n: number;
  d: number;
  k: number;
  maxIter: number;
  seed: number;
  runs: number;
}

export interface BenchPageResult {
  error?: string;
  adapter?: string;
  adapterInfo?: Record<string, string>;
  limits?: Record<string, number>;
  timesMs?: number[];
  objective?: number;
  iterations?: number;
  /** FNV-1a of the assignment and codebook bytes, to compare with the CPU run without shipping them. */
  assignHash?: string;
  codebookHash?: string;
}

/** 32-bit FNV-1a over the bytes of a typed array, as hex. */
export function fnv1a(a: ArrayBufferView): string {
  const b = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

async function runBench(cfg: BenchPageConfig): Promise<BenchPageResult> {
  const layer = new Float32Array(await (await fetch('/layer.bin')).arrayBuffer());
  if (layer.length !== cfg.n * cfg.d) return { error: `layer.bin holds ${layer.length} values, expected ${cfg.n * cfg.d}` };
  const handle = await getGpuDevice();
  if (!handle) return { error: 'this Chromium grants no WebGPU device (navigator.gpu missing, no adapter, or requestDevice refused)' };
  const adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
  const info = adapter?.info;
  const adapterInfo: Record<string, string> = {};
  if (info) for (const key of ['vendor', 'architecture', 'device', 'description'] as const) adapterInfo[key] = info[key];
  const lim = handle.device.limits;
  const run = kmeansGpu(handle.device);
  const timesMs: number[] = [];
  let last: Awaited<ReturnType<typeof run>> | null = null;
  for (let r = 0; r < cfg.runs; r++) {
    const t0 = performance.now();
    // tol = 0: runs stop only when an update does not improve, so every run does the same work.
    last = await run(layer, cfg.n, cfg.d, cfg.k, { seed: cfg.seed, maxIter: cfg.maxIter, tol: 0 });
    timesMs.push(performance.now() - t0);
  }
  return {
    adapter: handle.description,
    adapterInfo,
    limits: {
      maxStorageBufferBindingSize: lim.maxStorageBufferBindingSize,
      maxBufferSize: lim.maxBufferSize,
      maxComputeWorkgroupsPerDimension: lim.maxComputeWorkgroupsPerDimension,
    },
    timesMs,
    objective: last?.objective,
    iterations: last?.iterations,
    assignHash: last ? fnv1a(last.assign) : undefined,
    codebookHash: last ? fnv1a(last.codebook) : undefined,
  };
}

if (typeof window !== 'undefined') {
  (window as unknown as { runWebgpuKmeansBench: typeof runBench }).runWebgpuKmeansBench = (cfg) =>
    runBench(cfg).catch((e: unknown) => ({ error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) }));
}
