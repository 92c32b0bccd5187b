import { LimitError } from '../base/errors';
import { useWasmKernel, wasmGram, wasmGramOfRows, type CpuKernelOptions } from './wasm/spectra-kernels';

/**
 * Gram matrix of the smaller side of a row-major matrix, accumulated in float64.
 *
 * For W (rows × cols) this returns G = A·Aᵀ with A = W when rows ≤ cols and A = Wᵀ otherwise,
 * so G is k × k with k = min(rows, cols) and its eigenvalues are the squared singular values of W.
 * Float32 products are exact in float64, so the only rounding is in the sums.
 */

/**
 * 16384² float64 values are 2 GiB, already past what a browser tab can hold; WeightWatcher's
 * own default (max_evals = 15000) stays below it.
 */
export const MAX_GRAM_SIDE = 16_384;

/** Columns handled per pass, so the rows a micro-kernel reuses stay in the L1/L2 caches. */
const CHUNK = 512;

/** The smaller side of W as k contiguous float64 rows of length n (a copy, transposed when needed). */
export function smallSideRows(data: ArrayLike<number>, rows: number, cols: number): { a: Float64Array; k: number; n: number } {
  const k = Math.min(rows, cols);
  const n = Math.max(rows, cols);
  if (k > MAX_GRAM_SIDE) throw new LimitError('gram-too-large', `Gram matrix side ${k} exceeds MAX_GRAM_SIDE = ${MAX_GRAM_SIDE}`);
  const a = new Float64Array(k * n);
  if (rows <= cols) {
    for (let i = 0; i < rows * cols; i++) a[i] = data[i]!;
  } else {
    // A = Wᵀ: A[c][r] = W[r][c]; walk W row by row so reads are sequential.
    for (let r = 0; r < rows; r++) {
      const off = r * cols;
      for (let c = 0; c < cols; c++) a[c * rows + r] = data[off + c]!;
    }
  }
  return { a, k, n };
}

/**
 * G = A·Aᵀ for A (k × n, row-major, float64); returns the full symmetric k × k matrix.
 * Runs the WebAssembly SIMD kernel when the realm has it (options.kernel forces either one).
 */
export function gramOfRows(a: Float64Array, k: number, n: number, options?: CpuKernelOptions): Float64Array {
  if (k > 0 && useWasmKernel(options)) {
    const g = wasmGramOfRows(a, k, n);
    if (g) return g;
  }
  return gramOfRowsTs(a, k, n);
}

/** The TypeScript kernel of gramOfRows: the reference the WASM kernel is tested against. */
export function gramOfRowsTs(a: Float64Array, k: number, n: number): Float64Array {
  const g = new Float64Array(k * k);
  for (let c0 = 0; c0 < n; c0 += CHUNK) {
    const c1 = Math.min(n, c0 + CHUNK);
    let i = 0;
    // 4 rows of A against 2 rows at a time: 8 running sums from 6 loads per column.
    for (; i + 4 <= k; i += 4) {
      const r0 = i * n;
      const r1 = r0 + n;
      const r2 = r1 + n;
      const r3 = r2 + n;
      let j = 0;
      for (; j + 2 <= i + 4; j += 2) {
        const q0 = j * n;
        const q1 = q0 + n;
        let s00 = 0, s01 = 0, s10 = 0, s11 = 0, s20 = 0, s21 = 0, s30 = 0, s31 = 0;
        for (let c = c0; c < c1; c++) {
          const b0 = a[q0 + c]!;
          const b1 = a[q1 + c]!;
          const x0 = a[r0 + c]!;
          const x1 = a[r1 + c]!;
          const x2 = a[r2 + c]!;
          const x3 = a[r3 + c]!;
          s00 += x0 * b0; s01 += x0 * b1;
          s10 += x1 * b0; s11 += x1 * b1;
          s20 += x2 * b0; s21 += x2 * b1;
          s30 += x3 * b0; s31 += x3 * b1;
        }
        g[i * k + j] = g[i * k + j]! + s00; g[i * k + j + 1] = g[i * k + j + 1]! + s01;
        g[(i + 1) * k + j] = g[(i + 1) * k + j]! + s10; g[(i + 1) * k + j + 1] = g[(i + 1) * k + j + 1]! + s11;
        g[(i + 2) * k + j] = g[(i + 2) * k + j]! + s20; g[(i + 2) * k + j + 1] = g[(i + 2) * k + j + 1]! + s21;
        g[(i + 3) * k + j] = g[(i + 3) * k + j]! + s30; g[(i + 3) * k + j + 1] = g[(i + 3) * k + j + 1]! + s31;
      }
    }
    // Remaining rows (k not a multiple of 4): plain dot products for the lower triangle.
    for (; i < k; i++) {
      const r0 = i * n;
      for (let j = 0; j <= i; j++) {
        const q0 = j * n;
        let s = 0;
        for (let c = c0; c < c1; c++) s += a[r0 + c]! * a[q0 + c]!;
        g[i * k + j] = g[i * k + j]! + s;
      }
    }
  }
  // The blocked loops fill the lower triangle (and some entries above the diagonal); mirror it.
  for (let i = 0; i < k; i++) {
    for (let j = i + 1; j < k; j++) g[i * k + j] = g[j * k + i]!;
  }
  return g;
}

/**
 * Gram matrix of the smaller side of W (rows × cols, row-major), float64, k × k. Runs the
 * WebAssembly SIMD kernel when the realm has it (options.kernel forces either one).
 */
export function gram(data: ArrayLike<number>, rows: number, cols: number, options?: CpuKernelOptions): { g: Float64Array; k: number } {
  const k = Math.min(rows, cols);
  if (k > MAX_GRAM_SIDE) throw new LimitError('gram-too-large', `Gram matrix side ${k} exceeds MAX_GRAM_SIDE = ${MAX_GRAM_SIDE}`);
  if (k > 0 && useWasmKernel(options)) {
    // The WASM kernel reads W as it is (float32 stays float32) and transposes while packing.
    const g = wasmGram(data, rows, cols);
    if (g) return { g, k };
  }
  const { a, n } = smallSideRows(data, rows, cols);
  return { g: gramOfRowsTs(a, k, n), k };
}
