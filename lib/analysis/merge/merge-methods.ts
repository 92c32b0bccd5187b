import { LimitError, throwIfAborted, UnsupportedError } from '../../base/errors';
import { Rng } from '../../base/rng';
import type { TensorSource } from '../../formats/types';
import { type BlockLambdaRule, lambdaForTensor } from './lambda-for-tensor';
import { type Pairing, pairModels } from './pairing';
import { polarFactor } from './polar-factor';
import { topSingularTriplets } from './top-singular-triplets';

/**
 * Merge methods, one function per method, each on the float32 values of one tensor (the same
 * tensor of every model). Arithmetic runs in float64 and rounds to float32 once per entry at the
 * end, so intermediate sums lose nothing to float32 rounding (differences of float32 weights of
 * similar size are exact in float64).
 * mergeModels, at the end, runs one method over whole models, one tensor at a time.
 *
 * Task-vector methods take the base θ₀ and the fine-tuned θ_i; τ_i = θ_i − θ₀.
 */

export const SLERP_DOT_THRESHOLD = 0.9995;
export const TIES_DEFAULT_KEEP = 0.2;

/**
 * TSV orthogonalises the concatenated singular vectors (T·k ≈ the layer's short side columns) with
 * an exact one-sided Jacobi SVD, whose cost grows as columns²·rows per sweep: 1024 columns already
 * take tens of seconds in JavaScript, so wider layers are refused rather than left to hang.
 */
export const MAX_TSV_CONCAT_COLS = 1024;

function checkLengths(what: string, n: number, arrays: readonly Float32Array[]): void {
  for (const a of arrays) {
    if (a.length !== n) throw new UnsupportedError('shape-mismatch', `${what}: tensors of ${n} and ${a.length} values cannot be merged`);
  }
}

function checkTasks(what: string, base: Float32Array, tasks: readonly Float32Array[]): void {
  if (tasks.length === 0) throw new UnsupportedError('no-tasks', `${what}: needs at least one fine-tuned model besides the base`);
  checkLengths(what, base.length, tasks);
}

/** θ(α) = (1−α)·θ_A + α·θ_B; α = 0 and α = 1 return θ_A and θ_B exactly. */
export function lerpTensor(a: Float32Array, b: Float32Array, alpha: number): Float32Array {
  checkLengths('linear', a.length, [b]);
  const out = new Float32Array(a.length);
  const wa = 1 - alpha;
  for (let i = 0; i < a.length; i++) out[i] = wa * a[i]! + alpha * b[i]!;
  return out;
}

export type SlerpFallback = 'parallel' | 'zero-norm' | null;

export interface SlerpResult {
  data: Float32Array;
  /** Why plain lerp was used instead, or null when the spherical formula ran. */
  fallback: SlerpFallback;
}

/**
 * Spherical interpolation of the flattened tensors, as mergekit does: the angle Ω comes from the
 * normalised vectors, the weights sin((1−α)Ω)/sin Ω and sin(αΩ)/sin Ω multiply the original
 * (unnormalised) tensors. Nearly (anti)parallel tensors (|cos Ω| > threshold) make sin Ω ≈ 0 and
 * the weights unstable, so they fall back to lerp; a zero-norm tensor has no direction at all, so
 * it also falls back to lerp (which is then a rescaling of the other tensor).
 */
export function slerpTensor(a: Float32Array, b: Float32Array, alpha: number, threshold = SLERP_DOT_THRESHOLD): SlerpResult {
  checkLengths('slerp', a.length, [b]);
  let aa = 0;
  let bb = 0;
  let ab = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    aa += x * x;
    bb += y * y;
    ab += x * y;
  }
  if (aa === 0 || bb === 0) return { data: lerpTensor(a, b, alpha), fallback: 'zero-norm' };
  const dot = Math.max(-1, Math.min(1, ab / Math.sqrt(aa * bb)));
  if (Math.abs(dot) > threshold) return { data: lerpTensor(a, b, alpha), fallback: 'parallel' };
  const omega = Math.acos(dot);
  const sinOmega = Math.sin(omega);
  const wa = Math.sin((1 - alpha) * omega) / sinOmega;
  const wb = Math.sin(alpha * omega) / sinOmega;
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = wa * a[i]! + wb * b[i]!;
  return { data: out, fallback: null };
}

