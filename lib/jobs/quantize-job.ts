import { NotFoundError, UnsupportedError, throwIfAborted } from '../base/errors';
import { quantMatrix, type QuantMatrix } from '../analysis/quant/quant-matrix';
import { DEFAULT_QUANT_SETTINGS, quantizeLayer, type KmeansFn, type LayerQuantResult, type QuantSettings } from '../analysis/quant/quantize-layer';
import { toStoredPrecision } from '../analysis/quant/export-quantized';
import { projectCodebook } from '../analysis/quant/projection';
import { quantMaps } from '../charts/quant/quant-maps';
import type { TensorSource } from '../formats/types';
import { getGpuDevice } from '../gpu/device';
import { buildLayers, type Layer } from '../model';
import type { Backend, QuantLayerResult, QuantLayerSummary, QuantRdResult, RdPoint } from './job-types';
import { isSoftwareAdapter } from './spectra-job';

/**
 * Worker side of the Quantize view's jobs: one layer quantized with the view's settings (the
 * preview: metrics, maps, usage, projection), the rate–distortion sweep of one layer, and the
 * per-layer metrics of the whole-model sweep (summaryOnly). k-means runs on WebGPU when this
 * worker has a hardware device (the GPU nearest-codeword kernel), else on the CPU (WASM SIMD).
 */

export interface QuantJobContext {
  signal: AbortSignal;
  progress(done: number, total: number, label?: string): void;
  partial(data: unknown, transfer?: Transferable[]): void;
}

const layerCache = new WeakMap<TensorSource, Map<string, Layer>>();

function layerFor(src: TensorSource, tensor: string): Layer {
  let m = layerCache.get(src);
  if (!m) {
    m = new Map(buildLayers(src.tensors, src.format).map((l) => [l.tensor.name, l]));
    layerCache.set(src, m);
  }
  const layer = m.get(tensor);
  if (!layer) throw new NotFoundError('tensor', `${src.name}: no layer for tensor "${tensor}"`);
  if (!layer.tensor.decodable) throw new UnsupportedError('dtype', `${src.name}: tensor "${tensor}" (${layer.tensor.dtype}) cannot be decoded`);
  return layer;
}

interface KmeansBackend {
  impl?: KmeansFn;
  backend: Backend;
  adapter?: string;
  backendNote?: string;
}

async function kmeansBackend(forceCpu: boolean, forceGpu: boolean): Promise<KmeansBackend> {
  const handle = forceCpu ? null : await getGpuDevice();
  if (!handle) return { backend: 'cpu' };
  if (isSoftwareAdapter(handle.description) && !forceGpu) {
    return { backend: 'cpu', backendNote: `${handle.description} is a software WebGPU adapter: the WASM CPU path is faster (?gpu=1 uses it anyway)` };
  }
  const { kmeansGpu } = await import('../gpu/kmeans-gpu');
  return { impl: kmeansGpu(handle.device), backend: 'webgpu', adapter: handle.description };
}

/** RTN bits whose asymmetric g = 128 budget (b + 0.25 bpw) is nearest a vector method's bpw. */
export function rtnBitsNear(bpw: number): number {
  return Math.min(8, Math.max(2, Math.round(bpw - 0.25)));
}

/**
 * quantizeLayer, then rounded to what the packed export stores (fp16 codebooks and scales), so the
 * view, the command line and the exported file report the same numbers.
 */
async function quantizeStored(m: QuantMatrix, s: QuantSettings, name: string, opts: Parameters<typeof quantizeLayer>[2]): Promise<LayerQuantResult> {
  return toStoredPrecision(m.data, await quantizeLayer(m, s, opts), s, name);
}

async function summarize(layer: Layer, m: QuantMatrix, r: LayerQuantResult, be: KmeansBackend): Promise<QuantLayerSummary> {
  let rtnAtEqualBits: QuantLayerSummary['rtnAtEqualBits'] = null;
  if (r.method !== 'rtn') {
    const bits = rtnBitsNear(r.bits.total);
    const rtn = await quantizeStored(m, { ...DEFAULT_QUANT_SETTINGS, method: 'rtn', bits, symmetric: false, group: 128 }, layer.name, {});
    rtnAtEqualBits = { bits, bpw: rtn.bits.total, error: rtn.error };
  }
  const vq = r.vq;
  return {
    tensor: layer.tensor.name,
    layer: layer.name,
    rows: r.rows,
    cols: r.cols,
    method: r.method,
    error: r.error,
    bits: r.bits,
    usage: vq ? { k: vq.k, books: vq.books, entropyBits: vq.usage.entropyBits, perplexity: vq.usage.perplexity, dead: vq.usage.dead } : null,
    flippable: r.ambiguity?.flippable ?? null,
    cells: r.subError.length,
    rtnAtEqualBits,
    objectiveHistory: vq?.objectiveHistory ?? null,
    iterations: vq?.iterations ?? null,
    backend: be.backend,
    ...(be.adapter ? { adapter: be.adapter } : {}),
    ...(be.backendNote ? { backendNote: be.backendNote } : {}),
    ms: r.ms,
  };
}

