import { CancelledError, UnsupportedError, WeightLensError, throwIfAborted } from '../../base/errors';
import type { TensorSource } from '../../formats/types';
import { buildLayers } from '../../model/build-layers';
import { NO_LAYER_LIMITS, type Layer } from '../../model/layer';
import { MAX_PVQ_GAIN_BITS, MAX_PVQ_PULSES } from './pvq';
import { codewordUsage } from './quant-metrics';
import { quantMatrix } from './quant-matrix';
import { toStoredPrecision } from './export-quantized';
import {
  MAX_QUANT_D, QUANT_METHODS, quantizeLayer,
  type KmeansFn, type LayerQuantResult, type QuantBits, type QuantSettings,
} from './quantize-layer';

/**
 * The whole-model driver: quantize the selected layers one at a time (peak memory ≈ one tensor
 * and its working set), yielding each layer's outcome as it finishes, then the model's totals.
 *
 * Every result is rounded to the precision the packed export stores (toStoredPrecision), so the
 * reported metrics are those of the weights a user gets back from either exported file.
 *
 * Totals pool the quantized weights: MSE = Σ err² / Σ n, relF = √(Σ err² / Σ w²),
 * SQNR = −20·log10 relF, each from summed float64 squares (not an average of per-layer figures);
 * bits per weight are weighted by each layer's weight count.
 */

/** Usage of a code alphabet: VQ codewords (first stage, and the residual stage for RVQ) or RTN code levels. */
export interface UsageSummary {
  /** Alphabet size (k, k2, or 2^bits for RTN). */
  k: number;
  entropyBits: number;
  perplexity: number;
  dead: number;
}

export interface QuantizedLayerOutcome {
  type: 'layer';
  status: 'quantized';
  /** Position in the selection (0-based). */
  index: number;
  layer: Layer;
  result: LayerQuantResult;
  /** Σ (w − ŵ)² and Σ w² in float64, for pooling. */
  errSum: number;
  sigSum: number;
  usage?: UsageSummary;
  usage2?: UsageSummary;
}

export interface SkippedLayerOutcome {
  type: 'layer';
  status: 'skipped';
  index: number;
  layer: Layer;
  code: string;
  reason: string;
}

export type LayerQuantOutcome = QuantizedLayerOutcome | SkippedLayerOutcome;

export interface ModelQuantTotals {
  layers: number;
  quantized: number;
  skipped: number;
  /** Quantized weights. */
  weights: number;
  /** Bits per quantized weight, split as QuantBits. */
  bits: QuantBits;
  /** Bits of the quantized layers in all (bits.total · weights). */
  totalBits: number;
  mse: number;
  relFrobenius: number;
  /** Infinity when every quantized layer is reconstructed exactly. */
  sqnrDb: number;
  errSum: number;
  sigSum: number;
}

export type ModelQuantEvent = LayerQuantOutcome | { type: 'total'; totals: ModelQuantTotals };

export interface ModelQuantProgress {
  /** Layers finished. */
  done: number;
  layers: number;
  /** The layer being worked on. */
  name: string;
  /** Overall fraction in [0, 1]. */
  fraction: number;
}

export interface ModelQuantOptions {
  signal?: AbortSignal;
  onProgress?: (p: ModelQuantProgress) => void;
  kmeansImpl?: KmeansFn;
}

const isInt = (v: number, lo: number, hi: number) => Number.isInteger(v) && v >= lo && v <= hi;

/**
 * Settings that are wrong whatever the layer (a bad method, bits, k, d...): refused before any
 * work. What depends on a layer's shape (d must divide the row, k ≤ sub-vectors) skips that layer.
 */
