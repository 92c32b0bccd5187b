import type { MergeMethod } from '../analysis/merge/merge-methods';

/**
 * The Merge view's settings and their URL form: /merge?a=mnist-mlp-seed1&b=mnist-mlp-seed2&match=1
 * or /merge?a=mnist-mlp-ft-low&b=mnist-mlp-ft-high&base=mnist-mlp-base&method=ties.
 */

export type MergeMethodKind = MergeMethod['kind'];
export const MERGE_METHODS: readonly MergeMethodKind[] = ['linear', 'slerp', 'ta', 'ties', 'dare', 'tsv'];

export interface MergeViewParams {
  a: string | null;
  b: string | null;
  base: string | null;
  method: MergeMethodKind;
  alpha: number;
  lambda: number;
  /** TIES: fraction of each task vector kept by magnitude. */
  keep: number;
  /** DARE: drop probability. */
  drop: number;
  seed: number;
  points: number;
  match: boolean;
  /** Per-block λ rules "REGEX=λ;…" (aTLAS-style, set by hand). */
  blocks: string;
  onnx: string | null;
  data: string | null;
  /** Selected permutation group for the scatter. */
  group: string | null;
  /** Weight-space curves of one layer (tensor name), or null for the whole model. */
  layer: string | null;
  /** Permutation spec as JSON; empty = inferred for MLP / conv chains. */
  spec: string;
}

export const DEFAULT_MERGE_PARAMS: MergeViewParams = {
  a: null, b: null, base: null, method: 'linear', alpha: 0.5, lambda: 1, keep: 0.2, drop: 0.5, seed: 0, points: 25, match: true, blocks: '', onnx: null, data: null, group: null, layer: null, spec: '',
};

const num = (v: string | null, lo: number, hi: number, d: number): number => {
  if (v === null || v.trim() === '') return d;
  const x = Number(v);
  return Number.isFinite(x) && x >= lo && x <= hi ? x : d;
};

export function parseMergeParams(q: URLSearchParams): MergeViewParams {
  const d = DEFAULT_MERGE_PARAMS;
  const m = q.get('method') as MergeMethodKind | null;
  return {
    a: q.get('a') || null,
    b: q.get('b') || null,
    base: q.get('base') || null,
    method: m && MERGE_METHODS.includes(m) ? m : d.method,
    alpha: num(q.get('alpha'), -1, 2, d.alpha),
    lambda: num(q.get('lambda'), -10, 10, d.lambda),
    keep: num(q.get('keep'), 0.001, 1, d.keep),
    drop: num(q.get('drop'), 0, 0.999, d.drop),
    seed: Math.round(num(q.get('seed'), 0, 2 ** 31 - 1, d.seed)),
    points: Math.round(num(q.get('points'), 2, 201, d.points)),
    match: q.get('match') !== '0',
    blocks: q.get('blocks') ?? '',
    onnx: q.get('onnx') || null,
    data: q.get('data') || null,
    group: q.get('group') || null,
    layer: q.get('layer') || null,
    spec: q.get('spec') ?? '',
  };
}

export function writeMergeParams(q: URLSearchParams, p: MergeViewParams): URLSearchParams {
  const d = DEFAULT_MERGE_PARAMS;
  const set = (k: string, v: string | null) => (v === null ? q.delete(k) : q.set(k, v));
  const opt = <T>(k: string, v: T, dv: T) => set(k, v === dv ? null : String(v));
  set('a', p.a);
  set('b', p.b);
  set('base', p.base);
  opt('method', p.method, d.method);
  opt('alpha', p.alpha, d.alpha);
  opt('lambda', p.lambda, d.lambda);
  opt('keep', p.keep, d.keep);
  opt('drop', p.drop, d.drop);
  opt('seed', p.seed, d.seed);
  opt('points', p.points, d.points);
  set('match', p.match ? null : '0');
  set('blocks', p.blocks || null);
  set('onnx', p.onnx);
  set('data', p.data);
  set('group', p.group);
  set('layer', p.layer);
  set('spec', p.spec || null);
  return q;
}

/** "REGEX=λ;REGEX=λ" → rules for lambdaForTensor (bad entries are skipped). */
export function parseBlockRules(text: string): { pattern: string; lambda: number }[] {
  return text
    .split(';')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => {
      const eq = p.lastIndexOf('=');
      return { pattern: p.slice(0, eq).trim(), lambda: Number(p.slice(eq + 1)) };
    })
    .filter((r) => r.pattern !== '' && Number.isFinite(r.lambda));
}

/** The engine's MergeMethod for the view's settings. */
export function mergeMethodOf(p: MergeViewParams): MergeMethod {
  const rules = parseBlockRules(p.blocks);
  const blockLambdas = rules.length ? { blockLambdas: rules.map((r) => ({ pattern: r.pattern, lambda: r.lambda })) } : {};
  switch (p.method) {
    case 'linear':
      return { kind: 'linear', alpha: p.alpha };
    case 'slerp':
      return { kind: 'slerp', alpha: p.alpha };
    case 'ta':
      return { kind: 'ta', lambda: p.lambda, ...blockLambdas };
    case 'ties':
      return { kind: 'ties', lambda: p.lambda, keep: p.keep, ...blockLambdas };
    case 'dare':
      return { kind: 'dare', lambda: p.lambda, dropRate: p.drop, seed: p.seed, ...blockLambdas };
    case 'tsv':
      return { kind: 'tsv', lambda: p.lambda, seed: p.seed, ...blockLambdas };
  }
}
