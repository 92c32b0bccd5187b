import { errorResult, precheckLayer, spectrumFromEsd, type LayerSpectrum, type SpectraOptions } from '../analysis/spectra/analyze-layer';
import { CONV2D_NORM_FACTOR } from '../analysis/spectra/layer-esd';
import { esdGpu } from '../gpu/esd-gpu';
import type { Layer } from '../model/layer';
import { layerMatrices } from '../model/layer-matrices';

/**
 * analyzeLayer with the Gram matrices built on the GPU (lib/gpu/esd-gpu: GPU Gram, float64
 * eigensolve on the CPU). The same precheck and the same tail (spectrumFromEsd: WeightWatcher
 * columns, MP fit, FARMS on the CPU — its windows are small —, W-PCA) as the CPU path, so
 * results and errors read the same on both backends.
 *
 * Departure from the CPU path: the rank comes from the eigenvalues (WeightWatcher's matrix_rank
 * rule) without the CPU path's pivoted-QR check of roundoff-level eigenvalues, and eigenvalues
 * below `floor`·λmax are Gram rounding noise (the ESD plot draws that floor).
 */
export async function analyzeLayerGpu(device: GPUDevice, layer: Layer, data: Float32Array, options: SpectraOptions = {}): Promise<{ spectrum: LayerSpectrum; floor: number }> {
  const bad = precheckLayer(layer, data);
  if (bad) return { spectrum: bad, floor: 0 };
  let esd: { evals: Float64Array; floor: number };
  try {
    esd = await gpuLayerEsd(device, layer, data, options);
  } catch (e) {
    return { spectrum: errorResult(layer, e), floor: 0 };
  }
  return { spectrum: spectrumFromEsd(layer, data, esd.evals, options), floor: esd.floor };
}

/** The pooled ESD of a layer with every slice's Gram built on the GPU; `floor` is relative to λmax. */
async function gpuLayerEsd(device: GPUDevice, layer: Layer, data: Float32Array, options: SpectraOptions): Promise<{ evals: Float64Array; floor: number }> {
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
  return { evals, floor: lambdaMax > 0 ? floorAbs / lambdaMax : 0 };
}
