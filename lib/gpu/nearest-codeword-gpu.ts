import { CancelledError, LimitError, UnsupportedError } from '../base/errors';
import { MAX_TENSOR_ELEMENTS } from '../base/limits';
import { checkCodebookShapes, NEAREST_TILE_ROWS, nearestCodewordsInto } from '../math/nearest-codeword';
import { nearestCodewordWgsl } from './nearest-codeword-wgsl';

/**
 * WebGPU twin of lib/math/nearest-codeword.ts: the nNearest codewords of every sub-vector (row of
 * x, d values) by the matmul form ‖x‖² − 2x·c + ‖c‖² in float32, clamped at 0, ties to the lowest
 * index; distances agree with the CPU twin's to f32 rounding of ‖x‖² + ‖c‖².
 *
 * f32 cannot order two codewords whose distances differ by less than its rounding of ‖x‖² + ‖c‖²,
 * so the kernel keeps one candidate more than asked and flags every row where two neighbouring
 * candidates are within a proven error bound of each other. With `refine` (the default) those rows
 * are recomputed by the float64 CPU twin, so the indices equal the CPU's exactly; on continuous
 * data that is a few rows in ten thousand. Duplicate codewords tie exactly and are always flagged:
 * a codebook full of them costs CPU time, never correctness.
 *
 * Rows go through the GPU in dispatches of at most `nearestRowsPerDispatch` rows, bounded by the
 * storage binding and buffer limits and by MAX_NEAREST_MACS_PER_DISPATCH, so a 50257 × 768
 * embedding (9.6 M sub-vectors of 4) never needs a buffer beyond the device's limits. A one-shot
 * search streams x through one tile-sized buffer; a resident search (k-means) uploads x once, in
 * as many bindings as the limits require, and re-uploads only the codebook on each call.
 *
 * Values are rescaled by a power of two (exact) when the data's magnitude would overflow or
 * underflow f32 squares; non-finite values are rejected (the CPU twin handles them).
 */

/** Codewords per workgroup-memory refill; matches TILE_K (and the workgroup size) in nearest-codeword-wgsl.ts. */
export const NEAREST_GPU_TILE_K = 256;
/** Rows per workgroup (one invocation per row). */
export const NEAREST_GPU_WORKGROUP_ROWS = 256;
/** Longest sub-vector the kernel holds (two vec4). */
export const NEAREST_GPU_MAX_D = 8;
/** Most candidates per row the kernel keeps. */
export const NEAREST_GPU_MAX_NEAREST = 4;
/** Largest codebook (the UI offers k ≤ 65536). */
export const NEAREST_GPU_MAX_K = 65_536;
/**
 * Multiply-adds per dispatch (rows × k × padded d). Keeps a dispatch to milliseconds on a desktop
 * GPU, far below the OS watchdogs (2 s on Windows) that reset a device running one long dispatch.
 */
export const MAX_NEAREST_MACS_PER_DISPATCH = 2 ** 31;

/** Data magnitudes inside this range are uploaded as they are; outside it they are rescaled. */
const SAFE_ABS_LOW = 2 ** -30;
const SAFE_ABS_HIGH = 2 ** 30;
/** Largest |value| after rescaling that keeps the matmul form's sums finite in f32 (d ≤ 8). */
const F32_SAFE_ABS = 2 ** 60;
/** Rows rescaled per CPU copy when uploading rescaled data. */
const SCALE_CHUNK_ROWS = 1 << 18;
const PARAMS_BYTES = 16;
/** Bit the kernel sets on a row's first index to flag a near-tie (NEAR_TIE in the WGSL). */
const NEAR_TIE = 0x8000_0000;

export interface NearestCodewordsGpuResult {
  /** n × nNearest codeword indices, nearest first. */
  indices: Uint32Array;
  /** n × nNearest squared distances (≥ 0, float32 matmul form), ascending within each row. */
  distances: Float32Array;
  nNearest: number;
  /** Rows flagged as near-ties by the kernel (re-ranked in float64 when `refine` is on). */
  nearTieRows: number;
}

