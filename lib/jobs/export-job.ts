import { buildMaskSafetensors, buildPrunedSafetensors, type PrunedTensor } from '../analysis/prune/export-pruned';
import { pruneModel, selectPruneLayers } from '../analysis/prune/prune-model';
import type { PruneSettings } from '../analysis/prune/prune-types';
import { buildDequantizedSafetensors, buildPackedSafetensors, safetensorsRawReader, type ExportOptions, type QuantizedTensor } from '../analysis/quant/export-quantized';
import { quantizeModel, selectQuantLayers } from '../analysis/quant/quantize-model';
import type { QuantSettings } from '../analysis/quant/quantize-layer';
import type { TensorSource } from '../formats/types';
import type { Backend, ExportFiles, ModelSpec } from './job-types';
import { openSpec } from './open-spec';

/**
 * Worker side of the views' downloads: the same exports as `weightlens quantize --out/--dequantized`
 * and `weightlens prune --out/--masks`, built in the worker and handed to the page as bytes
 * (Transferable), so a download is byte-for-byte what the command line writes.
 */

export interface ExportJobContext {
  signal: AbortSignal;
  progress(done: number, total: number, label?: string): void;
}

async function exportOptions(src: TensorSource, spec: ModelSpec, signal: AbortSignal): Promise<ExportOptions> {
  // Unchanged tensors are copied as their stored bytes when the source is one safetensors file.
  if (src.format !== 'safetensors') return { signal };
  return { signal, readRaw: await safetensorsRawReader(await openSpec(spec, signal), signal) };
}

/** A model name (file name or URL) as the stem of a download's file name. */
export const stem = (name: string): string => (name.split('/').pop() ?? name).replace(/\.[^.]+$/, '').replace(/[^\w.-]+/g, '_');

export async function runQuantizeExport(
  src: TensorSource, spec: ModelSpec, settings: QuantSettings, filter: string | null, ctx: ExportJobContext,
): Promise<{ data: ExportFiles; backend: Backend; transfer: Transferable[] }> {
  const sel = selectQuantLayers(src, filter ? new RegExp(filter) : undefined);
  const kept: QuantizedTensor[] = [];
  for await (const ev of quantizeModel(src, sel.layers, settings, { signal: ctx.signal, onProgress: (p) => ctx.progress(Math.round(p.fraction * 100), 100, p.name) })) {
    if (ev.type === 'layer' && ev.status === 'quantized') kept.push({ layer: ev.layer, result: { ...ev.result, subError: new Float32Array(0), ambiguity: undefined }, settings });
  }
  ctx.progress(100, 100, 'writing files');
  const opts = await exportOptions(src, spec, ctx.signal);
  const a = await buildPackedSafetensors(src, kept, opts);
  const b = await buildDequantizedSafetensors(src, kept, opts);
  const base = stem(src.name);
  return {
    data: { files: [{ name: `${base}-${settings.method}-packed.safetensors`, bytes: a }, { name: `${base}-${settings.method}-dequantized.safetensors`, bytes: b }], layers: kept.length },
    backend: 'cpu',
    transfer: [a.buffer as ArrayBuffer, b.buffer as ArrayBuffer],
  };
}

export async function runPruneExport(
  src: TensorSource, spec: ModelSpec, settings: PruneSettings, actNorms: Record<string, Float32Array> | undefined, ctx: ExportJobContext,
): Promise<{ data: ExportFiles; backend: Backend; transfer: Transferable[] }> {
  const sel = selectPruneLayers(src);
  const r = await pruneModel(src, sel.layers, settings, {
    signal: ctx.signal,
    onProgress: (p) => ctx.progress(p.done, p.layers, `${p.phase} ${p.name}`),
    ...(actNorms ? { actNorms: new Map(Object.entries(actNorms)) } : {}),
  });
  const pruned: PrunedTensor[] = r.layers.filter((l) => !l.excluded).map((l) => ({ layer: l.layer, mask: l.mask, target: l.target, alpha: l.alpha }));
  const info = { method: settings.method, settings };
  ctx.progress(1, 1, 'writing files');
  const a = await buildPrunedSafetensors(src, pruned, info, await exportOptions(src, spec, ctx.signal));
  const b = buildMaskSafetensors(src, pruned, info, { signal: ctx.signal });
  const base = stem(src.name);
  return {
    data: { files: [{ name: `${base}-${settings.method}-pruned.safetensors`, bytes: a }, { name: `${base}-${settings.method}-masks.safetensors`, bytes: b }], layers: pruned.length },
    backend: 'cpu',
    transfer: [a.buffer as ArrayBuffer, b.buffer as ArrayBuffer],
  };
}
