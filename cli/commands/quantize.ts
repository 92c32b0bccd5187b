import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  buildDequantizedSafetensors, buildPackedSafetensors, safetensorsRawReader, type ExportOptions, type QuantizedTensor,
} from '../../lib/analysis/quant/export-quantized';
import { DEFAULT_QUANT_SETTINGS, type QuantSettings } from '../../lib/analysis/quant/quantize-layer';
import {
  quantizeModel, selectQuantLayers, type LayerQuantOutcome, type ModelQuantTotals, type UsageSummary,
} from '../../lib/analysis/quant/quantize-model';
import { openModel } from '../../lib/formats/registry';
import type { QuantizeArgs } from '../args';
import { fmtNum, fmtSize, table } from '../format-text';
import { isUrl, openInput } from '../open-target';

/**
 * `weightlens quantize`: quantizes the model's weight matrices one at a time with one of the
 * methods WeightLens compares (rtn, vq, rvq, pvq), prints each layer's error and bits per weight
 * and the whole model's (pooled over all quantized weights), and optionally writes the packed
 * model (--out) and the dequantized one (--dequantized). Metric names: sqnr_db, rel_frob, mse,
 * bpw (= bpw_index + bpw_codebook + bpw_scale + bpw_zero), entropy (bits) / perplexity /
 * dead_codewords of the code usage (VQ codewords; RTN code levels).
 */

export interface QuantizeOptions {
  quant: QuantizeArgs;
  layers?: string;
  out?: string;
  dequantized?: string;
  json: boolean;
  /** Progress line on stderr (the CLI turns it on when stderr is a terminal). */
  progress?: boolean;
}

type Num = number | null;

/** Error and bits per weight, for a layer or the whole model. */
export interface QuantizeMetrics {
  sqnr_db: Num;
  rel_frob: Num;
  mse: number;
  bpw: number;
  bpw_index: number;
  bpw_codebook: number;
  bpw_scale: number;
  bpw_zero: number;
}

export interface QuantizeRow extends QuantizeMetrics {
  name: string;
  tensor: string;
  shape: number[];
  rows: number;
  cols: number;
  /** Code usage: VQ's (first-stage) codewords or RTN's levels; null for PVQ (no codebook). */
  k: Num;
  entropy: Num;
  perplexity: Num;
  dead_codewords: Num;
  /** RVQ's second stage. */
  k2?: number;
  entropy2?: number;
  perplexity2?: number;
  dead_codewords2?: number;
  iterations: Num;
  ms: number;
}

export interface QuantizeTotals extends QuantizeMetrics {
  layers: number;
  quantized: number;
  skipped: number;
  weights: number;
}

export interface QuantizeResult {
  file: string;
  format: string;
  method: QuantSettings['method'];
  settings: QuantSettings;
  layers: QuantizeRow[];
  skipped: { name: string; tensor: string; reason: string }[];
  total: QuantizeTotals;
  outputs: { packed?: { file: string; bytes: number }; dequantized?: { file: string; bytes: number } };
}

const finite = (v: number): Num => (Number.isFinite(v) ? v : null);

export function quantSettingsOf(a: QuantizeArgs): QuantSettings {
  const s: QuantSettings = { ...DEFAULT_QUANT_SETTINGS, method: a.method };
  for (const [k, v] of Object.entries(a)) if (v !== undefined) (s as unknown as Record<string, unknown>)[k] = v;
  return s;
}

function usageCells(u: UsageSummary | undefined): Pick<QuantizeRow, 'k' | 'entropy' | 'perplexity' | 'dead_codewords'> {
  return u ? { k: u.k, entropy: u.entropyBits, perplexity: u.perplexity, dead_codewords: u.dead } : { k: null, entropy: null, perplexity: null, dead_codewords: null };
}

