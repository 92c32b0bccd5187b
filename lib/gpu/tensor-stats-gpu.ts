import { CancelledError } from '../base/errors';
import {
  checkBins,
  finishStats,
  firstPassStats,
  histogramScale,
  MomentsPass1,
  type StatsRunOptions,
  type TensorStats,
} from '../math/tensor-stats';
import shaderSource from './tensor-stats.wgsl';

/**
 * WebGPU twin of lib/math/tensor-stats.ts (same definitions; tolerance in STATS_TOLERANCE).
 * Pass 1 gives per-tile min/max/sum/counts, combined in float64 here; pass 2 gives per-tile
 * Σ(x − f32(mean))² and a histogram built with workgroup atomics.
 */

const TILE = 1024; // workgroup size 256 x 4 values per thread, as in the WGSL
const PARTIAL1_BYTES = 32;
const PARAMS_BYTES = 32;
/** The WGSL dispatches one workgroup per tile along x, limited to 65535 by WebGPU's default limits. */
const MAX_TILES_PER_DISPATCH = 65535;
/** Values uploaded per dispatch: bounded by the storage binding limit and the dispatch size. */
const MAX_CHUNK_ELEMENTS = 1 << 24;

interface Pipelines {
  pass1: GPUComputePipeline;
  pass2: GPUComputePipeline;
}

const pipelineCache = new WeakMap<GPUDevice, Pipelines>();

function pipelines(device: GPUDevice): Pipelines {
  let p = pipelineCache.get(device);
  if (!p) {
    const module = device.createShaderModule({ code: shaderSource, label: 'tensor-stats.wgsl' });
    p = {
      pass1: device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'pass1' } }),
      pass2: device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'pass2' } }),
    };
    pipelineCache.set(device, p);
  }
  return p;
}

export function chunkElementsFor(device: GPUDevice): number {
  const byBinding = Math.floor(device.limits.maxStorageBufferBindingSize / 4);
  const byDispatch = Math.min(MAX_TILES_PER_DISPATCH, device.limits.maxComputeWorkgroupsPerDimension) * TILE;
  const n = Math.min(MAX_CHUNK_ELEMENTS, byBinding, byDispatch);
  return n - (n % TILE);
}

async function readBack(device: GPUDevice, src: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
  const staging = device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(src, 0, staging, 0, bytes);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const out = staging.getMappedRange().slice(0);
  staging.unmap();
  staging.destroy();
  return out;
}

function writeParams(device: GPUDevice, buf: GPUBuffer, n: number, bins: number, lo: number, scale: number, mean: number): void {
  const ab = new ArrayBuffer(PARAMS_BYTES);
  const u = new Uint32Array(ab);
  const f = new Float32Array(ab);
  u[0] = n;
  u[1] = bins;
  f[2] = lo;
  f[3] = scale;
  f[4] = mean;
  device.queue.writeBuffer(buf, 0, ab);
}

