import { CancelledError, UnsupportedError } from '../../base/errors';
import { kmeans, type KmeansOptions, type KmeansResult } from '../../math/kmeans';
import { Rng } from '../../base/rng';
import { codewordUsage, quantError, subErrors, type CodewordUsage, type QuantError } from './quant-metrics';
import { quantizeRtn, type RtnResult } from './rtn';
import { vqCandidates } from './vq-candidates';
import { pvqQuantize, type PvqResult } from './pvq';
import type { QuantMatrix } from './quant-matrix';

/**
 * One entry point for every quantizer WeightLens compares, so the view, the CLI, the sweep and
 * the export treat them alike:
 * - `rtn`: scalar round-to-nearest (rtn.ts), the baseline;
 * - `vq`: k-means vector quantization of sub-vectors of d consecutive input weights, one codebook
 *   per layer or one per group of rows;
 * - `rvq`: residual (two-stage additive) VQ: a second k-means codebook on the first stage's residuals;
 * - `pvq`: codebook-free pyramid VQ (pvq.ts): each sub-vector's gain and its direction on the
 *   integer lattice of L1 norm K.
 * Everything runs on the QuantMatrix (rows = output channels, see quant-matrix.ts).
 */

export type QuantMethod = 'rtn' | 'vq' | 'rvq' | 'pvq';
export const QUANT_METHODS: readonly QuantMethod[] = ['rtn', 'vq', 'rvq', 'pvq'];

export interface QuantSettings {
  method: QuantMethod;
  /** RTN: bits per code (2–8), symmetric or asymmetric, group size along the row or 'channel'. */
  bits: number;
  symmetric: boolean;
  group: number | 'channel';
  /** VQ/RVQ/PVQ: sub-vector length (1–8; must divide the row length). */
  d: number;
  /** VQ/RVQ: codewords (first stage for RVQ). */
  k: number;
  /** RVQ: codewords of the second (residual) stage. */
  k2: number;
  /** Lloyd iterations at most, and the relative-improvement tolerance that stops them earlier. */
  iters: number;
  tol: number;
  seed: number;
  /** Rows sharing one codebook; 0 = one codebook for the whole layer. */
  rowGroup: number;
  /** Bits per stored codebook entry. */
  codebookBits: 16 | 32;
  /** VQ4DiT candidates per sub-vector (1–4). */
  candidates: number;
  /** Fit the codebook on at most this many sub-vectors drawn at random (seeded), then assign all; 0 = fit on all. */
  sample: number;
  /** PVQ: pulses K (L1 norm of the integer direction vector). */
  pulses: number;
  /** PVQ: bits of the per-sub-vector gain (log-uniform scalar quantizer). */
  gainBits: number;
}

export const DEFAULT_QUANT_SETTINGS: QuantSettings = {
  method: 'vq',
  bits: 4,
  symmetric: false,
  group: 128,
  d: 4,
  k: 256,
  k2: 256,
  iters: 20,
  tol: 1e-6,
  seed: 0,
  rowGroup: 0,
  codebookBits: 16,
  candidates: 2,
  sample: 0,
  pulses: 4,
  gainBits: 8,
};

/** Bits per weight, split the way the view shows them. */
export interface QuantBits {
  index: number;
  codebook: number;
  scale: number;
  zero: number;
  total: number;
}

export interface VqStage {
  k: number;
  /** books × k × d, row-major; book b serves rows [b·rowsPerBook, (b+1)·rowsPerBook). */
  codebooks: Float32Array;
  books: number;
  rowsPerBook: number;
  /** Codeword of each sub-vector within its row's book (rows × cols/d, row-major). */
  assign: Uint32Array;
  usage: CodewordUsage;
  /** k-means objective after seeding and after each Lloyd update, summed over books. */
  objectiveHistory: number[];
  iterations: number;
}

