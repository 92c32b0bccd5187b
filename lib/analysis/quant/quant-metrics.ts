import { UnsupportedError } from '../../base/errors';

/**
 * Quantization metrics shared by RTN and VQ: reconstruction error, codeword usage and the
 * bits-per-weight budget (DESIGN.md, Quantization). Sums run in float64 because a layer has up
 * to ~10^8 weights and float32 accumulation would lose the small errors being measured.
 */

export interface QuantError {
  mse: number;
  /** ‖W − Ŵ‖_F / ‖W‖_F. */
  relFrobenius: number;
  /** −20·log10(relFrobenius); Infinity when the reconstruction is exact. */
  sqnrDb: number;
}

export function quantError(original: ArrayLike<number>, reconstructed: ArrayLike<number>): QuantError {
  if (original.length !== reconstructed.length) {
    throw new UnsupportedError(
      'quant-length',
      `quantError: original has ${original.length} values, reconstruction has ${reconstructed.length}`,
    );
  }
  const n = original.length;
  let err = 0;
  let sig = 0;
  for (let i = 0; i < n; i++) {
    const o = original[i]!;
    const d = o - reconstructed[i]!;
    err += d * d;
    sig += o * o;
  }
  const mse = n === 0 ? 0 : err / n;
  // An all-zero original: exact reconstruction is error 0, anything else is infinitely worse.
  const relFrobenius = err === 0 ? 0 : sig === 0 ? Infinity : Math.sqrt(err / sig);
  const sqnrDb = relFrobenius === 0 ? Infinity : -20 * Math.log10(relFrobenius);
  return { mse, relFrobenius, sqnrDb };
}

/** Squared error ‖a − b‖² of each run of `len` consecutive values (a sub-vector, or one weight when len = 1). */
export function subErrors(a: Float32Array, b: Float32Array, len: number): Float32Array {
  const n = a.length / len;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let e = 0;
    for (let t = 0; t < len; t++) {
      const v = a[i * len + t]! - b[i * len + t]!;
      e += v * v;
    }
    out[i] = e;
  }
  return out;
}

export interface CodewordUsage {
  counts: Uint32Array;
  /** Shannon entropy of the usage distribution, bits. */
  entropyBits: number;
  /** 2^entropy: the number of equally used codewords that would give the same entropy. */
  perplexity: number;
  /** Codewords no sub-vector is assigned to. */
  dead: number;
  /** counts sorted descending (for the usage histogram). */
  sortedCounts: Uint32Array;
}

export function codewordUsage(assign: Uint32Array, k: number): CodewordUsage {
  if (!Number.isInteger(k) || k < 1) {
    throw new UnsupportedError('quant-k', `codewordUsage: codebook size ${k} is not a positive integer`);
  }
  const counts = new Uint32Array(k);
  for (let i = 0; i < assign.length; i++) {
    const a = assign[i]!;
    if (a >= k) {
      throw new UnsupportedError('quant-assign', `codewordUsage: assignment ${i} is codeword ${a}, codebook has ${k}`);
    }
    counts[a]!++;
  }
  const n = assign.length;
  let entropy = 0;
  let dead = 0;
  for (let c = 0; c < k; c++) {
    const cnt = counts[c]!;
    if (cnt === 0) {
      dead++;
      continue;
    }
    const p = cnt / n;
    entropy -= p * Math.log2(p);
  }
  // −0 from a single used codeword (p = 1) reads oddly; report +0.
  const entropyBits = entropy === 0 ? 0 : entropy;
  const sortedCounts = counts.slice().sort().reverse();
  return { counts, entropyBits, perplexity: 2 ** entropyBits, dead, sortedCounts };
}

export interface VqBitsOptions {
  /** Codewords per codebook. */
  k: number;
  /** Sub-vector length. */
  d: number;
  /** Weights quantized with these codebooks (the denominator). */
  weights: number;
  /** Bits per stored codebook entry: 16 (fp16) or 32 (fp32). */
  codebookBits: 16 | 32;
  /** Number of codebooks (1 per layer, or one per group of rows). */
  codebooks: number;
}

export interface VqBitsPerWeight {
  index: number;
  codebook: number;
  total: number;
}

/** bpw = log2(k)/d + k·d·codebookBits·codebooks/weights (DESIGN.md). */
export function vqBitsPerWeight(o: VqBitsOptions): VqBitsPerWeight {
  const { k, d, weights, codebookBits, codebooks } = o;
  for (const [name, v] of [['k', k], ['d', d], ['weights', weights], ['codebooks', codebooks]] as const) {
    if (!Number.isInteger(v) || v < 1) {
      throw new UnsupportedError('quant-bpw', `vqBitsPerWeight: ${name} = ${v} is not a positive integer`);
    }
  }
  const index = Math.log2(k) / d;
  const codebook = (k * d * codebookBits * codebooks) / weights;
  return { index, codebook, total: index + codebook };
}
