import { UnsupportedError } from '../../base/errors';
import { checkNm, emptyMask, fullMask, maskSet } from './mask';
import type { Mask, ModuleType } from './prune-types';

/**
 * Masks from scores (higher = keep). Every selection is exact: it removes exactly the number of
 * weights asked for, never "everything at or below a threshold" (which over-removes on ties).
 * Tie rule everywhere: among equal scores the lower index is removed first — in a pooled
 * selection "index" means (layer order, then row-major index). NaN scores count as −∞ (removed
 * first), so a damaged weight never survives in place of a real one.
 */

export function checkSparsity(sparsity: number, what = 'sparsity'): void {
  if (!(sparsity >= 0 && sparsity <= 1)) throw new UnsupportedError('bad-sparsity', `${what} ${sparsity} must be between 0 and 1`);
}

/** Weights removed for a fraction of n: round(s·n), halves rounded up (Math.round). */
export function removedCount(sparsity: number, n: number): number {
  return Math.min(n, Math.max(0, Math.round(sparsity * n)));
}

const key = (x: number): number => (x !== x ? -Infinity : x);

export interface Cut {
  /** The k-th smallest score (−∞ for NaN); null when nothing is removed. */
  threshold: number | null;
  /** Weights scoring exactly `threshold` to remove (the first ones in index order). */
  tiesToRemove: number;
}

/** The exact cut removing the k lowest of the pooled score arrays. */
export function lowestCut(parts: readonly ArrayLike<number>[], k: number): Cut {
  if (k <= 0) return { threshold: null, tiesToRemove: 0 };
  let n = 0;
  for (const p of parts) n += p.length;
  // Float32 scores sort natively in a Float32Array; anything else keeps float64 so the cut is exact.
  const all = parts.every((p) => p instanceof Float32Array) ? new Float32Array(n) : new Float64Array(n);
  let o = 0;
  for (const p of parts) for (let i = 0; i < p.length; i++) all[o++] = key(p[i]!);
  all.sort();
  const t = all[Math.min(k, n) - 1]!;
  let below = 0;
  while (below < n && all[below]! < t) below++;
  return { threshold: t, tiesToRemove: Math.min(k, n) - below };
}

/** Applies a cut to one score array, consuming ties from `ties.left` in index order. */
function applyCut(scores: ArrayLike<number>, rows: number, cols: number, cut: Cut, ties: { left: number }, into?: { mask: Mask; offset: number }): Mask {
  const mask = into?.mask ?? emptyMask(rows, cols);
  const off = into?.offset ?? 0;
  const t = cut.threshold;
  for (let i = 0; i < scores.length; i++) {
    const s = key(scores[i]!);
    let keep: boolean;
    if (t === null || s > t) keep = true;
    else if (s < t) keep = false;
    else if (ties.left > 0) {
      ties.left--;
      keep = false;
    } else keep = true;
    if (keep) maskSet(mask, off + i, true);
  }
  return mask;
}

/** Removes exactly round(sparsity·rows·cols) lowest scores of one layer. */
export function topKMask(scores: ArrayLike<number>, rows: number, cols: number, sparsity: number): { mask: Mask; threshold: number | null } {
  checkSparsity(sparsity);
  checkLength(scores, rows, cols);
  const cut = lowestCut([scores], removedCount(sparsity, rows * cols));
  return { mask: applyCut(scores, rows, cols, cut, { left: cut.tiesToRemove }), threshold: cut.threshold };
}

/** Wanda's comparison group: each output row removes exactly round(sparsity·cols) of its own weights. */
export function rowTopKMask(scores: ArrayLike<number>, rows: number, cols: number, sparsity: number): Mask {
  checkSparsity(sparsity);
  checkLength(scores, rows, cols);
  const mask = emptyMask(rows, cols);
  const k = removedCount(sparsity, cols);
  for (let r = 0; r < rows; r++) {
    const row = subarray(scores, r * cols, cols);
    const cut = lowestCut([row], k);
    applyCut(row, rows, cols, cut, { left: cut.tiesToRemove }, { mask, offset: r * cols });
  }
  return mask;
}

/**
 * N:M: in every group of m consecutive input weights of a row keep the n highest scores. A
 * partial last group of length L < m keeps min(L, n), so the layer's sparsity is slightly below
 * 1 − n/m when cols % m ≠ 0 and every group still satisfies "at most n kept".
 */