export interface NearestCodewordSearchOptions {
  /** Keep x on the GPU across searches (default false: stream it through one tile buffer). */
  resident?: boolean;
  /** Rows per dispatch; defaults to the most the limits allow. Tests force small values to exercise the tiling. */
  rowsPerDispatch?: number;
  /**
   * Largest buffer binding used, in bytes, below the device's own limits; tests force small values
   * to split resident data over several bindings as a 50257 × 768 layer does on a small device.
   */
  maxBindingBytes?: number;
  /**
   * Re-rank the rows the kernel flags as near-ties with the float64 CPU twin (default true). Off,
   * the result is the kernel's own f32 ranking (tests use it to check the kernel by itself).
   */
  refine?: boolean;
  /** Names the data in error messages. */
  label?: string;
}

/** A search over fixed data x whose codebook may change between calls (k-means' assignment step). */
export interface NearestCodewordSearch {
  readonly n: number;
  readonly d: number;
  readonly k: number;
  readonly nNearest: number;
  /** Rows per dispatch in use. */
  readonly rowsPerDispatch: number;
  /** Buffers holding x: resident, as many as the binding limit requires; streamed, the one tile buffer. */
  readonly bindings: number;
  /** Searches with this codebook (k × d); `out` arrays of n × nNearest are filled when given. */
  search(codebook: Float32Array, signal?: AbortSignal, out?: { indices: Uint32Array; distances: Float32Array }): Promise<NearestCodewordsGpuResult>;
  /** Frees the GPU buffers; the search cannot be used afterwards. */
  destroy(): void;
}

const pipelineCache = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();

function pipeline(device: GPUDevice, d: number, nNearest: number): GPUComputePipeline {
  let byShape = pipelineCache.get(device);
  if (!byShape) {
    byShape = new Map();
    pipelineCache.set(device, byShape);
  }
  const key = `${d}:${nNearest}`;
  let p = byShape.get(key);
  if (!p) {
    const module = device.createShaderModule({ code: nearestCodewordWgsl, label: 'nearest-codeword-wgsl.ts' });
    p = device.createComputePipeline({
      layout: 'auto',
      compute: { module, entryPoint: 'nearest', constants: { D: d, NN: nNearest } },
      label: `nearest d=${d} nNearest=${nNearest}`,
    });
    byShape.set(key, p);
  }
  return p;
}

function maxBinding(device: GPUDevice, cap = Infinity): number {
  return Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize, cap);
}

/** Rows per dispatch for this device and shape (a multiple of the workgroup unless it is all of n). */
export function nearestRowsPerDispatch(
  device: GPUDevice, n: number, d: number, k: number, nNearest: number, requested?: number, maxBindingBytes?: number,
): number {
  const bind = maxBinding(device, maxBindingBytes);
  const paddedD = d > 4 ? 8 : 4;
  const byX = Math.floor(bind / (4 * d));
  const byOut = Math.floor(bind / (4 * nNearest));
  // The readback staging buffer holds indices and distances together.
  const byStaging = Math.floor(Math.min(device.limits.maxBufferSize, maxBindingBytes ?? Infinity) / (8 * nNearest));
  const byWorkgroups = device.limits.maxComputeWorkgroupsPerDimension * NEAREST_GPU_WORKGROUP_ROWS;
  const byMacs = Math.max(NEAREST_GPU_WORKGROUP_ROWS, Math.floor(MAX_NEAREST_MACS_PER_DISPATCH / (k * paddedD)));
  let rows = Math.min(n, byX, byOut, byStaging, byWorkgroups, byMacs, requested ?? Infinity);
  if (rows > NEAREST_GPU_WORKGROUP_ROWS && rows < n) rows -= rows % NEAREST_GPU_WORKGROUP_ROWS;
  return Math.max(1, Math.floor(rows));
}

