import { CancelledError, UnsupportedError } from '../base/errors';
import { Rng } from '../base/rng';
import { checkCodebookShapes, nearestCodewordsInto } from './nearest-codeword';
import { useKmeansWasm, wasmKmeansPlusPlus, wasmLloyd } from './wasm/kmeans-kernels';
import type { CpuKernel } from './wasm/spectra-kernels';

/**
 * k-means over n sub-vectors of length d (rows of x): k-means++ seeding from a seeded Rng, then
 * Lloyd iterations (update centres to means, reassign) until the objective stops improving by
 * more than `tol` (relative) or `maxIter` updates have run.
 *
 * Empty clusters: after an assignment, every codeword that received no point is moved onto the
 * point that is currently farthest from its own centre (largest squared distance, lowest point
 * index on ties), taken in ascending codeword order; each chosen point's distance is zeroed so
 * two empty codewords never take the same point. The point keeps its old assignment until the
 * next assignment step, so the objective cannot rise: the moved codeword had no points.
 *
 * Kernels: the WebAssembly SIMD kernels (lib/math/wasm/kmeans-kernels.ts) run k-means++ and Lloyd
 * by default where the engine has WASM SIMD; the TypeScript code below is the reference
 * (kernel: 'ts'). Both give the same seeding, assignments and objectives, except where two
 * codewords are tied to within float64 rounding (see kmeans-kernels.as.ts).
 */

/** Largest codebook the UI offers (k = 2…65536). */
export const MAX_KMEANS_K = 65_536;

export interface KmeansOptions {
  seed: number;
  /** Lloyd updates at most (default 20). */
  maxIter?: number;
  /** Stop when (previous − current) ≤ tol · previous (default 1e-6); 0 stops only on no improvement. */
  tol?: number;
  signal?: AbortSignal;
  /** Called after every assignment step: it = 0 is the k-means++ seeding. */
  onIteration?: (it: number, objective: number) => void;
  /** CPU kernel: 'auto' (default: WASM SIMD where available, else TS), 'wasm' or 'ts' (the reference). */
  kernel?: CpuKernel;
}

export interface KmeansResult {
  /** k × d, row-major. */
  codebook: Float32Array;
  /** Codeword of each sub-vector, consistent with `codebook`. */
  assign: Uint32Array;
  /** Σ ‖x_i − c_assign(i)‖², accumulated in float64. */
  objective: number;
  /** Lloyd updates run. */
  iterations: number;
  /** Objective after the seeding and after each update (length iterations + 1). */
  objectiveHistory: number[];
}

export function kmeans(x: Float32Array, n: number, d: number, k: number, opts: KmeansOptions): KmeansResult {
  checkKmeansArgs(x, n, d, k);
  const maxIter = opts.maxIter ?? 20;
  const tol = opts.tol ?? 1e-6;
  if (!Number.isInteger(maxIter) || maxIter < 0) throw new UnsupportedError('bad-max-iter', `kmeans: maxIter must be a non-negative integer, got ${maxIter}`);
  if (!(tol >= 0)) throw new UnsupportedError('bad-tol', `kmeans: tol must be ≥ 0, got ${tol}`);
  const codebook = kmeansPlusPlus(x, n, d, k, new Rng(opts.seed), opts.signal, opts.kernel);
  return lloyd(x, n, d, k, codebook, maxIter, tol, opts.signal, opts.onIteration, opts.kernel);
}

function checkKmeansArgs(x: Float32Array, n: number, d: number, k: number): void {
  if (!Number.isInteger(k) || k < 1 || k > MAX_KMEANS_K) throw new UnsupportedError('bad-k', `kmeans: k must be an integer in 1..${MAX_KMEANS_K}, got ${k}`);
  if (k > n) throw new UnsupportedError('k-exceeds-n', `kmeans: k = ${k} codewords but only n = ${n} sub-vectors; k must be ≤ n`);
  // The data doubles as the codebook argument here: only x's own shape is being checked.
  checkCodebookShapes('kmeans', x, n, d, x, 1);
}

/**
 * k-means++ (Arthur & Vassilvitskii 2007): the first centre uniform, each next one drawn with
 * probability ∝ squared distance to the nearest centre chosen so far. When every remaining point
 * sits on a centre (all distances 0) the draw falls back to a uniform point.
 */
