import { throwIfAborted } from '../../base/errors';
import { eigvalsh } from '../../math/eigvalsh';
import { gramOfRows } from '../../math/gram';
import { fitPowerLaw, type XminMode } from '../../math/powerlaw-fit';
import { useWasmKernel, wasmWindows, type CpuKernel } from '../../math/wasm/spectra-kernels';
import type { Layer } from '../../model/layer';
import { convAxes } from '../../model/weight-layout';

/**
 * FARMS (fixed-aspect-ratio matrix subsampling), after the authors' published
 * `fixed_number_of_sampling_ops`: the weight as PyTorch holds it — [out, in] for linear layers,
 * [out, in·kh·kw] for conv kernels, scaled by √conv_norm — is cut into windows of nr rows ×
 * nc = ⌊nr·Q_ratio⌋ columns on a grid of at most `opsPerDim` positions per side
 * (step = max(1, ⌊(rows − nr)/(ops − 1)⌋), start = min(i·step, rows − nr)); the eigenvalues of all
 * windows are pooled and α is fitted with xmin_mid (xmin = the ⌊N/2⌋-th pooled eigenvalue).
 * Departure: when the matrix is smaller than a window, the window is clamped to the matrix
 * (the published code's negative Python slice start would drop rows instead).
 */

export interface FarmsOptions {
  /** Window rows (published default 100; LLM-pruning runs used 2000). */
  nr?: number;
  /** Window columns / rows (published default 2; LLM runs used 1). */
  qRatio?: number;
  /** Window positions per dimension (published default 10). */
  opsPerDim?: number;
  /** Fit on the pooled ESD (published default xmin_mid; LLM runs used xmin_peak). */
  fit?: XminMode;
  /** Conv kernels are multiplied by √convNorm (published default 0.5). */
  convNorm?: number;
  /** Drop eigenvalues ≤ evalsThresh before fitting (published default off; exact zeros are always dropped). */
  filterZeros?: boolean;
  evalsThresh?: number;
  /** CPU kernel for the windows: 'ts' forces the TypeScript reference (default: WASM SIMD when present). */
  kernel?: CpuKernel;
  signal?: AbortSignal;
}

export interface FarmsResult {
  alpha: number;
  D: number;
  xmin: number;
  /** Largest pooled eigenvalue, and α·log10 of it (TempBalance's alphahat). */
  spectral_norm: number;
  alpha_weighted: number;
  /** Window actually used (after clamping) and how many windows were pooled. */
  nr: number;
  nc: number;
  windows: number;
  /** Pooled eigenvalues, ascending. */
  evals: Float64Array;
}

/** The layer's weight as an [out, in·kh·kw] row-major matrix (PyTorch's `weight.view(out, -1)`). */
export function farmsMatrix(layer: Layer, data: Float32Array): { data: Float64Array; rows: number; cols: number } {
  const s = layer.slices;
  const ax = convAxes(layer.tensor.shape, s.layout);
  const { out, in: inC, kh, kw } = ax;
  const rows = out;
  const cols = inC * kh * kw;
  const m = new Float64Array(rows * cols);
  if (s.layout === 'unknown' || s.layout === 'oi' || s.layout === 'oihw' || s.layout === 'oik') {
    for (let i = 0; i < rows * cols; i++) m[i] = data[i]!;
    return { data: m, rows, cols };
  }
  if (s.layout === 'io') {
    // A plain transpose (GPT-2 Conv1D, Keras Dense): in 32 × 32 tiles, so reads and writes both
    // stay within a few cache lines instead of striding the whole matrix per element.
    const T = 32;
    for (let c0 = 0; c0 < cols; c0 += T) {
      const c1 = Math.min(cols, c0 + T);
      for (let o0 = 0; o0 < out; o0 += T) {
        const o1 = Math.min(out, o0 + T);
        for (let c = c0; c < c1; c++) {
          const src = c * out;
          for (let o = o0; o < o1; o++) m[o * cols + c] = data[src + o]!;
        }
      }
    }
    return { data: m, rows, cols };
  }
  for (let o = 0; o < out; o++) {
    for (let c = 0; c < inC; c++) {
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++) {
          let src: number;
          switch (s.layout) {
            case 'iohw':
              src = ((c * out + o) * kh + i) * kw + j;
              break;
            case 'hwio':
              src = ((i * kw + j) * inC + c) * out + o;
              break;
            default: // 'kio'
              src = (i * inC + c) * out + o;
          }
          m[o * cols + (c * kh + i) * kw + j] = data[src]!;
        }
      }
    }
  }
  return { data: m, rows, cols };
}