/** Largest |value|; throws on NaN or ±Infinity, which f32 arithmetic on the GPU cannot rank like the CPU twin. */
function maxAbsFinite(a: Float32Array, len: number, what: string): number {
  let m = 0;
  for (let i = 0; i < len; i++) {
    const v = a[i]!;
    if (!Number.isFinite(v)) {
      throw new UnsupportedError('non-finite', `${what} holds a non-finite value (${v}) at element ${i}; use the CPU nearest-codeword search`);
    }
    const av = v < 0 ? -v : v;
    if (av > m) m = av;
  }
  return m;
}

/** A power of two bringing maxAbs near 1, or 1 when f32 squares of the data neither overflow nor underflow. */
function powerOfTwoScale(maxAbs: number): number {
  if (maxAbs === 0 || (maxAbs >= SAFE_ABS_LOW && maxAbs <= SAFE_ABS_HIGH)) return 1;
  return 2 ** -Math.floor(Math.log2(maxAbs));
}

function checkArgs(what: string, x: Float32Array, n: number, d: number, k: number, nNearest: number): void {
  // No codebook yet: its length is checked per search, so a stand-in of the right length is passed.
  checkCodebookShapes(what, x, n, d, { length: k * d }, k);
  if (d > NEAREST_GPU_MAX_D) throw new UnsupportedError('bad-d', `${what}: the GPU kernel takes sub-vectors of d ≤ ${NEAREST_GPU_MAX_D}, got ${d}`);
  if (!Number.isInteger(k) || k < 1 || k > NEAREST_GPU_MAX_K) {
    throw new UnsupportedError('bad-k', `${what}: codeword count k must be an integer in 1..${NEAREST_GPU_MAX_K}, got ${k}`);
  }
  const most = Math.min(k, NEAREST_GPU_MAX_NEAREST);
  if (!Number.isInteger(nNearest) || nNearest < 1 || nNearest > most) {
    throw new UnsupportedError('bad-n-nearest', `${what}: nNearest must be an integer in 1..${most} (k = ${k}), got ${nNearest}`);
  }
  if (n * nNearest > MAX_TENSOR_ELEMENTS) {
    throw new LimitError('too-many-elements', `${what}: ${n} sub-vectors × ${nNearest} candidates exceed MAX_TENSOR_ELEMENTS = ${MAX_TENSOR_ELEMENTS}`);
  }
}

/**
 * Prepares a search over x (n × d). With `resident`, x is uploaded now and stays on the GPU until
 * destroy(); otherwise each search streams it through one tile buffer.
 */
