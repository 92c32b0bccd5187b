import { throwIfAborted, UnsupportedError } from '../../base/errors';
import type { QuantMatrix } from '../quant/quant-matrix';
import { alphaPruningRatios, uniformRatios } from './allocation';
import { countKept, fullMask, maskStats } from './mask';
import { layerScores, pruneLayer, type PrunedLayer } from './prune-layer';
import type { Mask, PruneSettings } from './prune-types';
import { scoreHistogram } from './score-histogram';
import { checkSparsity, dimapMasks, globalMasks } from './select';

export interface PruneInputLayer {
  name: string;
  matrix: QuantMatrix;
  /** α for the 'alpha' / 'farms' allocation (the caller passes raw or FARMS α); null = not analyzable. */
  alpha?: number | null;
  /** Wanda's per-column activation norms. */
  actNorms?: Float32Array;
}

export interface PruneLayerOutcome extends PrunedLayer {
  name: string;
  /** The sparsity this layer was asked for (the allocation's ratio; 0 when excluded; for global / DIMAP / N:M the model-level target or pattern). */
  ratio: number;
  excluded: boolean;
  /** DIMAP: index into settings.moduleTypes (moduleTypes.length = unmatched). */
  moduleType?: number;
}

export interface PruneResult {
  layers: PruneLayerOutcome[];
  weights: number;
  kept: number;
  /** Achieved overall sparsity, removed / weights over every layer (excluded ones included). */
  sparsity: number;
}

export interface PruneLayersOptions {
  signal?: AbortSignal;
  onProgress?: (p: { done: number; layers: number; name: string }) => void;
}

/** Lets a worker's cancel message through between layers (a microtask would not). */
const yieldToEvents = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

function excludeRegex(pattern: string): RegExp | null {
  if (pattern === '') return null;
  try {
    return new RegExp(pattern);
  } catch {
    throw new UnsupportedError('bad-pattern', `exclude pattern /${pattern}/ is not a valid regular expression`);
  }
}

/**
 * Masks for every layer under one setting. Per-layer methods (magnitude with scope 'layer',
 * LIFT, Wanda) use the allocation's ratio per layer; N:M ignores the allocation (the pattern
 * fixes the sparsity); global magnitude and DIMAP rank pooled scores and so ignore it too
 * (their ranking is the allocation). Layers matching settings.exclude stay dense.
 */
export async function pruneLayers(layers: readonly PruneInputLayer[], settings: PruneSettings, opts: PruneLayersOptions = {}): Promise<PruneResult> {
  checkSparsity(settings.sparsity, 'target sparsity');
  const ex = excludeRegex(settings.exclude);
  const excluded = layers.map((l) => ex?.test(l.name) ?? false);
  const total = layers.length;
  const progress = (done: number, name: string): void => opts.onProgress?.({ done, layers: total, name });
  const outcomes: PruneLayerOutcome[] = [];
  const pooled = (settings.method === 'magnitude' && settings.scope === 'global') || settings.method === 'dimap';

  if (pooled) {
    const t0 = performance.now();
    const scores: Float32Array[] = [];
    for (let i = 0; i < total; i++) {
      throwIfAborted(opts.signal);
      progress(i, layers[i]!.name);
      scores.push(layerScores(layers[i]!.matrix, settings));
      await yieldToEvents();
    }
    throwIfAborted(opts.signal);
    const scored = layers.map((l, i) => ({ name: l.name, scores: scores[i]!, rows: l.matrix.rows, cols: l.matrix.cols, excluded: excluded[i]! }));
    let masks: Mask[];
    let thresholdOf: (i: number) => number | null;
    let typeOf: ((i: number) => number) | null = null;
    if (settings.method === 'dimap') {
      const r = dimapMasks(scored, settings.moduleTypes, settings.sparsity);
      masks = r.masks;
      thresholdOf = (i) => (excluded[i] ? null : r.thresholds[r.types[i]!] ?? null);
      typeOf = (i) => r.types[i]!;
    } else {
      const r = globalMasks(scored, settings.sparsity);
      masks = r.masks;
      thresholdOf = (i) => (excluded[i] ? null : r.threshold);
    }
    const ms = (performance.now() - t0) / Math.max(1, total);
    layers.forEach((l, i) => {
      outcomes.push({
        name: l.name,
        ratio: excluded[i] ? 0 : settings.sparsity,
        excluded: excluded[i]!,
        mask: masks[i]!,
        stats: maskStats(masks[i]!),
        histogram: scoreHistogram(scores[i]!),
        threshold: thresholdOf(i),
        ms,
        ...(typeOf ? { moduleType: typeOf(i) } : {}),
      });
    });
  } else {
    const ratios = allocate(layers, excluded, settings);
    for (let i = 0; i < total; i++) {
      throwIfAborted(opts.signal);
      const l = layers[i]!;
      progress(i, l.name);
      if (excluded[i]) {
        const mask = fullMask(l.matrix.rows, l.matrix.cols);
        outcomes.push({ name: l.name, ratio: 0, excluded: true, mask, stats: maskStats(mask), histogram: scoreHistogram(layerScoresOrEmpty(l, settings)), threshold: null, ms: 0 });
      } else {
        const ratio = settings.method === 'nm' ? 1 - settings.n / settings.m : ratios[i]!;
        const ctx = { ...(l.actNorms ? { actNorms: l.actNorms } : {}), ...(opts.signal ? { signal: opts.signal } : {}) };
        outcomes.push({ name: l.name, ratio, excluded: false, ...pruneLayer(l.matrix, settings, ratio, ctx) });
      }
      await yieldToEvents();
    }
  }
  progress(total, '');
  let weights = 0;
  let kept = 0;
  for (const o of outcomes) {
    weights += o.stats.weights;
    kept += countKept(o.mask);
  }
  return { layers: outcomes, weights, kept, sparsity: weights === 0 ? 0 : (weights - kept) / weights };
}

/** Excluded layers still show their magnitude histogram (Wanda's needs activations they may lack). */
function layerScoresOrEmpty(l: PruneInputLayer, settings: PruneSettings): Float32Array {
  if (settings.method === 'wanda' && !l.actNorms) return Float32Array.from(l.matrix.data, Math.abs);
  return layerScores(l.matrix, settings, l.actNorms ? { actNorms: l.actNorms } : {});
}

/** Per-layer ratios: uniform, or AlphaPruning over the non-excluded layers (excluded ones get 0 and stay out of the mean). */
export function allocate(layers: readonly PruneInputLayer[], excluded: readonly boolean[], settings: PruneSettings): number[] {
  const out = layers.map(() => 0);
  const live = layers.map((l, i) => ({ l, i })).filter(({ i }) => !excluded[i]);
  const ratios =
    settings.allocation === 'uniform'
      ? uniformRatios(live.length, settings.sparsity)
      : alphaPruningRatios(live.map(({ l }) => ({ params: l.matrix.rows * l.matrix.cols, alpha: l.alpha ?? null })), settings.sparsity, settings.epsilon);
  live.forEach(({ i }, j) => (out[i] = ratios[j]!));
  return out;
}