function windowStarts(size: number, win: number, ops: number): number[] {
  if (ops <= 1 || size === win) return [0];
  const step = Math.max(1, Math.floor((size - win) / (ops - 1)));
  const count = Math.min(ops, Math.max(1, Math.floor((size - win) / step) + 1));
  const starts: number[] = [];
  for (let i = 0; i < count; i++) starts.push(Math.min(i * step, size - win));
  return starts;
}

/**
 * FARMS's window grid on a rows × cols matrix: window size nr × ⌊nr·Q_ratio⌋ clamped to the
 * matrix, and the row and column starts. The one definition both the analysis and the charts use.
 */
export function farmsWindowGrid(
  rows: number,
  cols: number,
  options: Pick<FarmsOptions, 'nr' | 'qRatio' | 'opsPerDim'> = {},
): { nr: number; nc: number; rStarts: number[]; cStarts: number[] } {
  const nr = Math.min(rows, Math.max(1, Math.floor(options.nr ?? 100)));
  const nc = Math.min(cols, Math.max(1, Math.floor((options.nr ?? 100) * (options.qRatio ?? 2))));
  const ops = Math.max(1, Math.floor(options.opsPerDim ?? 10));
  return { nr, nc, rStarts: windowStarts(rows, nr, ops), cStarts: windowStarts(cols, nc, ops) };
}

/** Pooled eigenvalues of all FARMS windows of a rows × cols matrix (ascending). */
export function farmsEsd(
  data: ArrayLike<number>,
  rows: number,
  cols: number,
  options: FarmsOptions = {},
): { evals: Float64Array; nr: number; nc: number; windows: number } {
  return windowsEsd(data, rows, cols, false, options);
}

/**
 * farmsEsd over a matrix stored as given (`transposed` false) or stored as its transpose
 * (`transposed` true: `data` is cols × rows, e.g. an [in, out] weight). The WASM kernel gathers
 * each band straight from the transposed storage; the TS fallback transposes once.
 */
function windowsEsd(
  data: ArrayLike<number>,
  rows: number,
  cols: number,
  transposed: boolean,
  options: FarmsOptions,
): { evals: Float64Array; nr: number; nc: number; windows: number } {
  const { nr, nc, rStarts, cStarts } = farmsWindowGrid(rows, cols, options);
  const k = Math.min(nr, nc);
  const n = Math.max(nr, nc);
  const windows = rStarts.length * cStarts.length;
  const out = new Float64Array(windows * k);
  let at = 0;
  // The fused WASM kernel keeps the matrix in its memory and runs each window with no copies.
  const wasm = useWasmKernel(options) ? wasmWindows(data, rows, cols, nr, nc, transposed) : null;
  if (wasm) {
    try {
      for (const r0 of rStarts) {
        // Windows two at a time: their QL runs interleave (same results as one at a time).
        for (let j = 0; j < cStarts.length; j += 2) {
          throwIfAborted(options.signal);
          const evs = j + 1 < cStarts.length ? wasm.eigenvaluesPair(r0, cStarts[j]!, cStarts[j + 1]!) : [wasm.eigenvalues(r0, cStarts[j]!)];
          for (const ev of evs) for (let i = 0; i < k; i++) out[at++] = Math.max(0, ev[i]!);
        }
      }
    } finally {
      wasm.release();
    }
    return { evals: out.sort(), nr, nc, windows };
  }
  const m = transposed ? transposeToF64(data, cols, rows) : data;
  const a = new Float64Array(k * n);
  for (const r0 of rStarts) {
    for (const c0 of cStarts) {
      throwIfAborted(options.signal);
      // Smaller side of the window as contiguous rows for the Gram kernel.
      if (nr <= nc) {
        for (let i = 0; i < nr; i++) {
          const src = (r0 + i) * cols + c0;
          for (let j = 0; j < nc; j++) a[i * nc + j] = m[src + j]!;
        }
      } else {
        for (let i = 0; i < nr; i++) {
          const src = (r0 + i) * cols + c0;
          for (let j = 0; j < nc; j++) a[j * nr + i] = m[src + j]!;
        }
      }
      const ev = eigvalsh(gramOfRows(a, k, n, options), k, options);
      for (let i = 0; i < k; i++) out[at++] = Math.max(0, ev[i]!);
    }
  }
  return { evals: out.sort(), nr, nc, windows };
}

