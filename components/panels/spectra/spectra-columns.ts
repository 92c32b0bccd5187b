import type { ErrorInfo } from '@/lib/base/errors';
import type { SpectraLayerResult } from '@/lib/jobs/job-types';
import type { Layer } from '@/lib/model/layer';

/** One row of the layer table: the catalog's layer, and its analysis once it has arrived. */
export interface SpectraRow {
  layer: Layer;
  result?: SpectraLayerResult;
  error?: ErrorInfo;
}

export interface SpectraColumn {
  key: string;
  label: string;
  title?: string;
  num: boolean;
  /** Value for sorting and display; undefined when not (yet) known. */
  value(r: SpectraRow): number | string | undefined;
  digits?: number;
}

const ok = (r: SpectraRow) => (r.result?.spectrum.ok ? r.result.spectrum : undefined);
const metric = (k: 'alpha' | 'alpha_weighted' | 'D' | 'xmin' | 'xmax' | 'sigma' | 'num_pl_spikes' | 'log_norm' | 'log_spectral_norm' | 'spectral_norm' | 'log_alpha_norm' | 'stable_rank' | 'entropy' | 'lambda_max' | 'matrix_rank' | 'wpca') => (r: SpectraRow) => {
  const s = ok(r);
  if (!s) return undefined;
  const v = s[k];
  // WeightWatcher writes -1 for a failed fit; show it as missing.
  return (k === 'alpha' || k === 'D' || k === 'xmin' || k === 'sigma' || k === 'alpha_weighted') && s.status === 'failed' ? undefined : v;
};

/** WeightWatcher's column names, in its order where it has one, then FARMS and W-PCA. */
export const SPECTRA_COLUMNS: SpectraColumn[] = [
  { key: 'name', label: 'layer', num: false, value: (r) => r.layer.name },
  { key: 'kind', label: 'kind', num: false, value: (r) => r.layer.kind },
  { key: 'block', label: 'block', num: true, value: (r) => r.layer.block ?? undefined },
  { key: 'N', label: 'N', num: true, value: (r) => r.layer.N },
  { key: 'M', label: 'M', num: true, value: (r) => r.layer.M },
  { key: 'rf', label: 'rf', num: true, value: (r) => r.layer.rf },
  { key: 'Q', label: 'Q', num: true, value: (r) => r.layer.Q, digits: 2 },
  { key: 'num_evals', label: 'num_evals', num: true, value: (r) => r.layer.num_evals },
  { key: 'alpha', label: 'alpha', num: true, value: metric('alpha'), digits: 3, title: 'power-law exponent of the ESD tail' },
  { key: 'farms_alpha', label: 'farms_alpha', num: true, value: (r) => ok(r)?.farms?.alpha, digits: 3, title: 'α of the pooled FARMS windows' },
  { key: 'D', label: 'D', num: true, value: metric('D'), digits: 4, title: 'KS distance of the fit' },
  { key: 'xmin', label: 'xmin', num: true, value: metric('xmin'), digits: 4 },
  { key: 'xmax', label: 'xmax', num: true, value: metric('xmax'), digits: 4 },
  { key: 'sigma', label: 'sigma', num: true, value: metric('sigma'), digits: 4 },
  { key: 'num_pl_spikes', label: 'num_pl_spikes', num: true, value: metric('num_pl_spikes') },
  { key: 'alpha_weighted', label: 'alpha_weighted', num: true, value: metric('alpha_weighted'), digits: 3 },
  { key: 'log_norm', label: 'log_norm', num: true, value: metric('log_norm'), digits: 4 },
  { key: 'log_spectral_norm', label: 'log_spectral_norm', num: true, value: metric('log_spectral_norm'), digits: 4 },
  { key: 'log_alpha_norm', label: 'log_alpha_norm', num: true, value: metric('log_alpha_norm'), digits: 4 },
  { key: 'stable_rank', label: 'stable_rank', num: true, value: metric('stable_rank'), digits: 3 },
  { key: 'entropy', label: 'entropy', num: true, value: metric('entropy'), digits: 4 },
  { key: 'lambda_max', label: 'lambda_max', num: true, value: metric('lambda_max'), digits: 4 },
  { key: 'matrix_rank', label: 'matrix_rank', num: true, value: metric('matrix_rank') },
  { key: 'num_spikes', label: 'num_spikes', num: true, value: (r) => ok(r)?.mp?.num_spikes, title: 'eigenvalues above the MP bulk edge + Tracy–Widom margin' },
  { key: 'sigma_mp', label: 'sigma_mp', num: true, value: (r) => ok(r)?.mp?.sigma_mp, digits: 4 },
  { key: 'mp_softrank', label: 'mp_softrank', num: true, value: (r) => ok(r)?.mp?.mp_softrank, digits: 4 },
  { key: 'farms_D', label: 'farms_D', num: true, value: (r) => ok(r)?.farms?.D, digits: 4 },
  { key: 'farms_windows', label: 'farms_windows', num: true, value: (r) => ok(r)?.farms?.windows },
  { key: 'wpca', label: 'wpca', num: true, value: metric('wpca'), title: 'singular directions holding 99% of the energy' },
  { key: 'warning', label: 'warning', num: false, value: (r) => (r.error ? 'error' : r.result ? (r.result.spectrum.ok ? r.result.spectrum.warning : 'error') : undefined) },
  { key: 'ms', label: 'ms', num: true, value: (r) => r.result?.ms, digits: 0, title: 'worker time for this layer' },
];

export function formatCell(v: number | string | undefined, digits?: number): string {
  if (v === undefined) return '';
  if (typeof v === 'string') return v;
  if (!Number.isFinite(v)) return String(v);
  if (digits === undefined) return String(v);
  if (digits === 0) return String(Math.round(v));
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(2) : v.toFixed(digits);
}

/**
 * The rows as text: the digits the table shows, or (`exact`) every digit — what a spreadsheet
 * wants. Missing values are empty.
 */
export function spectraTextTable(rows: readonly SpectraRow[], exact: boolean): { header: string[]; rows: string[][]; numeric: boolean[] } {
  return {
    header: SPECTRA_COLUMNS.map((c) => c.label),
    numeric: SPECTRA_COLUMNS.map((c) => c.num),
    rows: rows.map((r) => SPECTRA_COLUMNS.map((c) => formatCell(c.value(r), exact ? undefined : c.digits))),
  };
}
