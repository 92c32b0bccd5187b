import { throwIfAborted } from '../../base/errors';
import { eigvalsh } from '../../math/eigvalsh';
import { gram } from '../../math/gram';
import { rankDeficit } from '../../math/rank-deficit';
import type { Layer } from '../../model/layer';
import { layerMatrices } from '../../model/layer-matrices';

/**
 * The layer's empirical spectral density the way WeightWatcher builds it (combined_eigenvalues):
 * the eigenvalues λ = σ² of every slice matrix (one for dense layers, kh·kw for conv kernels,
 * each N × M with N ≥ M, so M values per slice), pooled and sorted ascending. Conv kernels are
 * scaled by √(1/2) before the SVD when conv2d_norm is on (WeightWatcher's default), i.e. every
 * pooled eigenvalue is multiplied by 0.5 — 1×1 convs included, since WeightWatcher decides by the
 * tensor's rank, not its kernel size.
 */

/** WeightWatcher's apply_normalize_Wmats: W·√(conv2d_count / 2) with conv2d_count = 1 when pooling. */
export const CONV2D_NORM_FACTOR = 0.5;

export interface EsdOptions {
  /** Multiply conv eigenvalues by 0.5 (WeightWatcher conv2d_norm=True). Default true. */
  conv2dNorm?: boolean;
  signal?: AbortSignal;
}

export interface LayerEsd {
  /** Pooled eigenvalues, ascending, clamped at 0 (roundoff can make a zero eigenvalue −1e−17). */
  evals: Float64Array;
  /** The factor applied to every eigenvalue (0.5 or 1). */
  scale: number;
  /**
   * WeightWatcher's matrix_rank of the pooled singular values (σ > σmax · N · ε). Eigenvalues the
   * Gram matrix cannot resolve (below AMBIGUOUS_REL · k · ε · λmax of their slice) are settled by a
   * pivoted QR of that slice; those found to be zero are set to exactly 0 in `evals`.
   */
  rank: number;
}

/** Gram eigenvalues below this many k·ε·λmax are roundoff-level: zero or not, the Gram cannot say. */
export const AMBIGUOUS_REL = 16;

/** Pivoted QR costs ~2·N·M² flops; past N·M² = this (about half a second in JS) it is not worth a rank digit. */
export const MAX_RANK_QR_FLOPS = 3e8;

/** All-zero columns of a row-major rows × cols slice (rows ≥ cols): each is an exact zero singular value. */
function zeroColumns(data: Float32Array, rows: number, cols: number): number {
  const nonzero = new Uint8Array(cols);
  for (let r = 0; r < rows; r++) {
    const off = r * cols;
    for (let c = 0; c < cols; c++) if (data[off + c] !== 0) nonzero[c] = 1;
  }
  let z = 0;
  for (let c = 0; c < cols; c++) if (nonzero[c] === 0) z++;
  return z;
}

export function layerEsd(layer: Layer, data: Float32Array, options: EsdOptions = {}): LayerEsd {
  const mats = layerMatrices(layer, data);
  const isConv = layer.kind === 'conv2d' || layer.kind === 'conv1d';
  const scale = isConv && (options.conv2dNorm ?? true) ? CONV2D_NORM_FACTOR : 1;
  const perSlice: Float64Array[] = [];
  let lambdaMax = 0;
  for (const m of mats) {
    throwIfAborted(options.signal);
    const { g, k } = gram(m.data, m.rows, m.cols);
    const ev = eigvalsh(g, k);
    for (let i = 0; i < k; i++) ev[i] = Math.max(0, ev[i]! * scale);
    perSlice.push(ev);
    if (k > 0) lambdaMax = Math.max(lambdaMax, ev[k - 1]!);
  }
  // WeightWatcher's tolerance on singular values, from the pooled σmax and the long side N.
  const tol = Math.sqrt(lambdaMax) * layer.N * Number.EPSILON;
  let rank = 0;
  perSlice.forEach((ev, s) => {
    const k = ev.length;
    const floor = AMBIGUOUS_REL * k * Number.EPSILON * (k > 0 ? ev[k - 1]! : 0);
    let ambiguous = 0;
    while (ambiguous < k && ev[ambiguous]! <= floor) ambiguous++;
    if (ambiguous === 0) {
      for (let i = 0; i < k; i++) if (Math.sqrt(ev[i]!) > tol) rank++;
      return;
    }
    const m = mats[s]!;
    // σ of the scaled slice ≤ tol  ⇔  σ of the stored slice ≤ tol / √scale. Past the QR budget,
    // only structural zeros (all-zero columns: dead units) are counted as zero singular values.
    const deficit = Math.min(
      ambiguous,
      m.rows * m.cols * k <= MAX_RANK_QR_FLOPS ? rankDeficit(m.data, m.rows, m.cols, tol / Math.sqrt(scale)) : zeroColumns(m.data, m.rows, m.cols),
    );
    for (let i = 0; i < deficit; i++) ev[i] = 0;
    for (let i = deficit; i < k; i++) if (i < ambiguous || Math.sqrt(ev[i]!) > tol) rank++;
  });
  const evals = new Float64Array(perSlice.reduce((p, e) => p + e.length, 0));
  let at = 0;
  for (const ev of perSlice) {
    evals.set(ev, at);
    at += ev.length;
  }
  return { evals: evals.sort(), scale, rank };
}