/** θ₀ + λ·Σ_i τ_i. */
export function taskArithmeticTensor(base: Float32Array, tasks: readonly Float32Array[], lambda: number): Float32Array {
  checkTasks('task arithmetic', base, tasks);
  const out = new Float32Array(base.length);
  for (let j = 0; j < base.length; j++) {
    const b = base[j]!;
    let sum = 0;
    for (const t of tasks) sum += t[j]! - b;
    out[j] = b + lambda * sum;
  }
  return out;
}

/**
 * TIES trim: the entries of τ whose magnitude is among the top `keep` fraction. As in the
 * authors' code, floor(keep·n) entries are asked for (at least one when keep > 0) and every
 * entry at least as large as the threshold stays, so ties at the threshold may keep a few more.
 */
export function trimTopMagnitude(tau: Float64Array, keep: number): Float64Array {
  const n = tau.length;
  const out = new Float64Array(n);
  if (keep <= 0 || n === 0) return out;
  const count = Math.min(n, Math.max(1, Math.floor(keep * n)));
  const mags = new Float64Array(n);
  for (let j = 0; j < n; j++) mags[j] = Math.abs(tau[j]!);
  mags.sort();
  const threshold = mags[n - count]!;
  for (let j = 0; j < n; j++) {
    const v = tau[j]!;
    if (v !== 0 && Math.abs(v) >= threshold) out[j] = v;
  }
  return out;
}

export interface TiesOptions {
  /** Fraction of each τ's entries kept by magnitude (TIES's k), 0..1; default 0.2. */
  keep?: number;
  lambda?: number;
}

export interface TiesResult {
  data: Float32Array;
  /** Entries where the nonzero trimmed τ_i disagree in sign. */
  signConflicts: number;
  /** Entries where at least two trimmed τ_i are nonzero (where a conflict is possible). */
  overlapping: number;
  /** signConflicts / number of entries of the tensor (the TIES paper counts over all parameters). */
  signConflictRate: number;
}

/**
 * TIES-merging (Yadav et al. 2023): trim each τ_i to its top-k magnitudes, elect a sign per entry
 * as the sign of the summed trimmed values, average only the trimmed values that agree with the
 * elected sign (disjoint mean; 0 where none do), then θ₀ + λ·merged. An entry whose trimmed sum
 * is exactly 0 takes the majority sign, the sign of the sum of the elected signs over the tensor
 * (the authors' "majority" rule, applied here per tensor). Trimming is per tensor, as in mergekit;
 * the paper trims over the whole flattened task vector.
 */
export function tiesTensor(base: Float32Array, tasks: readonly Float32Array[], options: TiesOptions = {}): TiesResult {
  checkTasks('TIES', base, tasks);
  const keep = options.keep ?? TIES_DEFAULT_KEEP;
  const lambda = options.lambda ?? 1;
  if (!(keep >= 0 && keep <= 1)) throw new UnsupportedError('bad-option', `TIES: keep fraction ${keep} must be in [0, 1]`);
  const n = base.length;
  const trimmed = tasks.map((t) => {
    const tau = new Float64Array(n);
    for (let j = 0; j < n; j++) tau[j] = t[j]! - base[j]!;
    return trimTopMagnitude(tau, keep);
  });
  const elected = new Int8Array(n);
  let signSum = 0;
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (const t of trimmed) s += t[j]!;
    elected[j] = Math.sign(s);
    signSum += elected[j]!;
  }
  const majority = Math.sign(signSum);
  let signConflicts = 0;
  let overlapping = 0;
  const out = new Float32Array(n);
  for (let j = 0; j < n; j++) {
    const sign = elected[j]! === 0 ? majority : elected[j]!;
    let pos = 0;
    let neg = 0;
    let sum = 0;
    let count = 0;
    for (const t of trimmed) {
      const v = t[j]!;
      if (v > 0) pos++;
      else if (v < 0) neg++;
      if (v !== 0 && Math.sign(v) === sign) {
        sum += v;
        count++;
      }
    }
    if (pos + neg >= 2) overlapping++;
    if (pos > 0 && neg > 0) signConflicts++;
    out[j] = base[j]! + lambda * (count > 0 ? sum / count : 0);
  }
  return { data: out, signConflicts, overlapping, signConflictRate: n > 0 ? signConflicts / n : 0 };
}

