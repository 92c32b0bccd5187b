import { toErrorInfo } from '../base/errors';
import { analyzeLayer, type LayerSpectrum, type SpectraOptions } from '../analysis/spectra/analyze-layer';
import { farmsAnalyze } from '../analysis/spectra/farms';
import { CONV2D_NORM_FACTOR } from '../analysis/spectra/layer-esd';
import { wwMetrics } from '../analysis/spectra/metrics';
import { DEFAULT_WPCA_ETA, wpcaCount } from '../analysis/spectra/wpca';
import { esdGpu } from '../gpu/esd-gpu';
import { fitMarchenkoPastur } from '../math/mp-fit';
import type { Layer } from '../model/layer';
import { layerMatrices } from '../model/layer-matrices';

/**
 * analyzeLayer with the Gram matrices built on the GPU (lib/gpu/esd-gpu: GPU Gram, float64
 * eigensolve on the CPU). The engine's analyzeLayer builds its Gram itself and has no hook for
 * another backend, so this assembles the same result from the engine's own parts — WeightWatcher
 * columns, MP fit, FARMS (on the CPU: its windows are small), W-PCA — around a GPU ESD. Layers the
 * engine rejects before any Gram (non-finite, all-zero, not a matrix) go through analyzeLayer
 * itself, so their errors read the same on both backends.
 *
 * Departure from the CPU path: the rank comes from the eigenvalues (WeightWatcher's matrix_rank
 * rule) without the CPU path's pivoted-QR check of roundoff-level eigenvalues, and eigenvalues
 * below `floor`·λmax are Gram rounding noise (the ESD plot draws that floor).
 */
export async function analyzeLayerGpu(device: GPUDevice, layer: Layer, data: Float32Array, options: SpectraOptions = {}): Promise<{ spectrum: LayerSpectrum; floor: number }> {
  let clean = layer.kind !== 'other' && layer.M > 0;
  let nonZero = false;
  for (let i = 0; clean && i < data.length; i++) {
    const v = data[i]!;
    if (!Number.isFinite(v)) clean = false;
    else if (v !== 0) nonZero = true;
  }
  if (!clean || !nonZero) return { spectrum: analyzeLayer(layer, data, options), floor: 0 };
  const base = { id: layer.id, name: layer.name, N: layer.N, M: layer.M, rf: layer.rf, Q: layer.Q, num_evals: layer.num_evals };
  try {
    const isConv = layer.kind === 'conv2d' || layer.kind === 'conv1d';
    const scale = isConv && (options.conv2dNorm ?? true) ? CONV2D_NORM_FACTOR : 1;
    const parts: Float64Array[] = [];
    let floorAbs = 0;
    for (const m of layerMatrices(layer, data)) {
      const r = await esdGpu(device, m.data, m.rows, m.cols, { signal: options.signal, label: layer.name });
      const ev = r.evals;
      for (let i = 0; i < ev.length; i++) ev[i] = Math.max(0, ev[i]! * scale);
      parts.push(ev);
      floorAbs = Math.max(floorAbs, r.floor * r.lambdaMax * scale);
    }
    const evals = new Float64Array(parts.reduce((p, e) => p + e.length, 0));
    let at = 0;
    for (const ev of parts) {
      evals.set(ev, at);
      at += ev.length;
    }
    evals.sort();
    const lambdaMax = evals.length ? evals[evals.length - 1]! : 0;
    const metrics = wwMetrics(evals, layer.N, options);
    const notes: string[] = [];
    if (metrics.status === 'failed') notes.push(`power-law fit failed: fewer than 2 eigenvalues above ${options.evalsThresh ?? 1e-5}`);
    if (metrics.matrix_rank < evals.length) notes.push(`rank-deficient: numerical rank ${metrics.matrix_rank} of ${evals.length}`);
    const mp = options.mpFit === false ? null : fitMarchenkoPastur(evals, layer.N, layer.M);
    const farms = options.farms === false ? null : farmsAnalyze(layer, data, { ...(options.farms ?? {}), signal: options.signal });
    const spectrum: LayerSpectrum = { ...base, ...metrics, ok: true, evals, mp, farms, wpca: wpcaCount(evals, options.wpcaEta ?? DEFAULT_WPCA_ETA), notes };
    return { spectrum, floor: lambdaMax > 0 ? floorAbs / lambdaMax : 0 };
  } catch (e) {
    const info = toErrorInfo(e);
    if (info.kind === 'CancelledError') throw e;
    const message = info.message.startsWith(`${layer.name}: `) ? info.message : `${layer.name}: ${info.message}`;
    return { spectrum: { ...base, ok: false, error: { ...info, message } }, floor: 0 };
  }
}
