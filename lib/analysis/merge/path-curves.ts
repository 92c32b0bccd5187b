import { throwIfAborted, UnsupportedError } from '../../base/errors';
import type { TensorSource } from '../../formats/types';
import { type Pairing, pairModels } from './pairing';

/**
 * Weight-space curves along the linear path θ(α) = (1−α)θ_A + αθ_B, per layer and for the whole
 * model (all paired float tensors flattened together). Each tensor is read once per model and
 * reduced to four sums — ‖A‖², ‖B‖², ⟨A,B⟩, ‖B−A‖² — from which every point of every curve
 * follows in closed form, so a 25- or 1000-point grid costs the same single pass:
 *   ‖θ(α) − θ_A‖ = α‖B−A‖,  ‖θ(α) − θ_B‖ = (1−α)‖B−A‖,
 *   ‖θ(α)‖² = (1−α)²‖A‖² + 2α(1−α)⟨A,B⟩ + α²‖B‖²,
 *   ⟨θ(α), A⟩ = (1−α)‖A‖² + α⟨A,B⟩,  ⟨θ(α), B⟩ = (1−α)⟨A,B⟩ + α‖B‖².
 * ‖B−A‖² is summed directly rather than as ‖A‖² + ‖B‖² − 2⟨A,B⟩, which cancels catastrophically
 * for two nearby models (a fine-tune and its base). Sums run in float64. A cosine with a zero-norm
 * vector is undefined and reported as NaN (null in JSON).
 */

export const DEFAULT_PATH_POINTS = 25;
export const MAX_PATH_POINTS = 10_001;

/** `points` evenly spaced values from 0 to 1 inclusive. */
export function alphaGrid(points = DEFAULT_PATH_POINTS): number[] {
  if (!Number.isInteger(points) || points < 2 || points > MAX_PATH_POINTS) {
    throw new UnsupportedError('bad-option', `path: ${points} points; choose an integer from 2 to ${MAX_PATH_POINTS}`);
  }
  return Array.from({ length: points }, (_, i) => (i === points - 1 ? 1 : i / (points - 1)));
}

export interface PathMoments {
  /** ‖A‖², ‖B‖², ⟨A,B⟩, ‖B−A‖². */
  aa: number;
  bb: number;
  ab: number;
  dd: number;
}

export function pathMoments(a: Float32Array, b: Float32Array): PathMoments {
  if (a.length !== b.length) throw new UnsupportedError('shape-mismatch', `path: tensors of ${a.length} and ${b.length} values`);
  let aa = 0;
  let bb = 0;
  let ab = 0;
  let dd = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    aa += x * x;
    bb += y * y;
    ab += x * y;
    dd += (y - x) * (y - x);
  }
  return { aa, bb, ab, dd };
}

export interface PathCurve {
  name: string;
  alphas: number[];
  /** L2 distance from θ(α) to θ_A and to θ_B. */
  distA: number[];
  distB: number[];
  /** Cosine of θ(α) with θ_A and with θ_B. */
  cosA: number[];
  cosB: number[];
  /** ‖θ(α)‖. */
  norm: number[];
}

export function pathCurveFromMoments(name: string, m: PathMoments, alphas: readonly number[]): PathCurve {
  const d = Math.sqrt(m.dd);
  const na = Math.sqrt(m.aa);
  const nb = Math.sqrt(m.bb);
  const curve: PathCurve = { name, alphas: [...alphas], distA: [], distB: [], cosA: [], cosB: [], norm: [] };
  for (const t of alphas) {
    const s = 1 - t;
    const norm = Math.sqrt(Math.max(0, s * s * m.aa + 2 * t * s * m.ab + t * t * m.bb));
    curve.distA.push(Math.abs(t) * d);
    curve.distB.push(Math.abs(s) * d);
    curve.norm.push(norm);
    curve.cosA.push(norm > 0 && na > 0 ? (s * m.aa + t * m.ab) / (norm * na) : NaN);
    curve.cosB.push(norm > 0 && nb > 0 ? (s * m.ab + t * m.bb) / (norm * nb) : NaN);
  }
  return curve;
}

export interface PathCurvesOptions {
  /** Explicit α values; otherwise alphaGrid(points). Values outside [0, 1] extrapolate. */
  alphas?: readonly number[];
  points?: number;
  pairing?: Pairing;
  signal?: AbortSignal;
}

export interface PathCurvesResult {
  alphas: number[];
  layers: PathCurve[];
  /** All paired float tensors flattened into one vector. */
  model: PathCurve;
  pairing: Pairing;
}

function pairTwo(a: TensorSource, b: TensorSource, pairing: Pairing | undefined): Pairing {
  return pairing ?? pairModels([{ label: a.name, tensors: a.tensors }, { label: b.name, tensors: b.tensors }]);
}

export async function weightPathCurves(a: TensorSource, b: TensorSource, options: PathCurvesOptions = {}): Promise<PathCurvesResult> {
  const alphas = options.alphas ? [...options.alphas] : alphaGrid(options.points);
  const pairing = pairTwo(a, b, options.pairing);
  const total: PathMoments = { aa: 0, bb: 0, ab: 0, dd: 0 };
  const layers: PathCurve[] = [];
  for (const p of pairing.paired) {
    throwIfAborted(options.signal);
    const m = pathMoments(await a.read(p.name, options.signal), await b.read(p.name, options.signal));
    total.aa += m.aa;
    total.bb += m.bb;
    total.ab += m.ab;
    total.dd += m.dd;
    layers.push(pathCurveFromMoments(p.name, m, alphas));
  }
  return { alphas, layers, model: pathCurveFromMoments('(model)', total, alphas), pairing };
}

