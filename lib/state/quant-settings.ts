import { DEFAULT_QUANT_SETTINGS, QUANT_METHODS, type QuantMethod, type QuantSettings } from '../analysis/quant/quantize-layer';

/**
 * The Quantize view's settings and their URL form (/quantize?model=…&layer=…&method=vq&k=256&d=4),
 * so the view is a permalink. Only values that differ from the defaults are written.
 */

export type QuantMapKind = 'assign' | 'error' | 'ambiguity';

export interface QuantViewParams {
  model: string | null;
  /** Selected layer (Layer.name). */
  layer: string | null;
  settings: QuantSettings;
  /** ?gpu=1: WebGPU even on a software adapter. */
  forceGpu: boolean;
  /** Zoom centre on the maps, in cells (row, sub-vector), or null for the overview only. */
  zoom: { row: number; col: number } | null;
}

const num = (v: string | null, lo: number, hi: number, dflt: number): number => {
  if (v === null || v.trim() === '') return dflt;
  const x = Number(v);
  return Number.isFinite(x) && x >= lo && x <= hi ? x : dflt;
};
const int = (v: string | null, lo: number, hi: number, dflt: number): number => Math.round(num(v, lo, hi, dflt));

export function parseQuantParams(q: URLSearchParams): QuantViewParams {
  const d = DEFAULT_QUANT_SETTINGS;
  const method = q.get('method') as QuantMethod | null;
  const group = q.get('group');
  const zoom = q.get('zoom')?.split(',').map(Number);
  return {
    model: q.get('model') || null,
    layer: q.get('layer') || null,
    forceGpu: q.get('gpu') === '1',
    zoom: zoom && zoom.length === 2 && zoom.every((v) => Number.isInteger(v) && v >= 0) ? { row: zoom[0]!, col: zoom[1]! } : null,
    settings: {
      method: method && QUANT_METHODS.includes(method) ? method : d.method,
      bits: int(q.get('bits'), 2, 8, d.bits),
      symmetric: q.get('sym') === '1',
      group: group === 'channel' ? 'channel' : int(group, 1, 1 << 20, d.group as number),
      d: int(q.get('d'), 1, 8, d.d),
      k: int(q.get('k'), 2, 65536, d.k),
      k2: int(q.get('k2'), 2, 65536, d.k2),
      iters: int(q.get('iters'), 0, 1000, d.iters),
      tol: num(q.get('tol'), 0, 1, d.tol),
      seed: int(q.get('seed'), 0, 2 ** 31 - 1, d.seed),
      rowGroup: int(q.get('row_group'), 0, 1 << 24, d.rowGroup),
      codebookBits: q.get('cb_bits') === '32' ? 32 : 16,
      candidates: int(q.get('cand'), 1, 4, d.candidates),
      sample: int(q.get('sample'), 0, 1 << 30, d.sample),
      pulses: int(q.get('pulses'), 1, 64, d.pulses),
      gainBits: int(q.get('gain_bits'), 1, 16, d.gainBits),
    },
  };
}

export function writeQuantParams(q: URLSearchParams, p: QuantViewParams): URLSearchParams {
  const d = DEFAULT_QUANT_SETTINGS;
  const s = p.settings;
  const set = (k: string, v: string | null) => (v === null ? q.delete(k) : q.set(k, v));
  const opt = <T>(k: string, v: T, dv: T) => set(k, v === dv ? null : String(v));
  set('model', p.model);
  set('layer', p.layer);
  set('gpu', p.forceGpu ? '1' : null);
  set('zoom', p.zoom ? `${p.zoom.row},${p.zoom.col}` : null);
  opt('method', s.method, d.method);
  opt('bits', s.bits, d.bits);
  set('sym', s.symmetric ? '1' : null);
  opt('group', s.group, d.group);
  opt('d', s.d, d.d);
  opt('k', s.k, d.k);
  opt('k2', s.k2, d.k2);
  opt('iters', s.iters, d.iters);
  opt('tol', s.tol, d.tol);
  opt('seed', s.seed, d.seed);
  opt('row_group', s.rowGroup, d.rowGroup);
  opt('cb_bits', s.codebookBits, d.codebookBits);
  opt('cand', s.candidates, d.candidates);
  opt('sample', s.sample, d.sample);
  opt('pulses', s.pulses, d.pulses);
  opt('gain_bits', s.gainBits, d.gainBits);
  return q;
}

/** The settings that change a method's result (others are ignored), as a cache key. */
export function quantSettingsKey(s: QuantSettings): string {
  switch (s.method) {
    case 'rtn':
      return `rtn:${s.bits}:${s.symmetric ? 's' : 'a'}:${s.group}`;
    case 'pvq':
      return `pvq:${s.d}:${s.pulses}:${s.gainBits}`;
    default:
      return `${s.method}:${s.d}:${s.k}:${s.method === 'rvq' ? s.k2 : ''}:${s.iters}:${s.tol}:${s.seed}:${s.rowGroup}:${s.codebookBits}:${s.candidates}:${s.sample}`;
  }
}

/** The settings of a method as label/value rows: the copyable settings table. */
export function quantSettingsRows(s: QuantSettings): [string, string][] {
  const rows: [string, string][] = [['method', { rtn: 'scalar RTN', vq: 'k-means VQ', rvq: 'residual VQ (2 stages)', pvq: 'pyramid VQ' }[s.method]]];
  if (s.method === 'rtn') {
    rows.push(['bits', String(s.bits)], ['scheme', s.symmetric ? 'symmetric (absmax)' : 'asymmetric (min/max, zero-point)'], ['group', s.group === 'channel' ? 'per output channel' : String(s.group)]);
  } else if (s.method === 'pvq') {
    rows.push(['sub-vector d', String(s.d)], ['pulses K', String(s.pulses)], ['gain bits', String(s.gainBits)]);
  } else {
    rows.push(['sub-vector d', String(s.d)], ['codewords k', String(s.k)]);
    if (s.method === 'rvq') rows.push(['residual codewords k₂', String(s.k2)]);
    rows.push(
      ['codebooks', s.rowGroup > 0 ? `one per ${s.rowGroup} rows` : 'one per layer'],
      ['codebook entries', s.codebookBits === 16 ? 'fp16' : 'fp32'],
      ['init', `k-means++ (seed ${s.seed})`],
      ['Lloyd iterations', `≤ ${s.iters}, tol ${s.tol}`],
      ['fitted on', s.sample > 0 ? `≤ ${s.sample} sampled sub-vectors` : 'all sub-vectors'],
      ['VQ4DiT candidates', String(s.candidates)],
    );
  }
  return rows;
}