export function validateQuantSettings(s: QuantSettings): void {
  const bad = (code: string, msg: string): never => {
    throw new UnsupportedError(code, `quantize: ${msg}`);
  };
  if (!QUANT_METHODS.includes(s.method)) bad('quant-method', `method "${String(s.method)}" is not one of ${QUANT_METHODS.join(', ')}`);
  if (s.method === 'rtn') {
    if (!isInt(s.bits, 2, 8)) bad('rtn-bits', `bits = ${s.bits} must be an integer in 2..8`);
    if (s.group !== 'channel' && !isInt(s.group, 1, Number.MAX_SAFE_INTEGER)) bad('rtn-group', `group = ${String(s.group)} must be a positive integer or "channel"`);
    return;
  }
  if (!isInt(s.d, 1, MAX_QUANT_D)) bad('quant-d', `d = ${s.d} must be an integer in 1..${MAX_QUANT_D}`);
  if (s.method === 'pvq') {
    if (!isInt(s.pulses, 1, MAX_PVQ_PULSES)) bad('pvq-pulses', `pulses = ${s.pulses} must be an integer in 1..${MAX_PVQ_PULSES}`);
    if (!isInt(s.gainBits, 1, MAX_PVQ_GAIN_BITS)) bad('pvq-gain-bits', `gain bits = ${s.gainBits} must be an integer in 1..${MAX_PVQ_GAIN_BITS}`);
    return;
  }
  if (!isInt(s.k, 2, 65536)) bad('quant-k', `k = ${s.k} must be an integer in 2..65536`);
  if (s.method === 'rvq' && !isInt(s.k2, 2, 65536)) bad('quant-k', `k2 = ${s.k2} must be an integer in 2..65536`);
  if (!isInt(s.iters, 0, 100_000)) bad('quant-iters', `iters = ${s.iters} must be an integer in 0..100000`);
  if (!isInt(s.rowGroup, 0, Number.MAX_SAFE_INTEGER)) bad('quant-row-group', `rows per codebook = ${s.rowGroup} must be 0 (one codebook per layer) or a positive integer`);
  if (!isInt(s.sample, 0, Number.MAX_SAFE_INTEGER)) bad('quant-sample', `sample = ${s.sample} must be 0 (fit on all) or a positive integer`);
  if (s.codebookBits !== 16 && s.codebookBits !== 32) bad('quant-codebook-bits', `codebook bits = ${String(s.codebookBits)} must be 16 or 32`);
}

/** Why a catalog layer cannot be quantized at all (before its settings are checked), or undefined. */
export function unquantizableReason(l: Layer): string | undefined {
  if (!l.tensor.decodable) return `tensor "${l.tensor.name}" (${l.tensor.dtype}) is not decodable${l.tensor.note ? `: ${l.tensor.note}` : ''}`;
  if (l.kind === 'other' || l.M === 0) return l.skipReason ?? `shape [${l.tensor.shape.join(', ')}] is not a weight matrix or conv kernel`;
  // Size limits (WeightWatcher's) do not matter here; anything else the catalog refused does.
  if (!l.analyzable && !l.limited) return l.skipReason ?? 'not a weight tensor';
  return undefined;
}

export interface QuantSelection {
  layers: Layer[];
  /** Tensors the filter matched that are not layers at all (rank 0–1: biases, norms). */
  notLayers: { name: string; reason: string }[];
}

/**
 * The layers to quantize: every rank ≥ 2 tensor of the catalog (size limits lifted) whose layer
 * or tensor name matches `filter`. With a filter, matching rank 0–1 tensors are listed so the
 * user learns why they stay as they are.
 */
export function selectQuantLayers(source: TensorSource, filter?: RegExp): QuantSelection {
  const all = buildLayers(source.tensors, source.format, NO_LAYER_LIMITS);
  const layers = all.filter((l) => !filter || filter.test(l.name) || filter.test(l.tensor.name));
  const inCatalog = new Set(all.map((l) => l.tensor.name));
  const notLayers = filter
    ? source.tensors
        .filter((t) => !inCatalog.has(t.name) && filter.test(t.name))
        .map((t) => ({ name: t.name, reason: `${t.shape.length}-D tensor [${t.shape.join(', ')}] (bias, norm or scalar) is kept as stored` }))
    : [];
  return { layers, notLayers };
}

function usageOf(assign: Uint32Array, k: number): UsageSummary {
  const u = codewordUsage(assign, k);
  return { k, entropyBits: u.entropyBits, perplexity: u.perplexity, dead: u.dead };
}

function sums(a: Float32Array, b: Float32Array): { errSum: number; sigSum: number } {
  let errSum = 0;
  let sigSum = 0;
  for (let i = 0; i < a.length; i++) {
    const w = a[i]!;
    const e = w - b[i]!;
    errSum += e * e;
    sigSum += w * w;
  }
  return { errSum, sigSum };
}

export class ModelQuantAccumulator {
  private layers = 0;
  private quantized = 0;
  private weights = 0;
  private errSum = 0;
  private sigSum = 0;
  private bitSums = { index: 0, codebook: 0, scale: 0, zero: 0, total: 0 };