export interface VqAmbiguity {
  nCand: number;
  /** d₁/d₂ (Euclidean) per sub-vector: 1 = equidistant from its two nearest codewords. */
  ratio: Float32Array;
  /** d₂ − d₁ per sub-vector. */
  margin: Float32Array;
  /** n × nCand candidate codewords per sub-vector, nearest first. */
  candidates: Uint32Array;
  /** n × nCand soft weights (inverse distances, each row summing to 1). */
  weights: Float32Array;
  /** Sub-vectors with ratio ≥ FLIP_RATIO: a calibration is free to flip them (the flip moves the weight by ≤ 11% more than the nearest codeword does). */
  flippable: number;
}

export interface LayerQuantResult {
  method: QuantMethod;
  rows: number;
  cols: number;
  /** Weights per error cell: d for the vector methods, 1 for RTN. */
  subLen: number;
  dequantized: Float32Array;
  error: QuantError;
  bits: QuantBits;
  /** Squared reconstruction error per sub-vector (rows × cols/subLen). */
  subError: Float32Array;
  rtn?: RtnResult;
  vq?: VqStage;
  /** RVQ's second stage (on the residuals of `vq`). */
  residual?: VqStage;
  ambiguity?: VqAmbiguity;
  pvq?: PvqResult;
  ms: number;
}

export type KmeansFn = (x: Float32Array, n: number, d: number, k: number, opts: KmeansOptions) => KmeansResult | Promise<KmeansResult>;

export interface QuantizeOptions {
  signal?: AbortSignal;
  /** Fraction done in [0, 1]. */
  onProgress?: (fraction: number) => void;
  /** The k-means to use (the WebGPU one in a worker with a device); default the CPU kmeans. */
  kmeansImpl?: KmeansFn;
}

export const MAX_QUANT_D = 8;

/** d₁/d₂ at or above which a hard assignment counts as free to flip (VQ4DiT's ambiguous set). */
export const FLIP_RATIO = 0.9;

export function checkQuantSettings(m: QuantMatrix, s: QuantSettings, what = 'quantize'): void {
  const bad = (code: string, msg: string): never => {
    throw new UnsupportedError(code, `${what}: ${msg}`);
  };
  if (!QUANT_METHODS.includes(s.method)) bad('quant-method', `method "${String(s.method)}" is not one of ${QUANT_METHODS.join(', ')}`);
  if (s.method === 'rtn') return;
  if (!Number.isInteger(s.d) || s.d < 1 || s.d > MAX_QUANT_D) bad('quant-d', `sub-vector length d = ${s.d} must be an integer in 1..${MAX_QUANT_D}`);
  if (m.cols % s.d !== 0) bad('quant-d-divides', `d = ${s.d} does not divide the ${m.cols} input weights per row`);
  if (s.method === 'pvq') return;
  const rowsPerBook = s.rowGroup > 0 ? Math.min(s.rowGroup, m.rows) : m.rows;
  if (!Number.isInteger(s.rowGroup) || s.rowGroup < 0) bad('quant-row-group', `rows per codebook ${s.rowGroup} must be 0 (one per layer) or a positive integer`);
  const perBook = (Math.min(rowsPerBook, m.rows) * m.cols) / s.d;
  const fitN = s.sample > 0 ? Math.min(s.sample, perBook) : perBook;
  for (const [name, k] of [['k', s.k], ...(s.method === 'rvq' ? [['k2', s.k2] as const] : [])] as const) {
    if (!Number.isInteger(k) || k < 2 || k > 65536) bad('quant-k', `${name} = ${k} must be an integer in 2..65536`);
    if (k > fitN) bad('quant-k-exceeds-n', `${name} = ${k} codewords but a codebook is fitted on only ${fitN} sub-vectors`);
  }
  if (!Number.isInteger(s.candidates) || s.candidates < 1 || s.candidates > 4 || s.candidates > s.k) bad('quant-candidates', `candidates per sub-vector ${s.candidates} must be in 1..${Math.min(4, s.k)}`);
}

