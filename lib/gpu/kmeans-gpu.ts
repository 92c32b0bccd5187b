import { CancelledError, UnsupportedError } from '../base/errors';
import { Rng } from '../base/rng';
import { centresFromSums, kmeansPlusPlus, type KmeansOptions, type KmeansResult } from '../math/kmeans';
import { checkCodebookShapes } from '../math/nearest-codeword';
import { createNearestCodewordSearch, NEAREST_GPU_MAX_D } from './nearest-codeword-gpu';

/**
 * k-means with the assignment step on the GPU: the async twin of lib/math/kmeans.ts `kmeans`.
 * Seeding (k-means++), centre updates (float64 sums), the empty-cluster rule, the explicit
 * float64 objective and the stopping rule are the CPU's, so results equal the CPU kmeans' except
 * where a point is within f32 rounding of two codewords. The data is uploaded once and stays on
 * the GPU; each iteration uploads only the k × d codebook and reads back n indices.
 */

export type KmeansAsync = (x: Float32Array, n: number, d: number, k: number, opts: KmeansOptions) => Promise<KmeansResult>;

export function kmeansGpu(device: GPUDevice): KmeansAsync {
  return async (x, n, d, k, opts) => {
    const maxIter = opts.maxIter ?? 20;
    const tol = opts.tol ?? 1e-6;
    if (!Number.isInteger(maxIter) || maxIter < 0) throw new UnsupportedError('bad-max-iter', `kmeans: maxIter must be a non-negative integer, got ${maxIter}`);
    if (!(tol >= 0)) throw new UnsupportedError('bad-tol', `kmeans: tol must be ≥ 0, got ${tol}`);
    if (Number.isInteger(d) && d > NEAREST_GPU_MAX_D) throw new UnsupportedError('bad-d', `kmeans: the GPU assignment takes sub-vectors of d ≤ ${NEAREST_GPU_MAX_D}, got ${d}`);
    // opts.kernel picks the CPU kernel of the seeding, as in kmeans().
    const codebook = kmeansPlusPlus(x, n, d, k, new Rng(opts.seed), opts.signal, opts.kernel);
    return lloydGpu(device, x, n, d, k, codebook, maxIter, tol, opts.signal, opts.onIteration);
  };
}

/** Lloyd iterations from a given codebook (copied), as lib/math/kmeans.ts `lloyd`, assigning on the GPU. */
export async function lloydGpu(
  device: GPUDevice,
  x: Float32Array,
  n: number,
  d: number,
  k: number,
  initial: Float32Array,
  maxIter: number,
  tol: number,
  signal?: AbortSignal,
  onIteration?: (it: number, objective: number) => void,
): Promise<KmeansResult> {
  checkCodebookShapes('kmeans', x, n, d, initial, k);
  if (k > n) throw new UnsupportedError('k-exceeds-n', `kmeans: k = ${k} codewords but only n = ${n} sub-vectors; k must be ≤ n`);
  const codebook = initial.slice(0, k * d);
  const assign = new Uint32Array(n);
  const gpuDist = new Float32Array(n);
  const dist = new Float64Array(n);
  const sums = new Float64Array(k * d);
  const counts = new Uint32Array(k);
  const search = await createNearestCodewordSearch(device, x, n, d, k, 1, { resident: true, label: 'kmeans' });
  try {
    // One pass after each assignment: the explicit objective Σ(x − c)² in float64 (as on the CPU; its
    // per-point terms feed the empty-cluster rule) and the float64 sums and counts of the next
    // update, added in the same point order as lloyd() so the means come out bit for bit alike.
    const assignStep = async (): Promise<number> => {
      await search.search(codebook, signal, { indices: assign, distances: gpuDist });
      sums.fill(0);
      counts.fill(0);
      let obj = 0;
      for (let i = 0; i < n; i++) {
        const j = assign[i]!;
        const co = j * d;
        counts[j]!++;
        let e = 0;
        for (let t = 0; t < d; t++) {
          const xv = x[i * d + t]!;
          const v = xv - codebook[co + t]!;
          e += v * v;
          sums[co + t] = sums[co + t]! + xv;
        }
        dist[i] = e;
        obj += e;
      }
      return obj;
    };

    let objective = await assignStep();
    const objectiveHistory = [objective];
    onIteration?.(0, objective);
    let iterations = 0;
    while (iterations < maxIter) {
      if (signal?.aborted) throw new CancelledError();
      centresFromSums(x, n, d, k, dist, codebook, sums, counts);
      iterations++;
      const prev = objective;
      objective = await assignStep();
      objectiveHistory.push(objective);
      onIteration?.(iterations, objective);
      if (prev - objective <= tol * prev) break;
    }
    return { codebook, assign, objective, iterations, objectiveHistory };
  } finally {
    search.destroy();
  }
}

