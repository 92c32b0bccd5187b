import { CancelledError, LimitError } from '../base/errors';
import { MAX_GRAM_SIDE } from '../math/gram';
import { gramWgsl } from './gram-wgsl';

/**
 * WebGPU twin of lib/math/gram.ts: the Gram matrix of the smaller side of a row-major W
 * (rows × cols), k × k with k = min(rows, cols), as a full symmetric Float64Array.
 *
 * The long side is streamed in chunks (rows of a tall W, column blocks of a wide one) that each
 * fit one storage binding; every chunk's products are added into a double-float accumulator that
 * stays on the GPU, so a 50257 × 768 embedding never needs more than one chunk resident.
 */

export type GramPrecision = 'df32' | 'f32';

export interface GramGpuOptions {
  /** 'df32' (default): compensated double-float accumulation. 'f32': plain float32, for comparison. */
  precision?: GramPrecision;
  /**
   * Long-side entries (rows of a tall W, columns of a wide W) per chunk. Defaults to the most that
   * fit one storage binding and MAX_MACS_PER_DISPATCH; tests force small values to exercise the
   * chunked accumulation.
   */
  chunkLength?: number;
  signal?: AbortSignal;
  /** Called after each chunk with long-side entries done and the total. */
  onProgress?: (done: number, total: number) => void;
  /** Names the tensor in error messages. */
  label?: string;
}

/** Gram tile edge per workgroup; matches TILE in gram-wgsl.ts (16×16 threads, 2×2 entries each). */
export const GRAM_TILE = 32;

/** Reduction indices per workgroup-memory refill; matches DEPTH in gram-wgsl.ts. */
export const GRAM_DEPTH = 16;

/**
 * Multiply-adds per dispatch (lower-triangle tiles × chunk length). Keeps each dispatch to tens
 * of milliseconds on a desktop GPU (df32 is ~20 flops per multiply-add), far below the OS GPU
 * watchdogs (2 s on Windows) that reset a device running one long dispatch.
 */
export const MAX_MACS_PER_DISPATCH = 2 ** 31;

const PARAMS_BYTES = 32;

interface Pipelines {
  df32: GPUComputePipeline;
  f32: GPUComputePipeline;
}

const pipelineCache = new WeakMap<GPUDevice, Pipelines>();

function pipelines(device: GPUDevice): Pipelines {
  let p = pipelineCache.get(device);
  if (!p) {
    const module = device.createShaderModule({ code: gramWgsl, label: 'gram-wgsl.ts' });
    p = {
      df32: device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'gram_df32' }, label: 'gram_df32' }),
      f32: device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'gram_f32' }, label: 'gram_f32' }),
    };
    pipelineCache.set(device, p);
  }
  return p;
}

/** Long-side entries per chunk for a Gram of side k on this device (a multiple of GRAM_DEPTH unless it is all of n). */
export function gramChunkLength(device: GPUDevice, k: number, n: number, requested?: number): number {
  const byBinding = Math.floor(Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize) / (4 * k));
  const blocks = Math.ceil(k / GRAM_TILE);
  const triangleMacs = ((blocks * (blocks + 1)) / 2) * GRAM_TILE * GRAM_TILE;
  const byDispatch = Math.floor(MAX_MACS_PER_DISPATCH / triangleMacs);
  let m = Math.min(n, byBinding, byDispatch, requested ?? Infinity);
  if (m > GRAM_DEPTH && m < n) m -= m % GRAM_DEPTH;
  return Math.max(1, Math.floor(m));
}

