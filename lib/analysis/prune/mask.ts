import { LimitError, UnsupportedError } from '../../base/errors';
import { MAX_TENSOR_ELEMENTS } from '../../base/limits';
import type { Mask, MaskStats } from './prune-types';

/**
 * Bitset helpers for keep-masks (prune-types.ts `Mask`): bit i set = weight i of the row-major
 * QuantMatrix kept. Bits past rows·cols in the last word stay 0, so popcounts over whole words
 * are exact.
 */

/** An all-clear mask (everything removed) of the given shape. */
export function emptyMask(rows: number, cols: number): Mask {
  const n = rows * cols;
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0 || n > MAX_TENSOR_ELEMENTS) {
    throw new LimitError('mask-size', `mask: ${rows} × ${cols} is not a valid layer size (at most ${MAX_TENSOR_ELEMENTS} weights)`);
  }
  return { rows, cols, bits: new Uint32Array(Math.ceil(n / 32)) };
}

/** A mask whose bit i is keep(i). */
export function maskFromKeep(rows: number, cols: number, keep: (i: number) => boolean): Mask {
  const m = emptyMask(rows, cols);
  const n = rows * cols;
  for (let i = 0; i < n; i++) if (keep(i)) m.bits[i >>> 5]! |= 1 << (i & 31);
  return m;
}

/** Every weight kept. */
export function fullMask(rows: number, cols: number): Mask {
  return maskFromKeep(rows, cols, () => true);
}

export function maskGet(mask: Mask, i: number): boolean {
  return ((mask.bits[i >>> 5]! >>> (i & 31)) & 1) === 1;
}

export function maskSet(mask: Mask, i: number, keep: boolean): void {
  if (keep) mask.bits[i >>> 5]! |= 1 << (i & 31);
  else mask.bits[i >>> 5]! &= ~(1 << (i & 31));
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

export function countKept(mask: Mask): number {
  let k = 0;
  for (let w = 0; w < mask.bits.length; w++) k += popcount(mask.bits[w]!);
  return k;
}

export function maskStats(mask: Mask): MaskStats {
  const { rows, cols } = mask;
  const rowKept = new Float64Array(rows);
  const colKept = new Float64Array(cols);
  let kept = 0;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      if (maskGet(mask, r * cols + c)) {
        rowKept[r]!++;
        colKept[c]!++;
        kept++;
      }
    }
  }
  const weights = rows * cols;
  return {
    weights,
    kept,
    sparsity: weights === 0 ? 0 : (weights - kept) / weights,
    rowSparsity: Float32Array.from(rowKept, (k) => (cols === 0 ? 0 : 1 - k / cols)),
    colSparsity: Float32Array.from(colKept, (k) => (rows === 0 ? 0 : 1 - k / rows)),
  };
}

export interface NmValidity {
  valid: boolean;
  /** Groups keeping more than n weights. */
  violatingGroups: number;
  groups: number;
}

/**
 * N:M check along rows: each group of m consecutive input weights of one row keeps at most n.
 * A partial last group (cols not a multiple of m) is a group too and must also keep at most n;
 * hardware 2:4 kernels need cols % m = 0, which the caller can check separately.
 */
export function nmValidity(mask: Mask, n: number, m: number): NmValidity {
  checkNm(n, m);
  const { rows, cols } = mask;
  const perRow = Math.ceil(cols / m);
  let violating = 0;
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < perRow; g++) {
      let k = 0;
      const end = Math.min(cols, (g + 1) * m);
      for (let c = g * m; c < end; c++) if (maskGet(mask, r * cols + c)) k++;
      if (k > n) violating++;
    }
  }
  return { valid: violating === 0, violatingGroups: violating, groups: rows * perRow };
}

export function checkNm(n: number, m: number): void {
  if (!Number.isInteger(n) || !Number.isInteger(m) || m < 1 || n < 0 || n > m || m > 1024) {
    throw new UnsupportedError('bad-nm', `N:M pattern ${n}:${m}: need integers 0 ≤ n ≤ m, 1 ≤ m ≤ 1024`);
  }
}

function checkSameShape(a: Mask, b: Mask): void {
  if (a.rows !== b.rows || a.cols !== b.cols) {
    throw new UnsupportedError('mask-shape', `masks of different shapes cannot be compared: ${a.rows} × ${a.cols} and ${b.rows} × ${b.cols}`);
  }
}

export interface MaskDiff {
  both: number;
  onlyA: number;
  onlyB: number;
  neither: number;
}

/** Counts for the three-colour difference image (kept by both, only by a, only by b; neither is the background). */
export function maskDiff(a: Mask, b: Mask): MaskDiff {
  checkSameShape(a, b);
  let both = 0;
  let onlyA = 0;
  let onlyB = 0;
  for (let w = 0; w < a.bits.length; w++) {
    const x = a.bits[w]!;
    const y = b.bits[w]!;
    both += popcount(x & y);
    onlyA += popcount(x & ~y);
    onlyB += popcount(~x & y);
  }
  const n = a.rows * a.cols;
  return { both, onlyA, onlyB, neither: n - both - onlyA - onlyB };
}

/** Jaccard index of the kept sets; two empty kept sets are identical (1). */
export function jaccard(a: Mask, b: Mask): number {
  const d = maskDiff(a, b);
  const union = d.both + d.onlyA + d.onlyB;
  return union === 0 ? 1 : d.both / union;
}

/** Number of weights on which the masks disagree. */
export function hamming(a: Mask, b: Mask): number {
  const d = maskDiff(a, b);
  return d.onlyA + d.onlyB;
}

/** The weights with removed entries set to 0 (a new array). */
export function applyMask(w: Float32Array, mask: Mask): Float32Array {
  const n = mask.rows * mask.cols;
  if (w.length !== n) throw new UnsupportedError('mask-shape', `applyMask: ${w.length} weights for a ${mask.rows} × ${mask.cols} mask`);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) if (maskGet(mask, i)) out[i] = w[i]!;
  return out;
}
