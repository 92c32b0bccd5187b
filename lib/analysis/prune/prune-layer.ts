import { UnsupportedError } from '../../base/errors';
import type { QuantMatrix } from '../quant/quant-matrix';
import { maskStats } from './mask';
import type { Mask, MaskStats, PruneSettings } from './prune-types';
import { scoreHistogram, type ScoreHistogram } from './score-histogram';
import { dimapScores, liftScores, magnitudeScores, wandaScores } from './scores';
import { nmMask, rowTopKMask, topKMask } from './select';

export interface PruneLayerContext {
  /** Wanda: L2 norm of each input feature (QuantMatrix column) over the calibration inputs. */
  actNorms?: Float32Array;
  signal?: AbortSignal;
}

export interface PrunedLayer {
  mask: Mask;
  stats: MaskStats;
  histogram: ScoreHistogram;
  /** The cut score (the highest removed score); null for row- or group-wise selections (Wanda, N:M), which have no single threshold, and when nothing is removed. */
  threshold: number | null;
  ms: number;
}

/** The method's per-weight scores for one layer (DIMAP's within-layer part). */
export function layerScores(matrix: QuantMatrix, settings: PruneSettings, ctx: PruneLayerContext = {}): Float32Array {
  switch (settings.method) {
    case 'magnitude':
    case 'nm':
      return magnitudeScores(matrix);
    case 'lift':
      return liftScores(matrix, settings.liftRank, { seed: settings.seed, ...(ctx.signal ? { signal: ctx.signal } : {}) });
    case 'dimap':
      return dimapScores(matrix);
    case 'wanda':
      if (!ctx.actNorms) {
        throw new UnsupportedError(
          'wanda-needs-activations',
          'Wanda scores weights by |W|·‖X‖ and needs the input activations: open the model as an ONNX graph and give calibration inputs so the activation norms can be collected',
        );
      }
      return wandaScores(matrix, ctx.actNorms);
  }
}

/**
 * Prunes one layer on its own at `ratio`: magnitude, LIFT and DIMAP remove exactly
 * round(ratio·weights) lowest scores of the layer; Wanda does the same per output row (its
 * comparison group); N:M keeps settings.n of every settings.m and ignores ratio. Model-level
 * selections (global magnitude, DIMAP pooled over module types) are in pruneLayers.
 */
export function pruneLayer(matrix: QuantMatrix, settings: PruneSettings, ratio: number, ctx: PruneLayerContext = {}): PrunedLayer {
  const t0 = performance.now();
  const scores = layerScores(matrix, settings, ctx);
  let mask: Mask;
  let threshold: number | null = null;
  if (settings.method === 'nm') mask = nmMask(scores, matrix.rows, matrix.cols, settings.n, settings.m);
  else if (settings.method === 'wanda') mask = rowTopKMask(scores, matrix.rows, matrix.cols, ratio);
  else ({ mask, threshold } = topKMask(scores, matrix.rows, matrix.cols, ratio));
  return { mask, stats: maskStats(mask), histogram: scoreHistogram(scores), threshold, ms: performance.now() - t0 };
}