export async function tensorStatsGpu(
  device: GPUDevice,
  values: Float32Array,
  bins: number,
  opts: StatsRunOptions = {},
): Promise<TensorStats> {
  checkBins(bins);
  const { pass1, pass2 } = pipelines(device);
  const n = values.length;
  const chunk = Math.max(TILE, Math.min(chunkElementsFor(device), Math.ceil(n / TILE) * TILE));
  const maxTiles = chunk / TILE;
  const total = 2 * n;
  const buffers: GPUBuffer[] = [];
  const make = (size: number, usage: number, label: string): GPUBuffer => {
    const b = device.createBuffer({ size: Math.max(16, Math.ceil(size / 4) * 4), usage, label });
    buffers.push(b);
    return b;
  };
  const S = GPUBufferUsage;
  const data = make(chunk * 4, S.STORAGE | S.COPY_DST, 'values');
  const params = make(PARAMS_BYTES, S.UNIFORM | S.COPY_DST, 'params');
  const part1 = make(maxTiles * PARTIAL1_BYTES, S.STORAGE | S.COPY_SRC, 'partials1');
  const part2 = make(maxTiles * 4, S.STORAGE | S.COPY_SRC, 'partials2');
  const hist = make(bins * 4, S.STORAGE | S.COPY_SRC, 'histogram');
  const checkCancel = (): void => {
    if (opts.signal?.aborted) throw new CancelledError();
  };
  const upload = (start: number, len: number): void => {
    device.queue.writeBuffer(data, 0, values as Float32Array<ArrayBuffer>, start, len);
  };
  const dispatch = (pipeline: GPUComputePipeline, entries: GPUBindGroupEntry[], tiles: number): void => {
    const group = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(tiles);
    pass.end();
    device.queue.submit([enc.finish()]);
  };

  // WebGPU reports validation errors asynchronously instead of throwing; a scope turns them into
  // an exception so a broken kernel never passes off zeros as statistics.
  device.pushErrorScope('validation');
  let scoped = true;
  const popScope = async (): Promise<void> => {
    if (!scoped) return;
    scoped = false;
    const err = await device.popErrorScope();
    if (err) throw new Error(`tensor-stats.wgsl: WebGPU validation error: ${err.message}`);
  };
  try {
    const p1 = new MomentsPass1();
    for (let start = 0; start < n; start += chunk) {
      checkCancel();
      const len = Math.min(chunk, n - start);
      const tiles = Math.ceil(len / TILE);
      upload(start, len);
      writeParams(device, params, len, bins, 0, 0, 0);
      dispatch(
        pass1,
        [
          { binding: 0, resource: { buffer: data } },
          { binding: 1, resource: { buffer: params } },
          { binding: 2, resource: { buffer: part1 } },
        ],
        tiles,
      );
      const ab = await readBack(device, part1, tiles * PARTIAL1_BYTES);
      const f = new Float32Array(ab);
      const u = new Uint32Array(ab);
      for (let t = 0; t < tiles; t++) {
        const o = t * 8;
        p1.addPartial({
          min: f[o]!,
          max: f[o + 1]!,
          sum: f[o + 2]!,
          finite: u[o + 3]!,
          zeros: u[o + 4]!,
          nan: u[o + 5]!,
          posInf: u[o + 6]!,
          negInf: u[o + 7]!,
          count: Math.min(TILE, len - t * TILE),
        });
      }
      opts.onProgress?.(start + len, total, 'range and mean (GPU)');
    }

    opts.onFirstPass?.(firstPassStats(p1));
    const mean = p1.mean();
    const mean32 = Math.fround(mean);
    const scale = histogramScale(p1.min, p1.max, bins);
    let ssShifted = 0;
    let histogram = new Uint32Array(bins);
    if (p1.finite > 0) {
      for (let start = 0; start < n; start += chunk) {
        checkCancel();
        const len = Math.min(chunk, n - start);
        const tiles = Math.ceil(len / TILE);
        // With one chunk the values are still resident from pass 1.
        if (n > chunk) upload(start, len);
        writeParams(device, params, len, bins, p1.min, scale, mean32);
        dispatch(
          pass2,
          [
            { binding: 0, resource: { buffer: data } },
            { binding: 1, resource: { buffer: params } },
            { binding: 3, resource: { buffer: part2 } },
            { binding: 4, resource: { buffer: hist } },
          ],
          tiles,
        );
        const parts = new Float32Array(await readBack(device, part2, tiles * 4));
        for (const s of parts) ssShifted += s;
        opts.onProgress?.(n + start + len, total, 'spread and histogram (GPU)');
      }
      histogram = new Uint32Array(await readBack(device, hist, bins * 4));
    }
    // Σ(x − m)² = Σ(x − m')² − n·(m − m')² for the float32 mean m' the GPU subtracted.
    const ss = ssShifted - p1.finite * (mean - mean32) ** 2;
    await popScope();
    return finishStats(p1, ss, histogram);
  } finally {
    await popScope().catch(() => undefined);
    for (const b of buffers) b.destroy();
  }
}
