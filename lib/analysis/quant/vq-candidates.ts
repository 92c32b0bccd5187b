import { UnsupportedError } from '../../base/errors';
import { checkCodebookShapes, nearestCodewordsInto } from '../../math/nearest-codeword';

/**
 * VQ4DiT candidate sets: for every sub-vector its nCand nearest codewords, soft weights over them
 * (initialised from inverse Euclidean distances, normalised to sum 1, as VQ4DiT initialises
 * its softmax logits), and how ambiguous the hard assignment is.
 *
 * Ambiguity uses Euclidean (not squared) distances d₁ ≤ d₂ to the two nearest codewords:
 * ratio = d₁/d₂ ∈ [0, 1] (1 = equidistant, a calibration may flip it freely; 0 = on a codeword)
 * and margin = d₂ − d₁ ≥ 0. Both are computed even when nCand = 1. With k = 1 there is no
 * second codeword: ratio 0 and margin Infinity (nothing to flip to).
 */

export const MAX_VQ_CANDIDATES = 4;

export interface VqCandidates {
  nCand: number;
  /** n × nCand codeword indices, nearest first (ties: lowest index). */
  indices: Uint32Array;
  /** n × nCand Euclidean distances, ascending within each row. */
  distances: Float32Array;
  /** n × nCand soft weights, each row summing to 1. */
  weights: Float32Array;
  /** d₁/d₂ per sub-vector. */
  ratio: Float32Array;
  /** d₂ − d₁ per sub-vector. */
  margin: Float32Array;
}

export function vqCandidates(x: Float32Array, n: number, d: number, codebook: Float32Array, k: number, nCand: number): VqCandidates {
  checkCodebookShapes('vqCandidates', x, n, d, codebook, k);
  if (!Number.isInteger(nCand) || nCand < 1 || nCand > MAX_VQ_CANDIDATES || nCand > k) {
    throw new UnsupportedError('bad-n-candidates', `vqCandidates: candidates per sub-vector must be an integer in 1..${Math.min(MAX_VQ_CANDIDATES, k)} (k = ${k}), got ${nCand}`);
  }
  // Search at least two so the ambiguity of a single-candidate set is still known.
  const m = Math.min(k, Math.max(2, nCand));
  const idx = new Uint32Array(n * m);
  const sq = new Float64Array(n * m);
  nearestCodewordsInto(x, n, d, codebook, k, m, idx, sq);

  const indices = new Uint32Array(n * nCand);
  const distances = new Float32Array(n * nCand);
  const weights = new Float32Array(n * nCand);
  const ratio = new Float32Array(n);
  const margin = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * m;
    const c = i * nCand;
    let zeros = 0;
    let inv = 0;
    for (let q = 0; q < nCand; q++) {
      const e = Math.sqrt(sq[o + q]!);
      indices[c + q] = idx[o + q]!;
      distances[c + q] = e;
      if (e === 0) zeros++;
      else inv += 1 / e;
    }
    // 1/e diverges on a codeword: the limit puts all weight, split evenly, on the zero distances.
    for (let q = 0; q < nCand; q++) {
      const e = Math.sqrt(sq[o + q]!);
      weights[c + q] = zeros > 0 ? (e === 0 ? 1 / zeros : 0) : 1 / e / inv;
    }
    const d1 = Math.sqrt(sq[o]!);
    if (m < 2) {
      ratio[i] = 0;
      margin[i] = Infinity;
    } else {
      const d2 = Math.sqrt(sq[o + 1]!);
      ratio[i] = d2 > 0 ? d1 / d2 : 1;
      margin[i] = d2 - d1;
    }
  }
  return { nCand, indices, distances, weights, ratio, margin };
}