/** Row-major transpose of a rows × cols matrix, in 32 × 32 tiles so reads and writes stay local. */
function transposeToF64(data: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const t = new Float64Array(rows * cols);
  const T = 32;
  for (let r0 = 0; r0 < rows; r0 += T) {
    const r1 = Math.min(rows, r0 + T);
    for (let c0 = 0; c0 < cols; c0 += T) {
      const c1 = Math.min(cols, c0 + T);
      for (let r = r0; r < r1; r++) {
        const src = r * cols;
        for (let c = c0; c < c1; c++) t[c * rows + r] = data[src + c]!;
      }
    }
  }
  return t;
}

/**
 * The [out, in·kh·kw] matrix FARMS windows, without a copy when the stored tensor already is that
 * matrix (PyTorch/ONNX layouts) or its transpose ([in, out]: GPT-2 Conv1D, Paddle, Keras Dense).
 */
function farmsView(layer: Layer, data: Float32Array): { data: ArrayLike<number>; rows: number; cols: number; transposed: boolean } {
  const layout = layer.slices.layout;
  if (layout === 'unknown' || layout === 'oi' || layout === 'oihw' || layout === 'oik' || layout === 'io') {
    const { out, in: inC, kh, kw } = convAxes(layer.tensor.shape, layout);
    return { data, rows: out, cols: inC * kh * kw, transposed: layout === 'io' };
  }
  const m = farmsMatrix(layer, data);
  return { ...m, transposed: false };
}

/** FARMS α of one layer with the published defaults (every one adjustable). */
export function farmsAnalyze(layer: Layer, data: Float32Array, options: FarmsOptions = {}): FarmsResult | null {
  const m = farmsView(layer, data);
  const { evals, nr, nc, windows } = windowsEsd(m.data, m.rows, m.cols, m.transposed, options);
  // Conv kernels are scaled by √convNorm before the SVD: every eigenvalue by convNorm.
  const isConv = layer.kind === 'conv2d' || layer.kind === 'conv1d';
  if (isConv) {
    const f = options.convNorm ?? 0.5;
    for (let i = 0; i < evals.length; i++) evals[i] = evals[i]! * f;
  }
  const thresh = options.filterZeros ? (options.evalsThresh ?? 1e-5) : 0;
  let first = 0;
  while (first < evals.length && !(evals[first]! > thresh)) first++;
  const fit = fitPowerLaw(evals.subarray(first), { xmin: options.fit ?? 'xmin_mid' });
  if (!fit) return null;
  const spectral = evals[evals.length - 1]!;
  return {
    alpha: fit.alpha,
    D: fit.D,
    xmin: fit.xmin,
    spectral_norm: spectral,
    alpha_weighted: fit.alpha * Math.log10(spectral),
    nr,
    nc,
    windows,
    evals,
  };
}
