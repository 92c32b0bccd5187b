import type { FarmsOptions } from '../../lib/analysis/spectra/farms';
import type { FitMethod } from '../../lib/analysis/spectra/metrics';
import { useWasmKernel, type CpuKernel } from '../../lib/math/wasm/spectra-kernels';
import type { Layer } from '../../lib/model/layer';
import { NO_LAYER_LIMITS } from '../../lib/model/layer';
import { csv, fmtNum, table } from '../format-text';
import { runPool } from '../node-pool/run-pool';
import { openAnalysis } from '../node-pool/open-analysis';
import type { AnalyzeSpec, LayerOutcome } from '../node-pool/pool-messages';

/**
 * `weightlens analyze`: WeightWatcher's per-layer table (same column names, same layer
 * selection and defaults), computed on worker threads, with optional Marchenko–Pastur and
 * FARMS columns. A layer that cannot be analysed becomes a row with an `error` cell.
 */

export interface AnalyzeOptions {
  format: 'text' | 'json' | 'csv';
  farms: boolean;
  /** FARMS columns only, without the full-matrix ESD. */
  farmsOnly: boolean;
  farmsOptions: FarmsOptions;
  mpFit: boolean;
  fit: FitMethod;
  /** Regular expression (source) a layer or tensor name must match. */
  layers?: string;
  noLimits: boolean;
  threads: number;
  /** CPU kernels: WASM SIMD when the engine has it ('auto'), or forced. */
  kernel: CpuKernel;
  /** Progress line on stderr (the CLI turns it on when stderr is a terminal). */
  progress?: boolean;
}

export type Cell = number | string | null;
export type Row = Record<string, Cell>;

const BASE_COLUMNS = ['layer_id', 'name'];
/** WeightWatcher 0.7.5 analyze() columns, in its order. */
export const WW_COLUMNS = [
  'alpha', 'alpha_weighted', 'D', 'xmin', 'xmax', 'sigma', 'num_pl_spikes', 'log_norm', 'log_spectral_norm',
  'spectral_norm', 'log_alpha_norm', 'stable_rank', 'entropy', 'lambda_max', 'num_evals', 'N', 'M', 'rf', 'Q', 'warning',
];
/** WeightLens additions: WeightWatcher's matrix_rank, and the W-PCA count (directions holding 99% of Σσ²). */
export const EXTRA_COLUMNS = ['matrix_rank', 'wpca'];
const FINGER_COLUMNS = ['num_fingers', 'raw_alpha'];
export const MP_COLUMNS = ['sigma_mp', 'num_spikes', 'mp_softrank', 'bulk_min', 'bulk_max'];
export const FARMS_COLUMNS = ['farms_alpha', 'farms_alpha_weighted', 'farms_D', 'farms_xmin', 'farms_spectral_norm', 'farms_nr', 'farms_nc', 'farms_windows'];
const GEOMETRY_COLUMNS = ['num_evals', 'N', 'M', 'rf', 'Q'];

export function analyzeColumns(opts: Pick<AnalyzeOptions, 'farms' | 'farmsOnly' | 'mpFit' | 'fit'>): string[] {
  if (opts.farmsOnly) return [...BASE_COLUMNS, ...GEOMETRY_COLUMNS, ...FARMS_COLUMNS, 'error'];
  return [
    ...BASE_COLUMNS,
    ...WW_COLUMNS,
    ...EXTRA_COLUMNS,
    ...(opts.fit === 'clip_xmax' ? FINGER_COLUMNS : []),
    ...(opts.mpFit ? MP_COLUMNS : []),
    ...(opts.farms ? FARMS_COLUMNS : []),
    'error',
  ];
}

export interface AnalyzeResult {
  file: string;
  format: string;
  /** The fit as the CLI spells it (ww = WeightWatcher's default). */
  fit: string;
  threads: number;
  /** The CPU kernels that ran: 'wasm' (WebAssembly SIMD) or 'ts' (the TypeScript reference). */
  kernel: 'wasm' | 'ts';
  columns: string[];
  layers: Row[];
  /** Catalog layers left out by WeightWatcher's limits (lift them with --no-limits). */
  skipped: { name: string; reason: string }[];
  /** Per-layer remarks (rank-deficient, failed fit), by layer name. */
  notes: Record<string, string[]>;
}

export function outcomeRow(o: LayerOutcome, columns: readonly string[]): Row {
  const cells: Record<string, Cell> = { layer_id: o.id, name: o.name, N: o.N, M: o.M, rf: o.rf, Q: o.Q, num_evals: o.num_evals, error: '' };
  if (!o.ok) {
    cells.error = o.error.message;
  } else {
    if (o.mode === 'full') {
      for (const c of [...WW_COLUMNS, ...EXTRA_COLUMNS]) {
        const v = (o as unknown as Record<string, unknown>)[c];
        if (typeof v === 'number' || typeof v === 'string') cells[c] = v;
      }
      if (o.num_fingers !== undefined) cells.num_fingers = o.num_fingers;
      if (o.raw_alpha !== undefined) cells.raw_alpha = o.raw_alpha;
      if (o.mp) {
        cells.sigma_mp = o.mp.sigma_mp;
        cells.num_spikes = o.mp.num_spikes;
        cells.mp_softrank = o.mp.mp_softrank;
        cells.bulk_min = o.mp.bulk_min;
        cells.bulk_max = o.mp.bulk_max;
      }
    }
    if (o.farms) {
      cells.farms_alpha = o.farms.alpha;
      cells.farms_alpha_weighted = o.farms.alpha_weighted;
      cells.farms_D = o.farms.D;
      cells.farms_xmin = o.farms.xmin;
      cells.farms_spectral_norm = o.farms.spectral_norm;
      cells.farms_nr = o.farms.nr;
      cells.farms_nc = o.farms.nc;
      cells.farms_windows = o.farms.windows;
    }
  }
  const row: Row = {};
  // NaN and ±Inf have no JSON spelling; a missing value is null everywhere.
  for (const c of columns) {
    const v = cells[c];
    row[c] = v === undefined || (typeof v === 'number' && !Number.isFinite(v)) ? null : v;
  }
  return row;
}

