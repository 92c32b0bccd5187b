import { DEFAULT_PRUNE_SETTINGS, PRUNE_METHODS, type ModuleType, type PruneAllocation, type PruneMethod, type PruneSettings } from '../analysis/prune/prune-types';

/**
 * The Prune view's settings and their URL form (/prune?model=…&layer=…&method=nm&sparsity=0.6…),
 * so the view is a permalink; the comparison mask's method and allocation travel as cmp_*.
 * Module types for DIMAP read "attn=q_proj|k_proj;mlp=fc" (name=regex pairs).
 */

export interface PruneViewParams {
  model: string | null;
  layer: string | null;
  settings: PruneSettings;
  /** The second mask of the comparison (same settings but these), or null. */
  compare: { method: PruneMethod; allocation: PruneAllocation } | null;
  /** Zoom centre on the mask image (row, column), or null. */
  zoom: { row: number; col: number } | null;
  /** Evaluation graph and data (demo ids or open model ids) for the accuracy curve and Wanda. */
  onnx: string | null;
  data: string | null;
}

const ALLOCATIONS: readonly PruneAllocation[] = ['uniform', 'alpha', 'farms'];

const num = (v: string | null, lo: number, hi: number, dflt: number): number => {
  if (v === null || v.trim() === '') return dflt;
  const x = Number(v);
  return Number.isFinite(x) && x >= lo && x <= hi ? x : dflt;
};

export function parseModuleTypes(text: string): ModuleType[] {
  return text
    .split(';')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => {
      const eq = p.indexOf('=');
      return eq > 0 ? { name: p.slice(0, eq).trim(), pattern: p.slice(eq + 1).trim() } : { name: p, pattern: p };
    });
}

export function formatModuleTypes(types: readonly ModuleType[]): string {
  return types.map((t) => `${t.name}=${t.pattern}`).join(';');
}

export function parsePruneParams(q: URLSearchParams): PruneViewParams {
  const d = DEFAULT_PRUNE_SETTINGS;
  const method = q.get('method') as PruneMethod | null;
  const alloc = q.get('alloc') as PruneAllocation | null;
  const nm = /^(\d+):(\d+)$/.exec(q.get('nm') ?? '');
  const n = nm ? Number(nm[1]) : d.n;
  const m = nm ? Number(nm[2]) : d.m;
  const cm = q.get('cmp') as PruneMethod | null;
  const ca = q.get('cmp_alloc') as PruneAllocation | null;
  const zoom = q.get('zoom')?.split(',').map(Number);
  return {
    model: q.get('model') || null,
    layer: q.get('layer') || null,
    onnx: q.get('onnx') || null,
    data: q.get('data') || null,
    zoom: zoom && zoom.length === 2 && zoom.every((v) => Number.isInteger(v) && v >= 0) ? { row: zoom[0]!, col: zoom[1]! } : null,
    compare: cm && PRUNE_METHODS.includes(cm) ? { method: cm, allocation: ca && ALLOCATIONS.includes(ca) ? ca : 'uniform' } : null,
    settings: {
      method: method && PRUNE_METHODS.includes(method) ? method : d.method,
      sparsity: num(q.get('sparsity'), 0, 0.99, d.sparsity),
      allocation: alloc && ALLOCATIONS.includes(alloc) ? alloc : d.allocation,
      epsilon: num(q.get('eps'), 0, 1, d.epsilon),
      scope: q.get('scope') === 'global' ? 'global' : 'layer',
      exclude: q.get('exclude') ?? d.exclude,
      n: n >= 1 && m >= 2 && n < m && m <= 64 ? n : d.n,
      m: n >= 1 && m >= 2 && n < m && m <= 64 ? m : d.m,
      liftRank: Math.round(num(q.get('rank'), 1, 4096, d.liftRank)),
      moduleTypes: q.get('types') ? parseModuleTypes(q.get('types')!) : d.moduleTypes,
      seed: Math.round(num(q.get('seed'), 0, 2 ** 31 - 1, d.seed)),
    },
  };
}

export function writePruneParams(q: URLSearchParams, p: PruneViewParams): URLSearchParams {
  const d = DEFAULT_PRUNE_SETTINGS;
  const s = p.settings;
  const set = (k: string, v: string | null) => (v === null ? q.delete(k) : q.set(k, v));
  set('model', p.model);
  set('layer', p.layer);
  set('onnx', p.onnx);
  set('data', p.data);
  set('zoom', p.zoom ? `${p.zoom.row},${p.zoom.col}` : null);
  set('cmp', p.compare?.method ?? null);
  set('cmp_alloc', p.compare && p.compare.allocation !== 'uniform' ? p.compare.allocation : null);
  set('method', s.method === d.method ? null : s.method);
  set('sparsity', s.sparsity === d.sparsity ? null : String(s.sparsity));
  set('alloc', s.allocation === d.allocation ? null : s.allocation);
  set('eps', s.epsilon === d.epsilon ? null : String(s.epsilon));
  set('scope', s.scope === d.scope ? null : s.scope);
  set('exclude', s.exclude === d.exclude ? null : s.exclude);
  set('nm', s.n === d.n && s.m === d.m ? null : `${s.n}:${s.m}`);
  set('rank', s.liftRank === d.liftRank ? null : String(s.liftRank));
  set('types', s.moduleTypes.length ? formatModuleTypes(s.moduleTypes) : null);
  set('seed', s.seed === d.seed ? null : String(s.seed));
  return q;
}

/** Cache key: the settings that change the masks. */
export function pruneSettingsKey(s: PruneSettings): string {
  const base = [s.method, s.sparsity, s.allocation, s.allocation === 'uniform' ? '' : s.epsilon, s.exclude];
  if (s.method === 'magnitude') base.push(s.scope);
  if (s.method === 'nm') base.push(`${s.n}:${s.m}`);
  if (s.method === 'lift') base.push(s.liftRank, s.seed);
  if (s.method === 'dimap') base.push(formatModuleTypes(s.moduleTypes));
  return base.join('|');
}