export interface SimilarityMatrices {
  name: string;
  /** k × k cosine between models (NaN where a model's tensor is all zeros). */
  cosine: number[][];
  /** k × k L2 distance ‖θ_i − θ_j‖. */
  l2: number[][];
  /** ‖θ_i‖ of each model. */
  norms: number[];
}

export interface SimilarityResult {
  labels: string[];
  layers: SimilarityMatrices[];
  model: SimilarityMatrices;
  pairing: Pairing;
}

interface Accumulator {
  dot: Float64Array;
  dist: Float64Array;
}

function newAccumulator(k: number): Accumulator {
  return { dot: new Float64Array(k * k), dist: new Float64Array(k * k) };
}

/** Adds the Gram and squared-distance sums of k vectors of equal length into acc. */
function accumulate(acc: Accumulator, vs: readonly Float64Array[] | readonly Float32Array[]): void {
  const k = vs.length;
  for (let i = 0; i < k; i++) {
    for (let j = i; j < k; j++) {
      const x = vs[i]!;
      const y = vs[j]!;
      let dot = 0;
      let dist = 0;
      for (let t = 0; t < x.length; t++) {
        const u = x[t]!;
        const v = y[t]!;
        dot += u * v;
        dist += (u - v) * (u - v);
      }
      acc.dot[i * k + j]! += dot;
      acc.dist[i * k + j]! += dist;
      if (i !== j) {
        acc.dot[j * k + i]! += dot;
        acc.dist[j * k + i]! += dist;
      }
    }
  }
}

function matrices(name: string, acc: Accumulator, k: number): SimilarityMatrices {
  const norms = Array.from({ length: k }, (_, i) => Math.sqrt(acc.dot[i * k + i]!));
  const cosine: number[][] = [];
  const l2: number[][] = [];
  for (let i = 0; i < k; i++) {
    cosine.push([]);
    l2.push([]);
    for (let j = 0; j < k; j++) {
      const den = norms[i]! * norms[j]!;
      cosine[i]!.push(den > 0 ? acc.dot[i * k + j]! / den : NaN);
      l2[i]!.push(Math.sqrt(acc.dist[i * k + j]!));
    }
  }
  return { name, cosine, l2, norms };
}

/**
 * Per-layer cosine and L2 distance between every pair of two or more models (the layer × pair
 * heatmap), plus the whole-model figures. One tensor per model is held at a time.
 */
export async function modelSimilarity(sources: readonly TensorSource[], options: { pairing?: Pairing; signal?: AbortSignal } = {}): Promise<SimilarityResult> {
  if (sources.length < 2) throw new UnsupportedError('bad-models', `similarity: needs at least two models, got ${sources.length}`);
  const pairing = options.pairing ?? pairModels(sources.map((s) => ({ label: s.name, tensors: s.tensors })));
  const k = sources.length;
  const total = newAccumulator(k);
  const layers: SimilarityMatrices[] = [];
  for (const p of pairing.paired) {
    throwIfAborted(options.signal);
    const vs: Float32Array[] = [];
    for (const s of sources) vs.push(await s.read(p.name, options.signal));
    const acc = newAccumulator(k);
    accumulate(acc, vs);
    for (let i = 0; i < k * k; i++) {
      total.dot[i]! += acc.dot[i]!;
      total.dist[i]! += acc.dist[i]!;
    }
    layers.push(matrices(p.name, acc, k));
  }
  return { labels: sources.map((s) => s.name), layers, model: matrices('(model)', total, k), pairing };
}

/**
 * Cosine (and L2, norms) between the task vectors τ_i = θ_i − θ₀ of one or more fine-tuned models
 * over a shared base, per layer and for the whole model. Orthogonal task vectors (cosine ≈ 0)
 * are what task arithmetic relies on to add skills without interference.
 */
export async function taskVectorSimilarity(
  base: TensorSource,
  models: readonly TensorSource[],
  options: { pairing?: Pairing; signal?: AbortSignal } = {},
): Promise<SimilarityResult> {
  if (models.length < 1) throw new UnsupportedError('bad-models', 'task vectors: needs at least one model besides the base');
  const pairing = options.pairing ?? pairModels([base, ...models].map((s) => ({ label: s.name, tensors: s.tensors })));
  const k = models.length;
  const total = newAccumulator(k);
  const layers: SimilarityMatrices[] = [];
  for (const p of pairing.paired) {
    throwIfAborted(options.signal);
    const b = await base.read(p.name, options.signal);
    const taus: Float64Array[] = [];
    for (const m of models) {
      const t = await m.read(p.name, options.signal);
      const tau = new Float64Array(t.length);
      for (let j = 0; j < t.length; j++) tau[j] = t[j]! - b[j]!;
      taus.push(tau);
    }
    const acc = newAccumulator(k);
    accumulate(acc, taus);
    for (let i = 0; i < k * k; i++) {
      total.dot[i]! += acc.dot[i]!;
      total.dist[i]! += acc.dist[i]!;
    }
    layers.push(matrices(p.name, acc, k));
  }
  return { labels: models.map((s) => s.name), layers, model: matrices('(model)', total, k), pairing };
}