export function compileLayerFilter(source: string | undefined): RegExp | undefined {
  return source === undefined ? undefined : new RegExp(source);
}

export function selectLayers(layers: readonly Layer[], filter: RegExp | undefined): Layer[] {
  return layers.filter((l) => l.analyzable && (!filter || filter.test(l.name) || filter.test(l.tensor.name)));
}

function progressLine(done: number, total: number, name: string, t0: number): void {
  const secs = (performance.now() - t0) / 1000;
  const eta = done > 0 && done < total ? `, ~${Math.ceil((secs / done) * (total - done))} s left` : '';
  process.stderr.write(`\r\x1b[Kanalyzing ${done}/${total} (${secs.toFixed(1)} s${eta}) ${name}`);
}

export async function collectAnalysis(target: string, opts: AnalyzeOptions): Promise<AnalyzeResult> {
  const limits = opts.noLimits ? NO_LAYER_LIMITS : {};
  // Resolved here, so an unavailable forced 'wasm' fails before any work, and the output says which ran.
  const kernel = useWasmKernel({ kernel: opts.kernel }) ? 'wasm' : 'ts';
  const filter = compileLayerFilter(opts.layers);
  const opened = await openAnalysis(target, limits);
  try {
    const selected = selectLayers(opened.layers, filter);
    if (selected.length === 0) {
      const analyzable = opened.layers.filter((l) => l.analyzable).length;
      throw new Error(
        filter
          ? `no analyzable layer matches --layers ${String(filter)} (${analyzable} analyzable of ${opened.layers.length})`
          : `no analyzable layer (${opened.layers.length} matrices, none within the limits; try --no-limits)`,
      );
    }
    const spec: AnalyzeSpec = {
      target,
      limits,
      spectra: { fit: opts.fit, mpFit: opts.mpFit, farms: opts.farms || opts.farmsOnly ? opts.farmsOptions : false },
      farmsOnly: opts.farmsOnly,
      includeEvals: false,
      kernel: opts.kernel,
    };
    const columns = analyzeColumns(opts);
    const t0 = performance.now();
    const outcomes = await runPool(spec, selected, {
      threads: opts.threads,
      source: opened.source,
      onOutcome: opts.progress ? (i, _o, done) => progressLine(done, selected.length, selected[i]!.name, t0) : undefined,
    });
    if (opts.progress) process.stderr.write('\r\x1b[K');
    const notes: Record<string, string[]> = {};
    for (const o of outcomes) if (o.ok && o.mode === 'full' && o.notes.length) notes[o.name] = o.notes;
    return {
      file: target,
      format: opened.source.format,
      fit: opts.fit === 'auto' ? 'ww' : opts.fit,
      threads: Math.max(1, Math.min(opts.threads, selected.length)),
      kernel,
      columns,
      layers: outcomes.map((o) => outcomeRow(o, columns)),
      skipped: opened.layers.filter((l) => !l.analyzable).map((l) => ({ name: l.name, reason: l.skipReason ?? '' })),
      notes,
    };
  } finally {
    await opened.close();
  }
}

/** Columns the plain-text table shows; --json and --csv give all of them. */
function textColumns(opts: AnalyzeOptions): string[] {
  if (opts.farmsOnly) return ['name', '>N', '>M', '>rf', '>farms_alpha', '>farms_D', '>farms_spectral_norm', 'error'];
  return [
    'name', '>N', '>M', '>rf', '>alpha', '>D', '>lambda_max', '>log_norm', '>stable_rank',
    ...(opts.mpFit ? ['>sigma_mp', '>num_spikes', '>mp_softrank'] : []),
    ...(opts.farms ? ['>farms_alpha'] : []),
    'warning',
  ];
}

export function formatAnalysisText(r: AnalyzeResult, opts: AnalyzeOptions): string {
  const cols = textColumns(opts);
  const rows = r.layers.map((row) =>
    cols.map((h) => {
      const c = h.replace(/^>/, '');
      if ((c === 'warning' || c === 'error') && row.error) return `error: ${row.error}`;
      const v = row[c];
      if (v === null || v === undefined) return '-';
      return typeof v === 'number' ? fmtNum(v) : v;
    }),
  );
  const out = [`${r.file}: ${r.layers.length} layers (${r.format}, fit ${r.fit}, ${r.threads} thread${r.threads === 1 ? '' : 's'}, ${r.kernel} kernels)`, table(cols, rows)];
  const failed = r.layers.filter((l) => l.error).length;
  if (failed) out.push(`${failed} layer${failed === 1 ? '' : 's'} failed (see the error column)`);
  if (r.skipped.length) out.push(`${r.skipped.length} matrices skipped by WeightWatcher's limits (--no-limits analyses them; \`weightlens info\` says why)`);
  return `${out.join('\n')}\n`;
}

export function formatAnalysisCsv(r: AnalyzeResult): string {
  return csv(r.columns, r.layers.map((row) => r.columns.map((c) => row[c] ?? null)));
}

export async function analyze(target: string, opts: AnalyzeOptions): Promise<string> {
  const r = await collectAnalysis(target, opts);
  if (opts.format === 'json') return `${JSON.stringify(r, null, 1)}\n`;
  if (opts.format === 'csv') return formatAnalysisCsv(r);
  return formatAnalysisText(r, opts);
}
