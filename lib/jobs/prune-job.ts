import { throwIfAborted } from '../base/errors';
import { layerAlpha, type AlphaKind } from '../analysis/prune/layer-alphas';
import { applyMask, hamming, jaccard, nmValidity } from '../analysis/prune/mask';
import { pruneLayers, type PruneInputLayer, type PruneResult } from '../analysis/prune/prune-layers';
import type { PruneSettings } from '../analysis/prune/prune-types';
import { quantMatrix, storedFromQuantMatrix, type QuantMatrix } from '../analysis/quant/quant-matrix';
import type { TensorSource } from '../formats/types';
import { buildLayers, type Layer } from '../model';
import { isWeightMatrix } from '../model/layer';
import type { Backend, JobOf, PruneJobResult, PruneLayerRow } from './job-types';

/**
 * Worker side of the Prune view's `prune` job: masks for every weight matrix of the model under
 * one setting (allocation, global thresholds and DIMAP's module types need all layers at once),
 * with the selected layer's mask, profiles and score histogram in full, an optional second mask
 * to compare with, and optionally the pruned weights for the accuracy curve. Decoded matrices and
 * α per layer are kept per opened model, so moving the sparsity slider only re-selects.
 */

export interface PruneJobContext {
  signal: AbortSignal;
  progress(done: number, total: number, label?: string): void;
}

/** Decoded matrices are cached for models up to this many weights (the demo models and alike). */
export const PRUNE_CACHE_MAX_WEIGHTS = 64_000_000;

interface Cached {
  layers: Layer[];
  matrices: Map<string, QuantMatrix>;
  alphas: Map<AlphaKind, Map<string, number | null>>;
}
const cache = new WeakMap<TensorSource, Cached>();

/** Weight matrices and conv kernels that decode: the layers a mask is made for. */
export function prunableLayers(src: TensorSource): Layer[] {
  return buildLayers(src.tensors, src.format).filter(isWeightMatrix);
}

function cachedOf(src: TensorSource): Cached {
  let c = cache.get(src);
  if (!c) {
    c = { layers: prunableLayers(src), matrices: new Map(), alphas: new Map() };
    cache.set(src, c);
  }
  return c;
}

async function matrices(src: TensorSource, c: Cached, ctx: PruneJobContext): Promise<QuantMatrix[]> {
  const total = c.layers.reduce((p, l) => p + l.tensor.shape.reduce((a, b) => a * b, 1), 0);
  const keep = total <= PRUNE_CACHE_MAX_WEIGHTS;
  const out: QuantMatrix[] = [];
  for (const [i, l] of c.layers.entries()) {
    throwIfAborted(ctx.signal);
    let m = c.matrices.get(l.tensor.name);
    if (!m) {
      ctx.progress(i, c.layers.length, `reading ${l.name}`);
      m = quantMatrix(l, await src.read(l.tensor.name, ctx.signal));
      if (keep) c.matrices.set(l.tensor.name, m);
    }
    out.push(m);
  }
  return out;
}

async function alphasOf(src: TensorSource, c: Cached, kind: AlphaKind, ctx: PruneJobContext): Promise<Map<string, number | null>> {
  let a = c.alphas.get(kind);
  if (a) return a;
  a = new Map();
  for (const [i, l] of c.layers.entries()) {
    throwIfAborted(ctx.signal);
    ctx.progress(i, c.layers.length, `α of ${l.name}`);
    // Only the layers WeightWatcher analyzes get an α; the others take the target.
    a.set(l.tensor.name, l.analyzable ? layerAlpha(l, await src.read(l.tensor.name, ctx.signal), kind, { signal: ctx.signal }).alpha : null);
  }
  c.alphas.set(kind, a);
  return a;
}