export interface DareOptions {
  /** Drop probability p, 0 ≤ p < 1. */
  dropRate: number;
  seed: number;
  lambda?: number;
}

export interface DareResult {
  data: Float32Array;
  /** Entries dropped from each τ_i. */
  dropped: number[];
}

/**
 * DARE (Yu et al. 2024): drop each entry of each τ_i with probability p, rescale the survivors by
 * 1/(1−p) so every entry keeps its expectation, then task arithmetic θ₀ + λ·Σ τ̃_i. The draws come
 * from one Rng(seed): task 0's entries in order, then task 1's, and so on — an entry is dropped
 * when rng.next() < p.
 */
export function dareTensor(base: Float32Array, tasks: readonly Float32Array[], options: DareOptions): DareResult {
  checkTasks('DARE', base, tasks);
  const p = options.dropRate;
  const lambda = options.lambda ?? 1;
  if (!(p >= 0 && p < 1)) throw new UnsupportedError('bad-option', `DARE: drop rate ${p} must be in [0, 1)`);
  const n = base.length;
  const keepProb = 1 - p;
  const sum = new Float64Array(n);
  const rng = new Rng(options.seed);
  const dropped: number[] = [];
  for (const t of tasks) {
    let d = 0;
    for (let j = 0; j < n; j++) {
      if (rng.next() < p) d++;
      else sum[j]! += (t[j]! - base[j]!) / keepProb;
    }
    dropped.push(d);
  }
  const out = new Float32Array(n);
  for (let j = 0; j < n; j++) out[j] = base[j]! + lambda * sum[j]!;
  return { data: out, dropped };
}

export interface TsvOptions {
  lambda?: number;
  /** Tensor name, for error messages. */
  name?: string;
  /** Seed of the randomized SVD used for layers whose short side exceeds EXACT_SVD_MAX_SIDE. */
  seed?: number;
}

export interface TsvResult {
  data: Float32Array;
  /** 'svd' for a 2-D tensor merged by TSV, 'mean' where it fell back to the mean task vector. */
  mode: 'svd' | 'mean';
  /** Singular components kept per task (0 for 'mean'). */
  rankPerTask: number;
}

/**
 * TSV-Merge (Gallo et al. 2025, "Task Singular Vectors: Reducing Task Interference in Model
 * Merging"), following the authors' compute_and_sum_svd_mem_reduction: for a 2-D layer of shape
 * m × n and T tasks, k = floor(min(m, n)/T); take each τ_i's top-k singular triplets, concatenate
 * U = [U_1…U_T] (m × Tk), Σ = diag(σ_1…σ_T), V = [V_1…V_T] (n × Tk); replace U and V by their
 * orthogonal polar factors (U⊥ = P·Qᵀ from U = P·S·Qᵀ, same for V) and set
 * Δ = U⊥·Σ·V⊥ᵀ; the result is θ₀ + λ·Δ. The authors' code leaves the last min(m,n) − Tk slots of
 * the concatenation zero; dropping them gives the same Δ. Tensors that are not 2-D (biases, norms,
 * conv kernels) and layers with k = 0 (more tasks than the short side) take the mean task vector,
 * θ₀ + λ·mean(τ_i), as the authors' code does for non-matrix parameters.
 * Where the concatenated U or V is rank-deficient (dead hidden units make it so on real models),
 * the polar factor is the partial isometry described in polar-factor.ts, not LAPACK's arbitrary
 * completion, so ‖Δ‖_F ≤ ‖Σ‖_F, with equality when both concatenations have full rank.
 */