export async function createNearestCodewordSearch(
  device: GPUDevice,
  x: Float32Array,
  n: number,
  d: number,
  k: number,
  nNearest = 1,
  opts: NearestCodewordSearchOptions = {},
): Promise<NearestCodewordSearch> {
  const name = opts.label ?? 'sub-vectors';
  checkArgs(`${name}: nearestCodewordsGpu`, x, n, d, k, nNearest);
  if (opts.rowsPerDispatch !== undefined && !(Number.isInteger(opts.rowsPerDispatch) && opts.rowsPerDispatch >= 1)) {
    throw new UnsupportedError('bad-rows-per-dispatch', `${name}: rowsPerDispatch must be a positive integer, got ${opts.rowsPerDispatch}`);
  }
  if (opts.maxBindingBytes !== undefined && !(opts.maxBindingBytes >= 64)) {
    throw new UnsupportedError('bad-max-binding', `${name}: maxBindingBytes must be ≥ 64, got ${opts.maxBindingBytes}`);
  }
  const bind = maxBinding(device, opts.maxBindingBytes);
  const codebookBytes = k * d * 4;
  if (codebookBytes > maxBinding(device)) {
    throw new LimitError('gpu-binding-too-small', `${name}: a ${k} × ${d} codebook needs ${codebookBytes} bytes, this device binds at most ${maxBinding(device)}`);
  }
  const resident = opts.resident ?? false;
  const refine = opts.refine ?? true;
  const rpd = nearestRowsPerDispatch(device, Math.max(n, 1), d, k, nNearest, opts.rowsPerDispatch, opts.maxBindingBytes);
  const scale = powerOfTwoScale(maxAbsFinite(x, n * d, name));
  const S = GPUBufferUsage;

  const buffers: GPUBuffer[] = [];
  const make = (size: number, usage: number, label: string): GPUBuffer => {
    const b = device.createBuffer({ size: Math.max(16, Math.ceil(size / 4) * 4), usage, label });
    buffers.push(b);
    return b;
  };
  const destroy = (): void => {
    for (const b of buffers) b.destroy();
    buffers.length = 0;
  };

  let scratch: Float32Array | null = null;
  /** Writes rows [row0, row0 + rows) of x into buf at byte 0 onward, rescaled when needed. */
  const upload = (buf: GPUBuffer, row0: number, rows: number): void => {
    if (scale === 1) {
      device.queue.writeBuffer(buf, 0, x as Float32Array<ArrayBuffer>, row0 * d, rows * d);
      return;
    }
    for (let r = 0; r < rows; r += SCALE_CHUNK_ROWS) {
      const len = Math.min(SCALE_CHUNK_ROWS, rows - r);
      if (!scratch || scratch.length < len * d) scratch = new Float32Array(len * d);
      const base = (row0 + r) * d;
      for (let i = 0; i < len * d; i++) scratch[i] = x[base + i]! * scale;
      device.queue.writeBuffer(buf, r * d * 4, scratch as Float32Array<ArrayBuffer>, 0, len * d);
    }
  };

  // Resident: x in bindings of whole dispatches each; streaming: one dispatch-sized buffer.
  const segments: { buf: GPUBuffer; row0: number; rows: number }[] = [];
  // WebGPU reports errors asynchronously; scopes turn them into exceptions so a broken kernel or a
  // buffer the GPU could not allocate never passes off zeros as results.
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  let scoped = true;
  const popScope = async (what: string): Promise<void> => {
    if (!scoped) return;
    scoped = false;
    const invalid = await device.popErrorScope();
    const oom = await device.popErrorScope();
    if (invalid) throw new Error(`${name}: nearest-codeword-wgsl.ts: WebGPU validation error: ${invalid.message}`);
    if (oom) throw new LimitError('gpu-out-of-memory', `${name}: the GPU could not allocate ${what}: ${oom.message}`);
  };
  try {
    const pipe = pipeline(device, d, nNearest);
    if (resident) {
      // Whole dispatches per binding, so no dispatch straddles two.
      const perSegment = Math.max(rpd, Math.floor(bind / (4 * d) / rpd) * rpd);
      for (let row0 = 0; row0 < n; row0 += perSegment) {
        const rows = Math.min(perSegment, n - row0);
        const buf = make(rows * d * 4, S.STORAGE | S.COPY_DST, `${name}: resident rows ${row0}…${row0 + rows - 1}`);
        upload(buf, row0, rows);
        segments.push({ buf, row0, rows });
      }
    }
    const xTile = resident ? null : make(rpd * d * 4, S.STORAGE | S.COPY_DST, `${name}: row tile`);
    const codebookBuf = make(codebookBytes, S.STORAGE | S.COPY_DST, `${name}: codebook`);
    const outBytes = rpd * nNearest * 4;
    const outIndex = make(outBytes, S.STORAGE | S.COPY_SRC, `${name}: nearest indices`);
    const outDist = make(outBytes, S.STORAGE | S.COPY_SRC, `${name}: nearest distances`);
    const paramsBuf = make(PARAMS_BYTES, S.UNIFORM | S.COPY_DST, `${name}: nearest params`);
    // Two staging buffers: one is read on the CPU while the next dispatch copies into the other.
    const staging = [0, 1].map((s) => make(2 * outBytes, S.MAP_READ | S.COPY_DST, `${name}: nearest readback ${s}`));
    const bindGroupFor = (buf: GPUBuffer): GPUBindGroup =>
      device.createBindGroup({
        layout: pipe.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: { buffer: buf } },
          { binding: 1, resource: { buffer: codebookBuf } },
          { binding: 2, resource: { buffer: outIndex } },
          { binding: 3, resource: { buffer: outDist } },
          { binding: 4, resource: { buffer: paramsBuf } },
        ],
      });
    const segmentGroups = segments.map((s) => bindGroupFor(s.buf));
    const tileGroup = xTile ? bindGroupFor(xTile) : null;
    await popScope(`${resident ? `the ${n} × ${d} data` : `a tile of ${rpd} rows`} and a ${k} × ${d} codebook`);

    const params = new Uint32Array(PARAMS_BYTES / 4);
    const cbScratch = new Float32Array(k * d);

    const search = async (
      codebook: Float32Array,
      signal?: AbortSignal,
      out?: { indices: Uint32Array; distances: Float32Array },
    ): Promise<NearestCodewordsGpuResult> => {
      if (buffers.length === 0) throw new Error(`${name}: this nearest-codeword search was destroyed`);
      checkCodebookShapes(`${name}: nearestCodewordsGpu`, x, n, d, codebook, k);
      if (signal?.aborted) throw new CancelledError();
      const indices = out?.indices ?? new Uint32Array(n * nNearest);
      const distances = out?.distances ?? new Float32Array(n * nNearest);
      if (indices.length < n * nNearest || distances.length < n * nNearest) {
        throw new UnsupportedError('bad-shape', `${name}: output arrays need ${n * nNearest} entries`);
      }
      if (n === 0) return { indices, distances, nNearest, nearTieRows: 0 };
      // The codebook shares x's scale, so the ranking and the distances (÷ scale²) are unchanged.
      const cbMax = maxAbsFinite(codebook, k * d, `${name}: codebook`);
      if (cbMax * scale > F32_SAFE_ABS) {
        throw new UnsupportedError('f32-range', `${name}: codebook values up to ${cbMax} are too far from the data's scale for f32; use the CPU nearest-codeword search`);
      }
      for (let i = 0; i < k * d; i++) cbScratch[i] = codebook[i]! * scale;
      const unscale = 1 / (scale * scale);

      device.pushErrorScope('out-of-memory');
      device.pushErrorScope('validation');
      let failure: unknown = null;
      let pending: Promise<void> | null = null;
      const nearTies: number[] = [];
      try {
        device.queue.writeBuffer(codebookBuf, 0, cbScratch as Float32Array<ArrayBuffer>, 0, k * d);
        let tile = 0;
        for (let r0 = 0; r0 < n; r0 += rpd, tile++) {
          if (signal?.aborted) throw new CancelledError();
          const rows = Math.min(rpd, n - r0);
          let group: GPUBindGroup;
          if (tileGroup) {
            upload(xTile!, r0, rows);
            params[1] = 0;
            group = tileGroup;
          } else {
            const s = segments.findIndex((g) => r0 >= g.row0 && r0 < g.row0 + g.rows);
            params[1] = r0 - segments[s]!.row0;
            group = segmentGroups[s]!;
          }
          params[0] = rows;
          params[2] = k;
          device.queue.writeBuffer(paramsBuf, 0, params);
          const stage = staging[tile & 1]!;
          const bytes = rows * nNearest * 4;
          const enc = device.createCommandEncoder();
          const pass = enc.beginComputePass();
          pass.setPipeline(pipe);
          pass.setBindGroup(0, group);
          pass.dispatchWorkgroups(Math.ceil(rows / NEAREST_GPU_WORKGROUP_ROWS));
          pass.end();
          enc.copyBufferToBuffer(outIndex, 0, stage, 0, bytes);
          enc.copyBufferToBuffer(outDist, 0, stage, outBytes, bytes);
          device.queue.submit([enc.finish()]);
          const at = r0 * nNearest;
          // Read the previous tile while this one runs; at most two tiles are in flight. The new
          // mapping is chained before waiting, so a failure of either is always observed.
          const previous = pending;
          pending = stage.mapAsync(GPUMapMode.READ, 0, 2 * outBytes).then(() => {
            const range = stage.getMappedRange(0, 2 * outBytes);
            const idx = new Uint32Array(range, 0, rows * nNearest);
            indices.set(idx, at);
            for (let i = 0; i < rows; i++) {
              const v = idx[i * nNearest]!;
              if (v >= NEAR_TIE) {
                indices[at + i * nNearest] = v - NEAR_TIE;
                nearTies.push(r0 + i);
              }
            }
            const dist = new Float32Array(range, outBytes, rows * nNearest);
            if (unscale === 1) distances.set(dist, at);
            else for (let i = 0; i < dist.length; i++) distances[at + i] = dist[i]! * unscale;
            stage.unmap();
          });
          if (previous) await previous;
        }
        await pending;
        pending = null;
        if (refine && nearTies.length > 0) refineRows(x, d, codebook, k, nNearest, nearTies, indices, distances, signal);
      } catch (e) {
        failure = e;
        // Settle the mapping still in flight before the caller can destroy its buffer.
        await pending?.catch(() => undefined);
      }
      const invalid = await device.popErrorScope();
      const oom = await device.popErrorScope();
      if (invalid) throw new Error(`${name}: nearest-codeword-wgsl.ts: WebGPU validation error: ${invalid.message}`);
      if (oom) throw new LimitError('gpu-out-of-memory', `${name}: the GPU ran out of memory during the nearest-codeword search: ${oom.message}`);
      if (failure) throw failure;
      return { indices, distances, nNearest, nearTieRows: nearTies.length };
    };

    return { n, d, k, nNearest, rowsPerDispatch: rpd, bindings: resident ? segments.length : 1, search, destroy };
  } catch (e) {
    await popScope('').catch(() => undefined);
    destroy();
    throw e;
  }
}

