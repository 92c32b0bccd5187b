import { toErrorInfo, type ErrorInfo } from '../../base/errors';
import { fitMarchenkoPastur, type MpFit } from '../../math/mp-fit';
import type { Layer } from '../../model/layer';
import { farmsAnalyze, type FarmsOptions, type FarmsResult } from './farms';
import { layerEsd } from './layer-esd';
import { wwMetrics, type MetricsOptions, type WwMetrics } from './metrics';
import { DEFAULT_WPCA_ETA, wpcaCount } from './wpca';

/**
 * One layer's spectral analysis: ESD, WeightWatcher columns, optional MP fit, FARMS and W-PCA.
 * Never throws for a bad layer (non-finite weights, an all-zero matrix, a failed fit): the result
 * says what went wrong so one broken tensor does not stop a whole model. Cancellation still throws.
 */

export interface SpectraOptions extends MetricsOptions {
  /** WeightWatcher conv2d_norm (default true). */
  conv2dNorm?: boolean;
  /** Marchenko–Pastur fit (WeightWatcher mp_fit; default true here, off in WeightWatcher's analyze()). */
  mpFit?: boolean;
  /** FARMS α on top of the full-matrix α; false to skip (default: on with published defaults). */
  farms?: FarmsOptions | false;
  /** W-PCA energy fraction (default 0.99). */
  wpcaEta?: number;
  signal?: AbortSignal;
}

export interface LayerSpectrumBase {
  id: number;
  name: string;
  N: number;
  M: number;
  rf: number;
  Q: number;
  num_evals: number;
}

export interface LayerSpectrumOk extends LayerSpectrumBase, WwMetrics {
  ok: true;
  /** Pooled ESD, ascending. */
  evals: Float64Array;
  mp: MpFit | null;
  farms: FarmsResult | null;
  /** Singular directions holding wpcaEta of the energy. */
  wpca: number;
  /** Remarks a user should see (fit failed, rank-deficient, ...). */
  notes: string[];
}

export interface LayerSpectrumError extends LayerSpectrumBase {
  ok: false;
  error: ErrorInfo;
}

export type LayerSpectrum = LayerSpectrumOk | LayerSpectrumError;

function base(layer: Layer): LayerSpectrumBase {
  return { id: layer.id, name: layer.name, N: layer.N, M: layer.M, rf: layer.rf, Q: layer.Q, num_evals: layer.num_evals };
}

function fail(layer: Layer, code: string, message: string): LayerSpectrumError {
  return { ...base(layer), ok: false, error: { kind: 'Error', code, message } };
}

/**
 * Checks that rule a layer out before any Gram matrix is built (not a matrix, non-finite or
 * all-zero weights).
 * Returns the per-layer error, or null when the layer can be analyzed.
 */
export function precheckLayer(layer: Layer, data: Float32Array): LayerSpectrumError | null {
  if (layer.kind === 'other' || layer.M === 0) {
    return fail(layer, 'not-a-matrix', `${layer.name}: ${layer.skipReason ?? `shape [${layer.tensor.shape.join(', ')}] is not a weight matrix`}; no spectrum`);
  }
  // Hot path without branches: v·0 is 0 for finite v and NaN for ±Inf/NaN, so the sum stays 0
  // exactly when every weight is finite; only then is the count of non-zeros the whole story.
  let poison = 0;
  let nonZero = 0;
  const n = data.length;
  for (let i = 0; i < n; i++) {
    const v = data[i]!;
    poison += v * 0;
    nonZero += v !== 0 ? 1 : 0;
  }
  let nonFinite = 0;
  if (poison !== 0) for (let i = 0; i < n; i++) if (!Number.isFinite(data[i]!)) nonFinite++;
  if (nonFinite > 0) return fail(layer, 'non-finite', `${layer.name}: ${nonFinite} of ${data.length} weights are NaN or ±Inf; no spectrum`);
  if (nonZero === 0) return fail(layer, 'zero-matrix', `${layer.name}: all ${data.length} weights are zero; no spectrum`);
  return null;
}

/**
 * Everything after the ESD: WeightWatcher columns, MP fit, FARMS, W-PCA. Shared by the CPU path
 * (analyzeLayer) and backends that compute the eigenvalues elsewhere (the WebGPU Gram).
 * `rank`, when the backend knows it better than the eigenvalues do, overrides matrix_rank.
 */
export function spectrumFromEsd(layer: Layer, data: Float32Array, evals: Float64Array, options: SpectraOptions = {}, rank?: number): LayerSpectrum {
  return guard(layer, () => {
    const metrics = wwMetrics(evals, layer.N, rank === undefined ? options : { ...options, rank });
    const notes: string[] = [];
    if (metrics.status === 'failed') notes.push(`power-law fit failed: fewer than 2 eigenvalues above ${options.evalsThresh ?? 1e-5}`);
    if (metrics.matrix_rank < evals.length) notes.push(`rank-deficient: numerical rank ${metrics.matrix_rank} of ${evals.length}`);
    const mp = options.mpFit === false ? null : fitMarchenkoPastur(evals, layer.N, layer.M);
    const farms = options.farms === false ? null : farmsAnalyze(layer, data, { ...(options.farms ?? {}), signal: options.signal });
    return { ...base(layer), ...metrics, ok: true, evals, mp, farms, wpca: wpcaCount(evals, options.wpcaEta ?? DEFAULT_WPCA_ETA), notes };
  });
}

/** Runs `fn`, turning any failure but cancellation into this layer's error result. */
export function guard(layer: Layer, fn: () => LayerSpectrum): LayerSpectrum {
  try {
    return fn();
  } catch (e) {
    return errorResult(layer, e);
  }
}

export function errorResult(layer: Layer, e: unknown): LayerSpectrumError {
  const info = toErrorInfo(e);
  if (info.kind === 'CancelledError') throw e;
  const message = info.message.startsWith(`${layer.name}: `) ? info.message : `${layer.name}: ${info.message}`;
  return { ...base(layer), ok: false, error: { ...info, message } };
}

export function analyzeLayer(layer: Layer, data: Float32Array, options: SpectraOptions = {}): LayerSpectrum {
  const bad = precheckLayer(layer, data);
  if (bad) return bad;
  return guard(layer, () => {
    const { evals, rank } = layerEsd(layer, data, { conv2dNorm: options.conv2dNorm, signal: options.signal });
    return spectrumFromEsd(layer, data, evals, options, rank);
  });
}