function metricsOf(e: { sqnrDb: number; relFrobenius: number; mse: number }, b: { total: number; index: number; codebook: number; scale: number; zero: number }): QuantizeMetrics {
  return {
    sqnr_db: finite(e.sqnrDb), rel_frob: finite(e.relFrobenius), mse: e.mse,
    bpw: b.total, bpw_index: b.index, bpw_codebook: b.codebook, bpw_scale: b.scale, bpw_zero: b.zero,
  };
}

function rowOf(o: Extract<LayerQuantOutcome, { status: 'quantized' }>): QuantizeRow {
  const r = o.result;
  const row: QuantizeRow = {
    name: o.layer.name,
    tensor: o.layer.tensor.name,
    shape: [...o.layer.tensor.shape],
    rows: r.rows,
    cols: r.cols,
    ...metricsOf(r.error, r.bits),
    ...usageCells(o.usage),
    iterations: r.vq ? r.vq.iterations : null,
    ms: r.ms,
  };
  if (o.usage2) Object.assign(row, { k2: o.usage2.k, entropy2: o.usage2.entropyBits, perplexity2: o.usage2.perplexity, dead_codewords2: o.usage2.dead });
  return row;
}

function totalsOf(t: ModelQuantTotals): QuantizeTotals {
  return {
    layers: t.layers, quantized: t.quantized, skipped: t.skipped, weights: t.weights,
    ...metricsOf(t, t.bits),
  };
}

function progressLine(done: number, total: number, name: string, fraction: number, t0: number): void {
  const secs = (performance.now() - t0) / 1000;
  process.stderr.write(`\r\x1b[Kquantizing ${done}/${total} (${Math.round(fraction * 100)}%, ${secs.toFixed(1)} s) ${name}`);
}

export async function collectQuantize(target: string, opts: QuantizeOptions): Promise<QuantizeResult> {
  const settings = quantSettingsOf(opts.quant);
  const filter = opts.layers === undefined ? undefined : new RegExp(opts.layers);
  for (const [flag, f] of [['--out', opts.out], ['--dequantized', opts.dequantized]] as const) {
    if (f !== undefined && !isUrl(target) && resolve(f) === resolve(target)) throw new Error(`${flag} ${f} would overwrite the model being quantized`);
  }
  const { input, close } = await openInput(target);
  try {
    const source = await openModel(input);
    const sel = selectQuantLayers(source, filter);
    if (sel.layers.length === 0) {
      throw new Error(filter ? `no weight matrix matches --layers ${String(filter)}` : 'the model has no weight matrix (tensor of rank 2 or more) to quantize');
    }
    const exporting = opts.out !== undefined || opts.dequantized !== undefined;
    const kept: QuantizedTensor[] = [];
    const rows: QuantizeRow[] = [];
    const skipped: QuantizeResult['skipped'] = [];
    let totals: ModelQuantTotals | undefined;
    const t0 = performance.now();
    for await (const ev of quantizeModel(source, sel.layers, settings, {
      ...(opts.progress ? { onProgress: (p: { done: number; layers: number; name: string; fraction: number }) => progressLine(p.done, p.layers, p.name, p.fraction, t0) } : {}),
    })) {
      if (ev.type === 'total') totals = ev.totals;
      else if (ev.status === 'skipped') skipped.push({ name: ev.layer.name, tensor: ev.layer.tensor.name, reason: ev.reason });
      else {
        rows.push(rowOf(ev));
        // Only an export needs the codes and reconstructions; otherwise each layer's arrays are dropped here.
        // The view-only per-sub-vector arrays (ambiguity, subError) are not exported either.
        if (exporting) kept.push({ layer: ev.layer, result: { ...ev.result, subError: new Float32Array(0), ambiguity: undefined }, settings });
      }
    }
    if (opts.progress) process.stderr.write('\r\x1b[K');
    for (const n of sel.notLayers) skipped.push({ name: n.name, tensor: n.name, reason: n.reason });
    if (rows.length === 0) {
      const why = skipped.slice(0, 3).map((s) => `${s.name}: ${s.reason}`).join('; ');
      throw new Error(`no layer could be quantized with these settings (${why}${skipped.length > 3 ? '; ...' : ''})`);
    }
    const outputs: QuantizeResult['outputs'] = {};
    if (exporting) {
      const exportOpts: ExportOptions = source.format === 'safetensors' ? { readRaw: await safetensorsRawReader(input) } : {};
      if (opts.out !== undefined) {
        const bytes = await buildPackedSafetensors(source, kept, exportOpts);
        await writeFile(opts.out, bytes);
        outputs.packed = { file: opts.out, bytes: bytes.byteLength };
      }
      if (opts.dequantized !== undefined) {
        const bytes = await buildDequantizedSafetensors(source, kept, exportOpts);
        await writeFile(opts.dequantized, bytes);
        outputs.dequantized = { file: opts.dequantized, bytes: bytes.byteLength };
      }
    }
    return { file: target, format: source.format, method: settings.method, settings, layers: rows, skipped, total: totalsOf(totals!), outputs };
  } finally {
    await close();
  }
}

