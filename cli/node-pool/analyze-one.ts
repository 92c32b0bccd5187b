import { analyzeLayer, precheckLayer } from '../../lib/analysis/spectra/analyze-layer';
import { farmsAnalyze } from '../../lib/analysis/spectra/farms';
import { toErrorInfo } from '../../lib/base/errors';
import type { TensorSource } from '../../lib/formats/types';
import type { Layer } from '../../lib/model/layer';
import type { AnalyzeSpec, LayerOutcome, SlimFarms } from './pool-messages';

/**
 * One layer, start to finish, the same way in a worker thread and in-process: read its tensor
 * (one tensor at a time keeps peak memory near one tensor plus its working set), analyze it,
 * drop the eigenvalue arrays unless asked. Never throws: a bad tensor becomes an error outcome.
 */

function base(layer: Layer) {
  return { id: layer.id, name: layer.name, N: layer.N, M: layer.M, rf: layer.rf, Q: layer.Q, num_evals: layer.num_evals };
}

function slimFarms(f: SlimFarms | null, keep: boolean): SlimFarms | null {
  if (!f || keep) return f;
  const { evals: _dropped, ...rest } = f;
  return rest;
}

function farmsOnly(layer: Layer, data: Float32Array, spec: AnalyzeSpec): LayerOutcome {
  // The same per-layer errors as the full analysis (NaN/Inf, all zeros), with the same messages.
  const bad = precheckLayer(layer, data);
  if (bad) return bad;
  const farms = farmsAnalyze(layer, data, spec.spectra.farms || {});
  return { ...base(layer), ok: true, mode: 'farms', farms: slimFarms(farms, spec.includeEvals) };
}

export async function analyzeOne(source: TensorSource, layer: Layer, spec: AnalyzeSpec): Promise<LayerOutcome> {
  try {
    const data = await source.read(layer.tensor.name);
    if (spec.farmsOnly) return farmsOnly(layer, data, spec);
    const s = analyzeLayer(layer, data, spec.spectra);
    if (!s.ok) return s;
    const { evals, farms, ...rest } = s;
    return { ...rest, mode: 'full', ...(spec.includeEvals ? { evals } : {}), farms: slimFarms(farms, spec.includeEvals) };
  } catch (e) {
    const info = toErrorInfo(e);
    const named = info.message.startsWith(`${layer.name}:`) ? info.message : `${layer.name}: ${info.message}`;
    return { ...base(layer), ok: false, error: { ...info, message: named } };
  }
}
