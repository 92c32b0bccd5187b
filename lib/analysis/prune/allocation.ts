import { UnsupportedError } from '../../base/errors';
import { checkSparsity } from './select';

/**
 * Layer-wise sparsity allocation: how a model-wide target is split over layers.
 */

/** No layer is pruned entirely: an emptied layer cuts the network, whatever its α says. */
export const MAX_LAYER_SPARSITY = 0.99;

export function uniformRatios(count: number, target: number): number[] {
  checkSparsity(target, 'target sparsity');
  return Array.from({ length: count }, () => target);
}

export interface AlphaLayer {
  /** Weights in the layer (the weight of its ratio in the mean). */
  params: number;
  /** The layer's power-law α (raw or FARMS); null when the layer was not analyzable. */
  alpha: number | null;
}

/**
 * AlphaPruning (Lu et al., NeurIPS 2024), as in the authors' code (`ww_sparsity`):
 *   ratio_l = ((α_l − α_min) / (α_max − α_min))·(s2 − s1) + s1,  s1 = 1 − ε, s2 = 1 + ε,
 * then every ratio is multiplied by one scaler so Σ params_l·ratio_l = target·Σ params_l.
 * So the smallest α (the most heavy-tailed, best-trained layer) gets 1 − ε and is pruned
 * least; the largest α gets 1 + ε and is pruned most.
 * Departures, each because the paper's code leaves the case open: ratios are clamped to
 * [0, MAX_LAYER_SPARSITY] and the scaler is re-solved (bisection) after clamping, so the
 * parameter-weighted mean is still exactly the target wherever that is reachable; layers with
 * α = null get the target itself and are left out of the mapping; when all α are equal every
 * layer gets the target.
 */
export function alphaPruningRatios(layers: readonly AlphaLayer[], target: number, epsilon: number): number[] {
  checkSparsity(target, 'target sparsity');
  if (!(epsilon >= 0 && epsilon < 1)) throw new UnsupportedError('bad-epsilon', `AlphaPruning ε = ${epsilon} must be in [0, 1)`);
  const out = layers.map(() => target);
  const idx = layers.map((l, i) => ({ l, i })).filter(({ l }) => l.alpha !== null && Number.isFinite(l.alpha));
  if (idx.length === 0) return out;
  const alphas = idx.map(({ l }) => l.alpha!);
  const lo = Math.min(...alphas);
  const hi = Math.max(...alphas);
  if (hi === lo) return out;
  const base = idx.map(({ l }) => ((l.alpha! - lo) / (hi - lo)) * 2 * epsilon + (1 - epsilon));
  const params = idx.map(({ l }) => l.params);
  const totalParams = params.reduce((a, b) => a + b, 0);
  if (totalParams === 0) return out;
  const mean = (c: number): number => base.reduce((a, b, j) => a + params[j]! * clamp(c * b), 0) / totalParams;
  // The authors' unclamped scaler; mean(c) is non-decreasing in c, so bisection re-solves it after clamping.
  let c = (target * totalParams) / base.reduce((a, b, j) => a + params[j]! * b, 0);
  if (Math.abs(mean(c) - target) > 1e-12) {
    let a = 0;
    let b = c;
    while (mean(b) < target && b < 1e9) b *= 2;
    for (let it = 0; it < 200; it++) {
      const mid = (a + b) / 2;
      if (mean(mid) < target) a = mid;
      else b = mid;
    }
    c = b;
  }
  idx.forEach(({ i }, j) => (out[i] = clamp(c * base[j]!)));
  return out;
}

function clamp(x: number): number {
  return Math.min(MAX_LAYER_SPARSITY, Math.max(0, x));
}