  add(o: LayerQuantOutcome): void {
    this.layers++;
    if (o.status !== 'quantized') return;
    this.quantized++;
    const n = o.result.rows * o.result.cols;
    this.weights += n;
    this.errSum += o.errSum;
    this.sigSum += o.sigSum;
    for (const k of ['index', 'codebook', 'scale', 'zero', 'total'] as const) this.bitSums[k] += o.result.bits[k] * n;
  }

  totals(): ModelQuantTotals {
    const n = this.weights;
    const per = (k: keyof QuantBits) => (n === 0 ? 0 : this.bitSums[k] / n);
    const relFrobenius = this.errSum === 0 ? 0 : this.sigSum === 0 ? Infinity : Math.sqrt(this.errSum / this.sigSum);
    return {
      layers: this.layers,
      quantized: this.quantized,
      skipped: this.layers - this.quantized,
      weights: n,
      bits: { index: per('index'), codebook: per('codebook'), scale: per('scale'), zero: per('zero'), total: per('total') },
      totalBits: this.bitSums.total,
      mse: n === 0 ? 0 : this.errSum / n,
      relFrobenius,
      sqnrDb: relFrobenius === 0 ? Infinity : -20 * Math.log10(relFrobenius),
      errSum: this.errSum,
      sigSum: this.sigSum,
    };
  }
}

/**
 * Quantizes `layers` of `source` with `settings`, one after another. Yields each layer's outcome
 * (quantized, or skipped with the reason when its shape does not suit the settings or it is not
 * a weight matrix), then `{ type: 'total' }`. Read and cancellation errors propagate.
 */
export async function* quantizeModel(
  source: TensorSource, layers: readonly Layer[], settings: QuantSettings, opts: ModelQuantOptions = {},
): AsyncGenerator<ModelQuantEvent, void, undefined> {
  validateQuantSettings(settings);
  const acc = new ModelQuantAccumulator();
  const total = layers.length;
  for (let i = 0; i < total; i++) {
    throwIfAborted(opts.signal);
    const layer = layers[i]!;
    const report = (f: number) => opts.onProgress?.({ done: i, layers: total, name: layer.name, fraction: (i + Math.min(1, Math.max(0, f))) / total });
    report(0);
    const skip = (code: string, reason: string): SkippedLayerOutcome => ({ type: 'layer', status: 'skipped', index: i, layer, code, reason });
    let outcome: LayerQuantOutcome;
    const why = unquantizableReason(layer);
    if (why !== undefined) {
      outcome = skip('quant-not-matrix', why);
    } else {
      const data = await source.read(layer.tensor.name, opts.signal);
      try {
        const m = quantMatrix(layer, data);
        const raw = await quantizeLayer(m, settings, {
          onProgress: report,
          ...(opts.signal ? { signal: opts.signal } : {}),
          ...(opts.kmeansImpl ? { kmeansImpl: opts.kmeansImpl } : {}),
        });
        const result = toStoredPrecision(m.data, raw, settings, layer.tensor.name);
        const q: QuantizedLayerOutcome = { type: 'layer', status: 'quantized', index: i, layer, result, ...sums(m.data, result.dequantized) };
        if (result.vq) q.usage = usageOf(result.vq.assign, result.vq.k);
        if (result.residual) q.usage2 = usageOf(result.residual.assign, result.residual.k);
        if (result.rtn) q.usage = usageOf(Uint32Array.from(result.rtn.codes), 2 ** settings.bits);
        outcome = q;
      } catch (e) {
        // A layer the settings do not fit is reported, not fatal; cancellation and bugs are.
        if (e instanceof CancelledError || !(e instanceof UnsupportedError)) throw e;
        outcome = skip((e as WeightLensError).code, e.message.replace(/^(quantize|RTN): /, ''));
      }
    }
    acc.add(outcome);
    report(1);
    yield outcome;
  }
  yield { type: 'total', totals: acc.totals() };
}

/** Runs quantizeModel to the end and collects its outcomes. */
export async function quantizeModelAll(
  source: TensorSource, layers: readonly Layer[], settings: QuantSettings, opts: ModelQuantOptions = {},
): Promise<{ layers: LayerQuantOutcome[]; totals: ModelQuantTotals }> {
  const out: LayerQuantOutcome[] = [];
  let totals: ModelQuantTotals | undefined;
  for await (const ev of quantizeModel(source, layers, settings, opts)) {
    if (ev.type === 'total') totals = ev.totals;
    else out.push(ev);
  }
  return { layers: out, totals: totals! };
}