/** Recomputes the listed rows with the float64 CPU twin, in tiles, and writes them over the GPU's. */
function refineRows(
  x: Float32Array, d: number, codebook: Float32Array, k: number, nNearest: number, rows: number[],
  indices: Uint32Array, distances: Float32Array, signal?: AbortSignal,
): void {
  const tile = Math.min(NEAREST_TILE_ROWS, rows.length);
  const xs = new Float32Array(tile * d);
  const idx = new Uint32Array(tile * nNearest);
  const dist = new Float64Array(tile * nNearest);
  for (let r0 = 0; r0 < rows.length; r0 += tile) {
    const len = Math.min(tile, rows.length - r0);
    for (let i = 0; i < len; i++) xs.set(x.subarray(rows[r0 + i]! * d, rows[r0 + i]! * d + d), i * d);
    nearestCodewordsInto(xs, len, d, codebook, k, nNearest, idx, dist, signal);
    for (let i = 0; i < len; i++) {
      const o = rows[r0 + i]! * nNearest;
      for (let q = 0; q < nNearest; q++) {
        indices[o + q] = idx[i * nNearest + q]!;
        distances[o + q] = dist[i * nNearest + q]!;
      }
    }
  }
}

/**
 * The nNearest (1..4) nearest codewords of every sub-vector of x (n × d, d ≤ 8) among k ≤ 65536
 * codewords, with their squared distances. Streams x through the GPU in row tiles.
 */
export async function nearestCodewordsGpu(
  device: GPUDevice,
  x: Float32Array,
  n: number,
  d: number,
  codebook: Float32Array,
  k: number,
  nNearest = 1,
  signal?: AbortSignal,
  opts: Omit<NearestCodewordSearchOptions, 'resident'> = {},
): Promise<NearestCodewordsGpuResult> {
  checkCodebookShapes(`${opts.label ?? 'sub-vectors'}: nearestCodewordsGpu`, x, n, d, codebook, k);
  if (signal?.aborted) throw new CancelledError();
  const s = await createNearestCodewordSearch(device, x, n, d, k, nNearest, opts);
  try {
    return await s.search(codebook, signal);
  } finally {
    s.destroy();
  }
}