function settingsText(s: QuantSettings): string {
  switch (s.method) {
    case 'rtn':
      return `rtn ${s.bits}-bit ${s.symmetric ? 'symmetric' : 'asymmetric'}, ${s.group === 'channel' ? 'per channel' : `groups of ${s.group}`}`;
    case 'pvq':
      return `pvq d ${s.d}, ${s.pulses} pulses, ${s.gainBits}-bit gains`;
    default:
      return `${s.method} d ${s.d}, k ${s.k}${s.method === 'rvq' ? ` + k2 ${s.k2}` : ''}, ${s.rowGroup > 0 ? `a codebook per ${s.rowGroup} rows` : 'a codebook per layer'}, F${s.codebookBits} codebooks, ${s.iters} iterations, seed ${s.seed}${s.sample > 0 ? `, fitted on ${s.sample} sub-vectors` : ''}`;
  }
}

export function formatQuantizeText(r: QuantizeResult): string {
  const cell = (v: number | null | undefined) => (v === null || v === undefined ? '-' : fmtNum(v));
  const usage = r.method !== 'pvq';
  const cols = ['name', '>rows', '>cols', '>sqnr_db', '>rel_frob', '>mse', '>bpw', '>bpw_index', '>bpw_codebook', '>bpw_scale', '>bpw_zero', ...(usage ? ['>entropy', '>perplexity', '>dead_codewords'] : [])];
  const line = (name: string, v: Record<string, number | null | undefined>) => [name, ...cols.slice(1).map((h) => cell(v[h.slice(1)]))];
  const rows = r.layers.map((l) => line(l.name, l as unknown as Record<string, number | null>));
  const t = r.total;
  rows.push(line('total', { ...t, rows: undefined, cols: undefined } as unknown as Record<string, number | null>));
  const out = [
    `${r.file}: ${settingsText(r.settings)}; ${t.quantized} of ${t.layers} layers quantized (${r.format})`,
    table(cols, rows),
    `total: pooled over all ${t.weights} quantized weights (not a mean of the layer figures)`,
  ];
  if (r.skipped.length) out.push(`skipped:\n${r.skipped.map((s) => `  ${s.name}: ${s.reason}`).join('\n')}`);
  if (r.outputs.packed) out.push(`wrote ${r.outputs.packed.file} (packed, ${fmtSize(r.outputs.packed.bytes)})`);
  if (r.outputs.dequantized) out.push(`wrote ${r.outputs.dequantized.file} (dequantized, ${fmtSize(r.outputs.dequantized.bytes)})`);
  return `${out.join('\n')}\n`;
}

export async function quantize(target: string, opts: QuantizeOptions): Promise<string> {
  const r = await collectQuantize(target, opts);
  return opts.json ? `${JSON.stringify(r, null, 1)}\n` : formatQuantizeText(r);
}