export function kmeansPlusPlus(x: Float32Array, n: number, d: number, k: number, rng: Rng, signal?: AbortSignal, kernel?: CpuKernel): Float32Array {
  checkKmeansArgs(x, n, d, k);
  if (useKmeansWasm(kernel)) {
    const c = wasmKmeansPlusPlus(x, n, d, k, rng, signal);
    if (c) return c; // null: WASM memory could not be had (nothing drawn from rng yet)
  }
  const codebook = new Float32Array(k * d);
  const dist = new Float64Array(n).fill(Infinity);
  let c = rng.int(n);
  for (let j = 0; j < k; j++) {
    if (signal?.aborted) throw new CancelledError();
    for (let t = 0; t < d; t++) codebook[j * d + t] = x[c * d + t]!;
    if (j === k - 1) break;
    let total = 0;
    const co = j * d;
    for (let i = 0; i < n; i++) {
      let e = 0;
      for (let t = 0; t < d; t++) {
        const v = x[i * d + t]! - codebook[co + t]!;
        e += v * v;
      }
      if (e < dist[i]!) dist[i] = e;
      total += dist[i]!;
    }
    if (total > 0) {
      const r = rng.next() * total;
      let acc = 0;
      c = -1;
      let last = 0;
      for (let i = 0; i < n; i++) {
        const w = dist[i]!;
        if (w <= 0) continue;
        last = i;
        acc += w;
        if (acc > r) {
          c = i;
          break;
        }
      }
      if (c < 0) c = last; // r within rounding of total
    } else {
      c = rng.int(n);
    }
  }
  return codebook;
}

/**
 * Lloyd iterations from a given codebook (copied, not modified). Exported so callers (and the
 * tests) can run from a known start.
 */
export function lloyd(
  x: Float32Array,
  n: number,
  d: number,
  k: number,
  initial: Float32Array,
  maxIter: number,
  tol: number,
  signal?: AbortSignal,
  onIteration?: (it: number, objective: number) => void,
  kernel?: CpuKernel,
): KmeansResult {
  checkKmeansArgs(x, n, d, k);
  if (useKmeansWasm(kernel)) {
    const r = wasmLloyd(x, n, d, k, initial, maxIter, tol, signal, onIteration);
    if (r) return r; // null: WASM memory could not be had
  }
  const codebook = initial.slice(0, k * d);
  const assign = new Uint32Array(n);
  const dist = new Float64Array(n);
  const sums = new Float64Array(k * d);
  const counts = new Uint32Array(k);

  const assignStep = (): number => {
    nearestCodewordsInto(x, n, d, codebook, k, 1, assign, dist, signal);
    // The objective is the explicit Σ(x − c)², not the matmul form's cancellation-prone value.
    let obj = 0;
    for (let i = 0; i < n; i++) {
      const co = assign[i]! * d;
      let e = 0;
      for (let t = 0; t < d; t++) {
        const v = x[i * d + t]! - codebook[co + t]!;
        e += v * v;
      }
      dist[i] = e;
      obj += e;
    }
    return obj;
  };

  let objective = assignStep();
  const objectiveHistory = [objective];
  onIteration?.(0, objective);
  let iterations = 0;
  while (iterations < maxIter) {
    if (signal?.aborted) throw new CancelledError();
    updateCentres(x, n, d, k, assign, dist, codebook, sums, counts);
    iterations++;
    const prev = objective;
    objective = assignStep();
    objectiveHistory.push(objective);
    onIteration?.(iterations, objective);
    if (prev - objective <= tol * prev) break;
  }
  return { codebook, assign, objective, iterations, objectiveHistory };
}

function updateCentres(
  x: Float32Array, n: number, d: number, k: number, assign: Uint32Array, dist: Float64Array,
  codebook: Float32Array, sums: Float64Array, counts: Uint32Array,
): void {
  sums.fill(0);
  counts.fill(0);
  for (let i = 0; i < n; i++) {
    const j = assign[i]!;
    counts[j]!++;
    const so = j * d;
    for (let t = 0; t < d; t++) sums[so + t] = sums[so + t]! + x[i * d + t]!;
  }
  centresFromSums(x, n, d, k, dist, codebook, sums, counts);
}

/**
 * The Lloyd update from per-codeword float64 sums and counts: each codeword becomes its mean; an
 * empty one moves onto the point farthest from its own centre (lowest index on ties), that
 * point's distance zeroed so no two empty codewords take it (the rule at the top of the file).
 * Shared by the GPU k-means, which accumulates the sums as it reads assignments back.
 */
export function centresFromSums(
  x: Float32Array, n: number, d: number, k: number, dist: Float64Array,
  codebook: Float32Array, sums: Float64Array, counts: Uint32Array,
): void {
  for (let j = 0; j < k; j++) {
    const cnt = counts[j]!;
    if (cnt > 0) {
      for (let t = 0; t < d; t++) codebook[j * d + t] = sums[j * d + t]! / cnt;
      continue;
    }
    let far = 0;
    for (let i = 1; i < n; i++) if (dist[i]! > dist[far]!) far = i;
    for (let t = 0; t < d; t++) codebook[j * d + t] = x[far * d + t]!;
    dist[far] = 0;
  }
}