export function tsvTensor(base: Float32Array, tasks: readonly Float32Array[], shape: readonly number[], options: TsvOptions = {}): TsvResult {
  checkTasks('TSV', base, tasks);
  const lambda = options.lambda ?? 1;
  const n = base.length;
  const T = tasks.length;
  const rows = shape[0] ?? 0;
  const cols = shape[1] ?? 0;
  const k = shape.length === 2 ? Math.floor(Math.min(rows, cols) / T) : 0;
  if (k === 0 || rows * cols !== n) {
    const out = new Float32Array(n);
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (const t of tasks) sum += t[j]! - base[j]!;
      out[j] = base[j]! + lambda * (sum / T);
    }
    return { data: out, mode: 'mean', rankPerTask: 0 };
  }
  const K = T * k;
  if (K > MAX_TSV_CONCAT_COLS) {
    throw new LimitError('tsv-size', `TSV: tensor "${options.name ?? '?'}" (${rows} × ${cols}, ${T} tasks) needs a ${K}-column orthogonalisation; the limit is ${MAX_TSV_CONCAT_COLS} (use TIES, DARE or task arithmetic for it)`);
  }
  const uCat = new Float64Array(rows * K);
  const vCat = new Float64Array(cols * K);
  const sCat = new Float64Array(K);
  tasks.forEach((t, i) => {
    const tau = new Float64Array(n);
    for (let j = 0; j < n; j++) tau[j] = t[j]! - base[j]!;
    const svd = topSingularTriplets(tau, rows, cols, k, options.seed ?? 0);
    for (let c = 0; c < k; c++) {
      sCat[i * k + c] = svd.s[c]!;
      for (let r = 0; r < rows; r++) uCat[r * K + i * k + c] = svd.u[r * k + c]!;
      for (let r = 0; r < cols; r++) vCat[r * K + i * k + c] = svd.v[r * k + c]!;
    }
  });
  const uPerp = polarFactor(uCat, rows, K);
  const vPerp = polarFactor(vCat, cols, K);
  // Δ = U⊥·diag(s)·V⊥ᵀ, one row at a time.
  const out = new Float32Array(n);
  const us = new Float64Array(K);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < K; c++) us[c] = uPerp[r * K + c]! * sCat[c]!;
    for (let col = 0; col < cols; col++) {
      let acc = 0;
      for (let c = 0; c < K; c++) acc += us[c]! * vPerp[col * K + c]!;
      out[r * cols + col] = base[r * cols + col]! + lambda * acc;
    }
  }
  return { data: out, mode: 'svd', rankPerTask: k };
}

export type MergeMethod =
  | { kind: 'linear'; alpha: number }
  | { kind: 'slerp'; alpha: number; threshold?: number }
  | { kind: 'ta'; lambda: number; blockLambdas?: BlockLambdaRule[] }
  | { kind: 'ties'; lambda: number; keep?: number; blockLambdas?: BlockLambdaRule[] }
  | { kind: 'dare'; lambda: number; dropRate: number; seed: number; blockLambdas?: BlockLambdaRule[] }
  | { kind: 'tsv'; lambda: number; seed?: number; blockLambdas?: BlockLambdaRule[] };

export interface MergeModelsOptions {
  /** The two end points for linear/slerp; the fine-tuned models for task-vector methods. */
  models: readonly TensorSource[];
  /** θ₀, required by the task-vector methods (ta, ties, dare, tsv), refused by linear/slerp. */
  base?: TensorSource;
  method: MergeMethod;
  /** Computed from the sources when absent (base first, then models). */
  pairing?: Pairing;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number, name: string) => void;
}

export interface MergedTensor {
  name: string;
  shape: number[];
  /** 'F32' for merged tensors; the reference model's dtype for copied non-float tensors. */
  dtype: string;
  data: Float32Array;
  /** True for a non-float tensor copied unchanged from the reference model. */
  copied?: boolean;
}

export interface TensorMergeStats {
  name: string;
  /** λ used for this tensor after block coefficients (task-vector methods). */
  lambda?: number;
  slerpFallback?: SlerpFallback;
  signConflicts?: number;
  overlapping?: number;
  signConflictRate?: number;
  dropped?: number[];
  tsvMode?: 'svd' | 'mean';
}