export function nmMask(scores: ArrayLike<number>, rows: number, cols: number, n: number, m: number): Mask {
  checkNm(n, m);
  checkLength(scores, rows, cols);
  const mask = emptyMask(rows, cols);
  const order = new Array<number>(m);
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g * m < cols; g++) {
      const start = r * cols + g * m;
      const len = Math.min(m, cols - g * m);
      for (let j = 0; j < len; j++) order[j] = j;
      const grp = order.slice(0, len).sort((a, b) => key(scores[start + a]!) - key(scores[start + b]!) || a - b);
      // grp is ascending with lower index first among ties: the first len − n are removed.
      for (let j = Math.max(0, len - n); j < len; j++) maskSet(mask, start + grp[j]!, true);
    }
  }
  return mask;
}

export interface ScoredLayer {
  scores: ArrayLike<number>;
  rows: number;
  cols: number;
  /** Left dense and out of the pooled set. */
  excluded?: boolean;
}

/**
 * One global threshold: exactly round(sparsity·P) weights removed from the pool P of every
 * non-excluded layer; excluded layers stay dense (so overall sparsity is below the target when
 * some are excluded).
 */
export function globalMasks(layers: readonly ScoredLayer[], sparsity: number): { masks: Mask[]; threshold: number | null } {
  checkSparsity(sparsity);
  const pooled = layers.filter((l) => !l.excluded);
  for (const l of pooled) checkLength(l.scores, l.rows, l.cols);
  const total = pooled.reduce((a, l) => a + l.rows * l.cols, 0);
  const cut = lowestCut(pooled.map((l) => l.scores), removedCount(sparsity, total));
  const ties = { left: cut.tiesToRemove };
  const masks = layers.map((l) => (l.excluded ? fullMask(l.rows, l.cols) : applyCut(l.scores, l.rows, l.cols, cut, ties)));
  return { masks, threshold: cut.threshold };
}

/** Index of the module type a layer name belongs to: the first matching pattern, else moduleTypes.length ("unmatched"). */
export function moduleTypeOf(name: string, patterns: readonly RegExp[]): number {
  const i = patterns.findIndex((p) => p.test(name));
  return i < 0 ? patterns.length : i;
}

export function compileModuleTypes(moduleTypes: readonly ModuleType[]): RegExp[] {
  return moduleTypes.map((t) => {
    try {
      return new RegExp(t.pattern);
    } catch {
      throw new UnsupportedError('bad-pattern', `module type "${t.name}": pattern /${t.pattern}/ is not a valid regular expression`);
    }
  });
}

/**
 * DIMAP: layers ranked together within each module type (first matching pattern wins; all
 * unmatched layers form one extra type, so with no types the whole model is one pool). Each
 * type removes exactly round(sparsity·its weights), so every type reaches the target.
 */
export function dimapMasks(layers: readonly (ScoredLayer & { name: string })[], moduleTypes: readonly ModuleType[], sparsity: number): { masks: Mask[]; types: number[]; thresholds: (number | null)[] } {
  checkSparsity(sparsity);
  const patterns = compileModuleTypes(moduleTypes);
  const types = layers.map((l) => moduleTypeOf(l.name, patterns));
  const masks = new Array<Mask>(layers.length);
  const thresholds: (number | null)[] = [];
  for (let t = 0; t <= patterns.length; t++) {
    const members = layers.map((l, i) => ({ l, i })).filter(({ l, i }) => types[i] === t && !l.excluded);
    const res = globalMasks(members.map(({ l }) => l), sparsity);
    members.forEach(({ i }, j) => (masks[i] = res.masks[j]!));
    thresholds.push(res.threshold);
  }
  layers.forEach((l, i) => {
    if (l.excluded) masks[i] = fullMask(l.rows, l.cols);
  });
  return { masks, types, thresholds };
}

function checkLength(scores: ArrayLike<number>, rows: number, cols: number): void {
  if (scores.length !== rows * cols) throw new UnsupportedError('score-shape', `${scores.length} scores for a ${rows} × ${cols} layer`);
}

function subarray(a: ArrayLike<number>, start: number, len: number): ArrayLike<number> {
  if (a instanceof Float32Array || a instanceof Float64Array) return a.subarray(start, start + len);
  return Array.from({ length: len }, (_, j) => a[start + j]!);
}