export async function gramGpu(
  device: GPUDevice,
  W: Float32Array,
  rows: number,
  cols: number,
  opts: GramGpuOptions = {},
): Promise<Float64Array> {
  const name = opts.label ?? 'matrix';
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1 || W.length !== rows * cols) {
    throw new Error(`${name}: gramGpu needs ${rows} × ${cols} = ${rows * cols} values, got ${W.length}`);
  }
  const tall = rows > cols;
  const k = Math.min(rows, cols);
  const n = Math.max(rows, cols);
  if (k > MAX_GRAM_SIDE) throw new LimitError('gram-too-large', `${name}: Gram side ${k} exceeds MAX_GRAM_SIDE = ${MAX_GRAM_SIDE}`);
  const gramBytes = k * k * 8;
  const maxGram = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
  if (gramBytes > maxGram) {
    throw new LimitError(
      'gram-too-large',
      `${name}: a ${k} × ${k} double-float Gram needs ${gramBytes} bytes of GPU storage, this device binds at most ${maxGram}`,
    );
  }
  const blocks = Math.ceil(k / GRAM_TILE);
  if (blocks > device.limits.maxComputeWorkgroupsPerDimension) {
    throw new LimitError('gram-too-large', `${name}: ${blocks} Gram tiles per side exceed this device's dispatch limit`);
  }
  if (opts.chunkLength !== undefined && !(opts.chunkLength >= 1)) {
    throw new Error(`${name}: chunkLength must be ≥ 1, got ${opts.chunkLength}`);
  }
  const m = gramChunkLength(device, k, n, opts.chunkLength);
  const pipeline = pipelines(device)[opts.precision ?? 'df32'];

  const buffers: GPUBuffer[] = [];
  const make = (size: number, usage: number, label: string): GPUBuffer => {
    const b = device.createBuffer({ size: Math.max(16, Math.ceil(size / 4) * 4), usage, label });
    buffers.push(b);
    return b;
  };
  // WebGPU reports errors asynchronously; scopes turn them into exceptions so a broken kernel or a
  // buffer the GPU could not allocate never passes off zeros as a Gram matrix.
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  let scoped = true;
  const popScope = async (): Promise<void> => {
    if (!scoped) return;
    scoped = false;
    const invalid = await device.popErrorScope();
    const oom = await device.popErrorScope();
    if (invalid) throw new Error(`${name}: gram-wgsl.ts: WebGPU validation error: ${invalid.message}`);
    if (oom) throw new LimitError('gpu-out-of-memory', `${name}: the GPU could not allocate the ${k} × ${k} Gram and its input chunk: ${oom.message}`);
  };
  try {
    const S = GPUBufferUsage;
    // A wide W that fits one binding is uploaded as it is and read with strides; only when it must be
    // split do its column blocks get copied into contiguous k × m pieces.
    const wideWhole = !tall && m >= n;
    const dataBuf = make((wideWhole ? rows * cols : m * k) * 4, S.STORAGE | S.COPY_DST, `${name}: gram input`);
    const gramBuf = make(gramBytes, S.STORAGE | S.COPY_SRC, `${name}: gram`);
    const paramsBuf = make(PARAMS_BYTES, S.UNIFORM | S.COPY_DST, `${name}: gram params`);
    const bindGroup = device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: dataBuf } },
        { binding: 1, resource: { buffer: gramBuf } },
        { binding: 2, resource: { buffer: paramsBuf } },
      ],
    });
    const params = new ArrayBuffer(PARAMS_BYTES);
    const pu = new Uint32Array(params);
    const pf = new Float32Array(params);
    const block = !tall && !wideWhole ? new Float32Array(k * m) : null;
    for (let t0 = 0; t0 < n; t0 += m) {
      if (opts.signal?.aborted) throw new CancelledError();
      const len = Math.min(m, n - t0);
      let strideT: number;
      let strideI: number;
      if (tall) {
        device.queue.writeBuffer(dataBuf, 0, W as Float32Array<ArrayBuffer>, t0 * cols, len * cols);
        strideT = cols;
        strideI = 1;
      } else if (wideWhole) {
        device.queue.writeBuffer(dataBuf, 0, W as Float32Array<ArrayBuffer>, 0, rows * cols);
        strideT = 1;
        strideI = cols;
      } else {
        const b = block!;
        for (let i = 0; i < k; i++) b.set(W.subarray(i * cols + t0, i * cols + t0 + len), i * len);
        device.queue.writeBuffer(dataBuf, 0, b as Float32Array<ArrayBuffer>, 0, k * len);
        strideT = 1;
        strideI = len;
      }
      pu[0] = k;
      pu[1] = len;
      pu[2] = strideT;
      pu[3] = strideI;
      pf[4] = 1;
      pu[5] = t0 === 0 ? 0 : 1;
      device.queue.writeBuffer(paramsBuf, 0, params);
      const enc = device.createCommandEncoder();
      const pass = enc.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(blocks, blocks);
      pass.end();
      device.queue.submit([enc.finish()]);
      // One chunk in flight: bounds the staging memory writeBuffer holds and lets cancel act between chunks.
      await device.queue.onSubmittedWorkDone();
      opts.onProgress?.(t0 + len, n);
    }
    const staging = make(gramBytes, S.MAP_READ | S.COPY_DST, `${name}: gram readback`);
    const enc = device.createCommandEncoder();
    enc.copyBufferToBuffer(gramBuf, 0, staging, 0, gramBytes);
    device.queue.submit([enc.finish()]);
    await popScope();
    await staging.mapAsync(GPUMapMode.READ);
    const pairs = new Float32Array(staging.getMappedRange());
    const g = new Float64Array(k * k);
    // hi + lo is exact in float64; the kernel fills the lower triangle (and diagonal tiles whole).
    for (let i = 0; i < k; i++) {
      for (let j = 0; j <= i; j++) {
        const at = i * k + j;
        const v = pairs[2 * at]! + pairs[2 * at + 1]!;
        g[at] = v;
        g[j * k + i] = v;
      }
    }
    staging.unmap();
    return g;
  } finally {
    await popScope().catch(() => undefined);
    for (const b of buffers) b.destroy();
  }
}