export interface MergeResult {
  method: MergeMethod;
  /** Model that non-float tensors were copied from (the base, or model A). */
  reference: string;
  tensors: MergedTensor[];
  stats: TensorMergeStats[];
  pairing: Pairing;
}

/** FNV-1a of the tensor name mixed with the user's seed: each tensor's DARE draws depend on its name, not on merge order. */
export function tensorSeed(seed: number, name: string): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h >>> 0;
}

/**
 * Merges whole models tensor by tensor: for each paired float tensor, read it from every model
 * (peak memory: one tensor per model plus the result), apply the method, keep the float32 result.
 * Unmatched tensors are left out (see result.pairing.unmatched); non-float tensors are copied from
 * the reference model (their values pass through read(), i.e. float32, exact up to 2^24).
 */
export async function mergeModels(options: MergeModelsOptions): Promise<MergeResult> {
  const { models, base, method, signal } = options;
  const taskMethod = method.kind !== 'linear' && method.kind !== 'slerp';
  if (taskMethod) {
    if (!base) throw new UnsupportedError('no-base', `merge (${method.kind}): task vectors need a base model`);
    if (models.length < 1) throw new UnsupportedError('no-tasks', `merge (${method.kind}): needs at least one fine-tuned model besides the base`);
  } else if (models.length !== 2 || base) {
    throw new UnsupportedError('bad-models', `merge (${method.kind}): interpolates exactly two models without a base, got ${models.length}${base ? ' and a base' : ''}`);
  }
  const sources = base ? [base, ...models] : [...models];
  const pairing = options.pairing ?? pairModels(sources.map((s) => ({ label: s.name, tensors: s.tensors })));
  const reference = sources[0]!;
  const tensors: MergedTensor[] = [];
  const stats: TensorMergeStats[] = [];
  const total = pairing.paired.length + pairing.nonFloat.length;
  let done = 0;
  for (const p of pairing.paired) {
    throwIfAborted(signal);
    const values: Float32Array[] = [];
    for (const s of sources) values.push(await s.read(p.name, signal));
    const stat: TensorMergeStats = { name: p.name };
    let data: Float32Array;
    if (method.kind === 'linear') {
      data = lerpTensor(values[0]!, values[1]!, method.alpha);
    } else if (method.kind === 'slerp') {
      const r = slerpTensor(values[0]!, values[1]!, method.alpha, method.threshold);
      data = r.data;
      stat.slerpFallback = r.fallback;
    } else {
      const lambda = lambdaForTensor(p.name, method.blockLambdas, method.lambda);
      stat.lambda = lambda;
      const [b, ...tasks] = values as [Float32Array, ...Float32Array[]];
      if (method.kind === 'ta') {
        data = taskArithmeticTensor(b, tasks, lambda);
      } else if (method.kind === 'ties') {
        const r = tiesTensor(b, tasks, { keep: method.keep, lambda });
        data = r.data;
        stat.signConflicts = r.signConflicts;
        stat.overlapping = r.overlapping;
        stat.signConflictRate = r.signConflictRate;
      } else if (method.kind === 'dare') {
        const r = dareTensor(b, tasks, { dropRate: method.dropRate, seed: tensorSeed(method.seed, p.name), lambda });
        data = r.data;
        stat.dropped = r.dropped;
      } else {
        const r = tsvTensor(b, tasks, p.shape, { lambda, seed: method.seed, name: p.name });
        data = r.data;
        stat.tsvMode = r.mode;
      }
    }
    tensors.push({ name: p.name, shape: [...p.shape], dtype: 'F32', data });
    stats.push(stat);
    options.onProgress?.(++done, total, p.name);
  }
  for (const t of pairing.nonFloat) {
    throwIfAborted(signal);
    tensors.push({ name: t.name, shape: [...t.shape], dtype: t.dtypes[0]!, data: await reference.read(t.name, signal), copied: true });
    options.onProgress?.(++done, total, t.name);
  }
  return { method, reference: reference.name, tensors, stats, pairing };
}
