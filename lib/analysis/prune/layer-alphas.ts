import { throwIfAborted, toErrorInfo } from '../../base/errors';
import type { TensorSource } from '../../formats/types';
import type { Layer } from '../../model/layer';
import { analyzeLayer, precheckLayer } from '../spectra/analyze-layer';
import { farmsAnalyze, type FarmsOptions } from '../spectra/farms';
import type { FitMethod } from '../spectra/metrics';

/**
 * α per layer for AlphaPruning's allocation, from the spectra engine: the raw α of
 * WeightWatcher's power-law fit on the layer's pooled ESD, or the FARMS α (windows pooled,
 * published defaults unless given). A layer gets α whenever it is a weight matrix or conv
 * kernel — WeightWatcher's size limits (min_evals, max_evals, max_N) are not applied, as every
 * pruned layer needs a ratio — and null, with the reason, when no α exists (not a matrix,
 * non-finite or all-zero weights, a failed fit). The allocation gives null layers the target
 * ratio unchanged.
 */

export type AlphaKind = 'alpha' | 'farms';

export interface LayerAlpha {
  name: string;
  tensor: string;
  /** Null when the layer has no α. */
  alpha: number | null;
  /** Why alpha is null. */
  reason?: string;
}

export interface LayerAlphaOptions {
  /** Raw α's fit (default 'auto', WeightWatcher's). */
  fit?: FitMethod;
  /** FARMS settings (default: the published ones). */
  farms?: Omit<FarmsOptions, 'signal'>;
  signal?: AbortSignal;
  onProgress?: (p: { done: number; layers: number; name: string }) => void;
}

/** One layer's α from its decoded tensor (stored layout), or null with the reason. */
export function layerAlpha(layer: Layer, data: Float32Array, kind: AlphaKind, opts: LayerAlphaOptions = {}): LayerAlpha {
  const out = (alpha: number | null, reason?: string): LayerAlpha => ({
    name: layer.name, tensor: layer.tensor.name, alpha, ...(reason !== undefined ? { reason } : {}),
  });
  if (kind === 'alpha') {
    const s = analyzeLayer(layer, data, { fit: opts.fit ?? 'auto', mpFit: false, farms: false, signal: opts.signal });
    if (!s.ok) return out(null, s.error.message);
    if (s.status !== 'ok' || !Number.isFinite(s.alpha)) return out(null, `${layer.name}: the power-law fit failed`);
    return out(s.alpha);
  }
  const bad = precheckLayer(layer, data);
  if (bad) return out(null, bad.error.message);
  try {
    const f = farmsAnalyze(layer, data, { ...(opts.farms ?? {}), signal: opts.signal });
    if (!f || !Number.isFinite(f.alpha)) return out(null, `${layer.name}: the FARMS power-law fit failed`);
    return out(f.alpha);
  } catch (e) {
    const info = toErrorInfo(e);
    if (info.kind === 'CancelledError') throw e;
    return out(null, info.message);
  }
}

/** α of each of `layers`, in order, one tensor in memory at a time. Read and cancellation errors propagate. */
export async function layerAlphas(source: TensorSource, layers: readonly Layer[], kind: AlphaKind, opts: LayerAlphaOptions = {}): Promise<LayerAlpha[]> {
  const res: LayerAlpha[] = [];
  for (let i = 0; i < layers.length; i++) {
    throwIfAborted(opts.signal);
    const layer = layers[i]!;
    opts.onProgress?.({ done: i, layers: layers.length, name: layer.name });
    const data = await source.read(layer.tensor.name, opts.signal);
    res.push(layerAlpha(layer, data, kind, opts));
  }
  opts.onProgress?.({ done: layers.length, layers: layers.length, name: '' });
  return res;
}