async function pruneWith(src: TensorSource, c: Cached, mats: QuantMatrix[], settings: PruneSettings, actNorms: Record<string, Float32Array> | undefined, ctx: PruneJobContext): Promise<{ result: PruneResult; alphas: Map<string, number | null> | null }> {
  const alphas = settings.allocation === 'uniform' ? null : await alphasOf(src, c, settings.allocation === 'farms' ? 'farms' : 'alpha', ctx);
  const inputs: PruneInputLayer[] = c.layers.map((l, i) => {
    const norms = actNorms?.[l.tensor.name];
    return { name: l.name, matrix: mats[i]!, alpha: alphas?.get(l.tensor.name) ?? null, ...(norms ? { actNorms: norms } : {}) };
  });
  const result = await pruneLayers(inputs, settings, { signal: ctx.signal, onProgress: (p) => ctx.progress(p.done, p.layers, p.name) });
  return { result, alphas };
}

export async function runPruneJob(src: TensorSource, job: JobOf<'prune'>, ctx: PruneJobContext): Promise<{ data: PruneJobResult; backend: Backend; transfer: Transferable[] }> {
  const t0 = performance.now();
  const c = cachedOf(src);
  const mats = await matrices(src, c, ctx);
  const { result, alphas } = await pruneWith(src, c, mats, job.settings, job.actNorms, ctx);
  const layers: PruneLayerRow[] = result.layers.map((o, i) => {
    const l = c.layers[i]!;
    return {
      tensor: l.tensor.name,
      layer: l.name,
      order: l.id,
      rows: mats[i]!.rows,
      cols: mats[i]!.cols,
      target: o.ratio,
      achieved: o.stats.sparsity,
      alpha: alphas?.get(l.tensor.name) ?? null,
      nmViolations: job.settings.method === 'nm' ? nmValidity(o.mask, job.settings.n, job.settings.m).violatingGroups : null,
      excluded: o.excluded,
    };
  });
  let detail: PruneJobResult['detail'] = null;
  const transfer: Transferable[] = [];
  const di = job.detail ? c.layers.findIndex((l) => l.tensor.name === job.detail) : -1;
  if (di >= 0) {
    const o = result.layers[di]!;
    const h = o.histogram;
    let compare: NonNullable<PruneJobResult['detail']>['compare'] = null;
    if (job.compare) {
      throwIfAborted(ctx.signal);
      const other = await pruneWith(src, c, mats, { ...job.settings, method: job.compare.method, allocation: job.compare.allocation }, job.actNorms, ctx);
      const mb = other.result.layers[di]!.mask;
      compare = { ...job.compare, mask: mb, jaccard: jaccard(o.mask, mb), hamming: hamming(o.mask, mb) };
      transfer.push(mb.bits.buffer as ArrayBuffer);
    }
    detail = {
      tensor: c.layers[di]!.tensor.name,
      layer: c.layers[di]!.name,
      rows: mats[di]!.rows,
      cols: mats[di]!.cols,
      mask: o.mask,
      rowSparsity: o.stats.rowSparsity,
      colSparsity: o.stats.colSparsity,
      histogram: { counts: h.counts, lo: h.log10Min, hi: h.log10Max, logScores: true },
      threshold: o.threshold !== null && o.threshold > 0 ? Math.log10(o.threshold) : null,
      compare,
    };
  }
  let weights: Record<string, Float32Array> | null = null;
  if (job.withWeights) {
    weights = {};
    for (const [i, o] of result.layers.entries()) {
      if (o.excluded) continue;
      const l = c.layers[i]!;
      weights[l.tensor.name] = storedFromQuantMatrix(l, applyMask(mats[i]!.data, o.mask));
      transfer.push(weights[l.tensor.name]!.buffer as ArrayBuffer);
    }
  }
  // The detail mask's buffers are shared with the cached result only through this reply: structured clone copies them.
  return { data: { layers, total: { weights: result.weights, kept: result.kept, sparsity: result.sparsity }, detail, weights, ms: performance.now() - t0 }, backend: 'cpu', transfer };
}
