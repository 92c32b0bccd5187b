import { NotFoundError, UnsupportedError, throwIfAborted } from '../base/errors';
import { analyzeLayer, type SpectraOptions } from '../analysis/spectra/analyze-layer';
import { farmsMatrix } from '../analysis/spectra/farms';
import { absHeatmap } from '../charts/spectra/abs-heatmap';
import { farmsWindowRects } from '../charts/spectra/farms-window-rects';
import { fitCandidates } from '../charts/spectra/fit-candidates';
import type { TensorSource } from '../formats/types';
import { getGpuDevice } from '../gpu/device';
import { analyzeLayerGpu } from './analyze-layer-gpu';
import { buildLayers, type Layer } from '../model';
import type { Backend, SpectraJobResult, SpectraLayerResult, SpectraSettings } from './job-types';

/**
 * Worker side of the `spectra` job: analyzes the listed layers of an opened model one at a time
 * (one decoded tensor in memory at a time), posting each layer as a `partial` the moment it is
 * done, so the page fills its table layer by layer. The page splits a model's layers across the
 * pool; each worker runs its share through here.
 *
 * Backend, chosen here and reported with every layer: WebGPU (GPU Gram, analyzeLayerGpu) when this
 * worker got a hardware device and the user has not forced the CPU, else the engine's CPU
 * analyzeLayer. A software adapter (SwiftShader) counts as none unless `forceGpu`.
 */

export interface SpectraJobContext {
  signal: AbortSignal;
  progress(done: number, total: number, label?: string): void;
  partial(data: SpectraLayerResult, transfer: Transferable[]): void;
}

/** The analysis options a view setting stands for. */
export function spectraOptions(s: SpectraSettings, signal?: AbortSignal): SpectraOptions {
  return {
    fit: s.fit,
    mpFit: s.mpFit,
    farms: s.farms ? { nr: s.farmsNr, qRatio: s.farmsQRatio, opsPerDim: s.farmsOps, fit: s.farmsFit } : false,
    signal,
  };
}

/** CPU-emulated WebGPU (SwiftShader, the headless/blocklisted fallback) runs the Gram slower than the CPU kernel. */
export function isSoftwareAdapter(description: string): boolean {
  return /swiftshader|llvmpipe|software|fallback/i.test(description);
}

const layerCache = new WeakMap<TensorSource, Map<string, Layer>>();

function layerByTensor(src: TensorSource): Map<string, Layer> {
  let m = layerCache.get(src);
  if (!m) {
    m = new Map(buildLayers(src.tensors, src.format).map((l) => [l.tensor.name, l]));
    layerCache.set(src, m);
  }
  return m;
}

export async function runSpectraJob(
  src: TensorSource,
  tensors: readonly string[],
  settings: SpectraSettings,
  forceCpu: boolean,
  ctx: SpectraJobContext,
  forceGpu = false,
): Promise<{ data: SpectraJobResult; backend: Backend }> {
  const t0 = performance.now();
  const handle = forceCpu ? null : await getGpuDevice();
  const software = handle !== null && isSoftwareAdapter(handle.description);
  const gpu = handle && (!software || forceGpu) ? handle : null;
  const backend: Backend = gpu ? 'webgpu' : 'cpu';
  const backendNote = handle && !gpu ? `${handle.description} is a software WebGPU adapter: the float64 CPU path is faster (?gpu=1 uses it anyway)` : undefined;
  const layers = layerByTensor(src);
  let done = 0;
  for (const name of tensors) {
    throwIfAborted(ctx.signal);
    const layer = layers.get(name);
    if (!layer) throw new NotFoundError('tensor', `${src.name}: no layer for tensor "${name}"`);
    if (!layer.tensor.decodable) throw new UnsupportedError('dtype', `${src.name}: tensor "${name}" (${layer.tensor.dtype}) cannot be decoded`);
    ctx.progress(done, tensors.length, layer.name);
    const l0 = performance.now();
    const data = await src.read(name, ctx.signal);
    let spectrum;
    let floor = 0;
    if (gpu) ({ spectrum, floor } = await analyzeLayerGpu(gpu.device, layer, data, spectraOptions(settings, ctx.signal)));
    else spectrum = analyzeLayer(layer, data, spectraOptions(settings, ctx.signal));
    throwIfAborted(ctx.signal);
    let candidates = null;
    let heatmap = null;
    let windows: SpectraLayerResult['windows'] = [];
    const transfer: Transferable[] = [];
    if (spectrum.ok) {
      candidates = fitCandidates(spectrum.evals, { include: spectrum.xmin > 0 ? [spectrum.xmin] : [] });
      transfer.push(spectrum.evals.buffer as ArrayBuffer, candidates.xmin.buffer as ArrayBuffer, candidates.alpha.buffer as ArrayBuffer, candidates.D.buffer as ArrayBuffer);
      if (spectrum.farms) transfer.push(spectrum.farms.evals.buffer as ArrayBuffer);
    }
    if (layer.kind !== 'other' && layer.M > 0) {
      const m = farmsMatrix(layer, data);
      heatmap = absHeatmap(m.data, m.rows, m.cols);
      transfer.push(heatmap.pixels.buffer as ArrayBuffer);
      if (settings.farms) windows = farmsWindowRects(m.rows, m.cols, { nr: settings.farmsNr, qRatio: settings.farmsQRatio, opsPerDim: settings.farmsOps });
    }
    done++;
    ctx.partial({ tensor: name, spectrum, candidates, heatmap, windows, backend, adapter: gpu?.description, backendNote, floor, ms: performance.now() - l0 }, transfer);
  }
  ctx.progress(done, tensors.length);
  return { data: { layers: done, ms: performance.now() - t0 }, backend };
}