export async function quantizeLayer(m: QuantMatrix, s: QuantSettings, opts: QuantizeOptions = {}): Promise<LayerQuantResult> {
  const t0 = Date.now();
  checkQuantSettings(m, s);
  const { rows, cols, data } = m;
  let res: Omit<LayerQuantResult, 'error' | 'subError' | 'ms'>;
  if (s.method === 'rtn') {
    const rtn = quantizeRtn(data, rows, cols, { bits: s.bits, symmetric: s.symmetric, group: s.group });
    res = {
      method: 'rtn', rows, cols, subLen: 1, dequantized: rtn.dequantized, rtn,
      bits: { index: rtn.bitsPerWeight.index, codebook: 0, scale: rtn.bitsPerWeight.scale, zero: rtn.bitsPerWeight.zero, total: rtn.bitsPerWeight.total },
    };
    opts.onProgress?.(1);
  } else if (s.method === 'pvq') {
    const pvq = pvqQuantize(data, (rows * cols) / s.d, s.d, s.pulses, s.gainBits, opts.signal);
    res = {
      method: 'pvq', rows, cols, subLen: s.d, dequantized: pvq.dequantized, pvq,
      bits: { index: pvq.indexBitsPerWeight, codebook: 0, scale: pvq.gainBitsPerWeight, zero: 0, total: pvq.indexBitsPerWeight + pvq.gainBitsPerWeight },
    };
    opts.onProgress?.(1);
  } else {
    const stages = s.method === 'rvq' ? 2 : 1;
    const first = await vqStage(data, rows, cols, s, s.k, opts, 0, stages);
    let deq = reconstruct(first, rows, cols, s.d);
    let residual: VqStage | undefined;
    if (s.method === 'rvq') {
      const r = new Float32Array(data.length);
      for (let i = 0; i < r.length; i++) r[i] = data[i]! - deq[i]!;
      residual = await vqStage(r, rows, cols, { ...s, seed: s.seed + 1 }, s.k2, opts, 1, stages);
      const deq2 = reconstruct(residual, rows, cols, s.d);
      for (let i = 0; i < deq.length; i++) deq[i] = deq[i]! + deq2[i]!;
    }
    const weights = rows * cols;
    const cbBits = (st: VqStage): number => (st.k * s.d * s.codebookBits * st.books) / weights;
    const index = (Math.log2(s.k) + (residual ? Math.log2(s.k2) : 0)) / s.d;
    const codebook = cbBits(first) + (residual ? cbBits(residual) : 0);
    const ambiguity = ambiguityOf(data, rows, cols, s, first);
    deq = Float32Array.from(deq);
    res = {
      method: s.method, rows, cols, subLen: s.d, dequantized: deq, vq: first, ambiguity,
      bits: { index, codebook, scale: 0, zero: 0, total: index + codebook },
      ...(residual ? { residual } : {}),
    };
  }
  const subError = subErrors(data, res.dequantized, res.subLen);
  return { ...res, error: quantError(data, res.dequantized), subError, ms: Date.now() - t0 };
}

async function vqStage(
  data: Float32Array, rows: number, cols: number, s: QuantSettings, k: number, opts: QuantizeOptions, stage: number, stages: number,
): Promise<VqStage> {
  const d = s.d;
  const rowsPerBook = s.rowGroup > 0 ? Math.min(s.rowGroup, rows) : rows;
  const books = Math.ceil(rows / rowsPerBook);
  const perRow = cols / d;
  const codebooks = new Float32Array(books * k * d);
  const assign = new Uint32Array(rows * perRow);
  const impl = opts.kmeansImpl ?? kmeans;
  let history: number[] = [];
  let iterations = 0;
  for (let b = 0; b < books; b++) {
    if (opts.signal?.aborted) throw new CancelledError();
    const r0 = b * rowsPerBook;
    const r1 = Math.min(rows, r0 + rowsPerBook);
    const n = (r1 - r0) * perRow;
    const x = data.subarray(r0 * cols, r1 * cols);
    const kk = Math.min(k, n);
    const fitN = s.sample > 0 && s.sample < n ? s.sample : n;
    const fitX = fitN < n ? sampleRows(x, n, d, fitN, s.seed + b) : x;
    const done = (stage + b / books) / stages;
    const km = await impl(fitX, fitN, d, kk, {
      seed: s.seed + b, maxIter: s.iters, tol: s.tol, ...(opts.signal ? { signal: opts.signal } : {}),
      onIteration: (it) => opts.onProgress?.(done + ((it + 1) / (s.iters + 1)) / books / stages),
    });
    codebooks.set(km.codebook, b * k * d);
    if (fitN < n) {
      // Fitted on a sample: every sub-vector still gets its nearest codeword.
      const { nearestCodewords } = await import('../../math/nearest-codeword');
      assign.set(nearestCodewords(x, n, d, km.codebook, kk, 1).indices, r0 * perRow);
    } else {
      assign.set(km.assign, r0 * perRow);
    }
    history = mergeHistory(history, km.objectiveHistory);
    iterations = Math.max(iterations, km.iterations);
  }
  opts.onProgress?.((stage + 1) / stages);
  return { k, codebooks, books, rowsPerBook, assign, usage: codewordUsage(assign, k), objectiveHistory: history, iterations };
}