export async function runQuantizeLayerJob(
  src: TensorSource, tensor: string, settings: QuantSettings, forceCpu: boolean, forceGpu: boolean, summaryOnly: boolean, ctx: QuantJobContext,
): Promise<{ data: QuantLayerResult; backend: Backend; transfer: Transferable[] }> {
  const layer = layerFor(src, tensor);
  ctx.progress(0, 100, 'reading tensor');
  const raw = await src.read(tensor, ctx.signal);
  const m = quantMatrix(layer, raw);
  const be = settings.method === 'vq' || settings.method === 'rvq' ? await kmeansBackend(forceCpu, forceGpu) : { backend: 'cpu' as Backend };
  const r = await quantizeStored(m, settings, layer.name, {
    signal: ctx.signal,
    onProgress: (f) => ctx.progress(Math.round(f * 100), 100, layer.name),
    ...(be.impl ? { kmeansImpl: be.impl } : {}),
  });
  throwIfAborted(ctx.signal);
  const summary = await summarize(layer, m, r, be);
  if (summaryOnly) return { data: { ...summary, settings, subLen: r.subLen, maps: null, sortedCounts: null, projection: null }, backend: be.backend, transfer: [] };
  const perRow = r.cols / r.subLen;
  const maps = quantMaps(r.rows, perRow, r.subError, r.vq?.assign ?? null, r.ambiguity?.ratio ?? null);
  let projection = null;
  if (r.vq) {
    // Book 0's rows only: its codewords are the ones the points were assigned to.
    const n0 = Math.min(r.rows, r.vq.rowsPerBook) * perRow;
    projection = projectCodebook(m.data, n0, r.subLen, r.vq.codebooks.subarray(0, r.vq.k * r.subLen), r.vq.k, r.vq.assign, settings.seed);
  }
  const transfer: Transferable[] = [maps.error.buffer as ArrayBuffer];
  if (maps.assign) transfer.push(maps.assign.buffer as ArrayBuffer);
  if (maps.ratio) transfer.push(maps.ratio.buffer as ArrayBuffer);
  const sortedCounts = r.vq ? r.vq.usage.sortedCounts : null;
  ctx.progress(100, 100);
  return { data: { ...summary, settings, subLen: r.subLen, maps, sortedCounts, projection }, backend: be.backend, transfer };
}

/** The RD sweep's VQ fitting budget: codebooks fitted on a sample with fewer iterations (stated on the chart). */
export const RD_VQ_SAMPLE = 65_536;
export const RD_VQ_ITERS = 10;
export const RD_VQ_GRID: readonly { d: number; k: number }[] = [
  { d: 2, k: 16 }, { d: 2, k: 64 }, { d: 2, k: 256 },
  { d: 4, k: 16 }, { d: 4, k: 256 }, { d: 4, k: 4096 },
  { d: 8, k: 256 }, { d: 8, k: 4096 },
];

/**
 * Rate–distortion points of one layer: RTN (asymmetric, g = 128, 2–8 bits) and k-means VQ over
 * RD_VQ_GRID; a configuration that does not fit the layer (d does not divide the row, k above the
 * sub-vector count) is left out. Each point streams as a partial.
 */
export async function runQuantizeRdJob(
  src: TensorSource, tensor: string, base: QuantSettings, forceCpu: boolean, ctx: QuantJobContext,
): Promise<{ data: QuantRdResult; backend: Backend }> {
  const t0 = performance.now();
  const layer = layerFor(src, tensor);
  const raw = await src.read(tensor, ctx.signal);
  const m = quantMatrix(layer, raw);
  const be = await kmeansBackend(forceCpu, false);
  const points: RdPoint[] = [];
  const configs: QuantSettings[] = [];
  for (let bits = 2; bits <= 8; bits++) configs.push({ ...DEFAULT_QUANT_SETTINGS, method: 'rtn', bits, symmetric: false, group: 128 });
  for (const g of RD_VQ_GRID) {
    const n = (m.rows * m.cols) / g.d;
    if (m.cols % g.d !== 0 || g.k > Math.min(n, RD_VQ_SAMPLE)) continue;
    configs.push({ ...DEFAULT_QUANT_SETTINGS, method: 'vq', d: g.d, k: g.k, iters: RD_VQ_ITERS, sample: RD_VQ_SAMPLE, seed: base.seed, codebookBits: base.codebookBits });
  }
  let done = 0;
  for (const s of configs) {
    throwIfAborted(ctx.signal);
    ctx.progress(done, configs.length, s.method === 'rtn' ? `RTN ${s.bits}-bit` : `VQ k=${s.k} d=${s.d}`);
    const r = await quantizeStored(m, s, layer.name, { signal: ctx.signal, ...(be.impl ? { kmeansImpl: be.impl } : {}) });
    const p: RdPoint = {
      method: s.method,
      label: s.method === 'rtn' ? `RTN ${s.bits}b g128` : `VQ k=${s.k} d=${s.d}`,
      bpw: r.bits.total,
      sqnrDb: r.error.sqnrDb,
      relFrobenius: r.error.relFrobenius,
    };
    points.push(p);
    ctx.partial(p);
    done++;
  }
  ctx.progress(done, configs.length);
  return { data: { points, vqSample: RD_VQ_SAMPLE, vqIters: RD_VQ_ITERS, ms: performance.now() - t0 }, backend: be.backend };
}
