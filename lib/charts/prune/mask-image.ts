import type { Mask } from '../../analysis/prune/prune-types';

/**
 * Pixels of a keep-mask for the mask image: one pixel per weight when the region fits (exact:
 * kept = dark, removed = white), else the kept density of each block of weights (a grey ramp).
 * The two-mask comparison paints the same grid in three colours: kept by both, only by A, only by
 * B (removed by both stays white).
 */

export interface MaskImage {
  width: number;
  height: number;
  /** Weights per pixel along rows and columns (1, 1 = exact). */
  fy: number;
  fx: number;
  rgba: Uint8ClampedArray;
}

const bit = (m: Mask, i: number): number => (m.bits[i >>> 5]! >>> (i & 31)) & 1;

function grid(rows: number, cols: number, maxW: number, maxH: number): { width: number; height: number; fy: number; fx: number } {
  const fx = Math.max(1, Math.ceil(cols / maxW));
  const fy = Math.max(1, Math.ceil(rows / maxH));
  return { width: Math.ceil(cols / fx), height: Math.ceil(rows / fy), fy, fx };
}

/** Kept density per pixel of rows [r0, r0+h) × cols [c0, c0+w), at most maxW × maxH pixels. */
export function maskImage(mask: Mask, maxW: number, maxH: number, r0 = 0, c0 = 0, h = mask.rows, w = mask.cols): MaskImage {
  const g = grid(h, w, maxW, maxH);
  const kept = new Uint32Array(g.width * g.height);
  const total = new Uint32Array(g.width * g.height);
  for (let r = 0; r < h; r++) {
    const row = r0 + r;
    if (row >= mask.rows) break;
    const py = Math.floor(r / g.fy) * g.width;
    for (let c = 0; c < w; c++) {
      const col = c0 + c;
      if (col >= mask.cols) break;
      const p = py + Math.floor(c / g.fx);
      kept[p]! += bit(mask, row * mask.cols + col);
      total[p]!++;
    }
  }
  const rgba = new Uint8ClampedArray(g.width * g.height * 4);
  for (let p = 0; p < kept.length; p++) {
    const density = total[p]! ? kept[p]! / total[p]! : 0;
    // Kept = dark slate, removed = white.
    const v = Math.round(255 - density * (255 - 40));
    rgba[p * 4] = v;
    rgba[p * 4 + 1] = Math.round(255 - density * (255 - 60));
    rgba[p * 4 + 2] = Math.round(255 - density * (255 - 90));
    rgba[p * 4 + 3] = 255;
  }
  return { ...g, rgba };
}

/** Colours of the comparison: both kept, only A, only B (colour-blind-safe Okabe–Ito blue/orange), neither. */
export const DIFF_COLORS = { both: [60, 60, 60], onlyA: [0, 114, 178], onlyB: [230, 159, 0], neither: [255, 255, 255] } as const;

export interface MaskDiffImage extends MaskImage {
  counts: { both: number; onlyA: number; onlyB: number; neither: number };
  jaccard: number;
}

/** Three-colour difference of two masks of the same layer; a downsampled pixel mixes its block's colours. */
export function maskDiffImage(a: Mask, b: Mask, maxW: number, maxH: number): MaskDiffImage {
  if (a.rows !== b.rows || a.cols !== b.cols) throw new RangeError(`maskDiffImage: masks ${a.rows}×${a.cols} and ${b.rows}×${b.cols} differ in shape`);
  const g = grid(a.rows, a.cols, maxW, maxH);
  const acc = new Float64Array(g.width * g.height * 3);
  const total = new Uint32Array(g.width * g.height);
  const counts = { both: 0, onlyA: 0, onlyB: 0, neither: 0 };
  for (let r = 0; r < a.rows; r++) {
    const py = Math.floor(r / g.fy) * g.width;
    for (let c = 0; c < a.cols; c++) {
      const i = r * a.cols + c;
      const ka = bit(a, i);
      const kb = bit(b, i);
      const kind = ka && kb ? 'both' : ka ? 'onlyA' : kb ? 'onlyB' : 'neither';
      counts[kind]++;
      const col = DIFF_COLORS[kind];
      const p = py + Math.floor(c / g.fx);
      acc[p * 3] = acc[p * 3]! + col[0];
      acc[p * 3 + 1] = acc[p * 3 + 1]! + col[1];
      acc[p * 3 + 2] = acc[p * 3 + 2]! + col[2];
      total[p]!++;
    }
  }
  const rgba = new Uint8ClampedArray(g.width * g.height * 4);
  for (let p = 0; p < total.length; p++) {
    const t = total[p]! || 1;
    rgba[p * 4] = Math.round(acc[p * 3]! / t);
    rgba[p * 4 + 1] = Math.round(acc[p * 3 + 1]! / t);
    rgba[p * 4 + 2] = Math.round(acc[p * 3 + 2]! / t);
    rgba[p * 4 + 3] = 255;
  }
  const union = counts.both + counts.onlyA + counts.onlyB;
  return { ...g, rgba, counts, jaccard: union === 0 ? 1 : counts.both / union };
}