/** Sums per-iteration objectives over books; a book that stopped early keeps its last value. */
function mergeHistory(a: number[], b: number[]): number[] {
  const len = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < len; i++) out.push((a[Math.min(i, a.length - 1)] ?? 0) + (b[Math.min(i, b.length - 1)] ?? 0));
  return out;
}

/** fitN distinct sub-vectors drawn uniformly (partial Fisher–Yates on indices, seeded). */
function sampleRows(x: Float32Array, n: number, d: number, fitN: number, seed: number): Float32Array {
  const rng = new Rng(seed ^ 0x5a17);
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  const out = new Float32Array(fitN * d);
  for (let i = 0; i < fitN; i++) {
    const j = i + rng.int(n - i);
    const t = idx[i]!;
    idx[i] = idx[j]!;
    idx[j] = t;
    out.set(x.subarray(idx[i]! * d, idx[i]! * d + d), i * d);
  }
  return out;
}

function reconstruct(st: VqStage, rows: number, cols: number, d: number): Float32Array {
  const out = new Float32Array(rows * cols);
  const perRow = cols / d;
  for (let r = 0; r < rows; r++) {
    const book = Math.floor(r / st.rowsPerBook) * st.k * d;
    for (let q = 0; q < perRow; q++) {
      const c = book + st.assign[r * perRow + q]! * d;
      for (let t = 0; t < d; t++) out[r * cols + q * d + t] = st.codebooks[c + t]!;
    }
  }
  return out;
}

function ambiguityOf(data: Float32Array, rows: number, cols: number, s: QuantSettings, st: VqStage): VqAmbiguity {
  const d = s.d;
  const perRow = cols / d;
  const n = rows * perRow;
  // A short last book was fitted with only min(k, its sub-vectors) codewords (vqStage); the
  // unfitted rows of its codebook are zeros and must not become candidates.
  const fitted = (b: number): number => Math.min(st.k, (Math.min(rows, (b + 1) * st.rowsPerBook) - b * st.rowsPerBook) * perRow);
  const nCand = Math.min(s.candidates, fitted(st.books - 1));
  const ratio = new Float32Array(n);
  const margin = new Float32Array(n);
  const candidates = new Uint32Array(n * nCand);
  const weights = new Float32Array(n * nCand);
  for (let b = 0; b < st.books; b++) {
    const r0 = b * st.rowsPerBook;
    const r1 = Math.min(rows, r0 + st.rowsPerBook);
    const nb = (r1 - r0) * perRow;
    const kb = fitted(b);
    const cb = st.codebooks.subarray(b * st.k * d, (b * st.k + kb) * d);
    const c = vqCandidates(data.subarray(r0 * cols, r1 * cols), nb, d, cb, kb, nCand);
    ratio.set(c.ratio, r0 * perRow);
    margin.set(c.margin, r0 * perRow);
    candidates.set(c.indices, r0 * perRow * nCand);
    weights.set(c.weights, r0 * perRow * nCand);
  }
  let flippable = 0;
  for (let i = 0; i < n; i++) if (ratio[i]! >= FLIP_RATIO) flippable++;
  return { nCand, ratio, margin, candidates, weights, flippable };
}

