import { tqlEigenvalues } from './tql';
import { tridiagonalizeTs } from './tridiagonalize';
import { useWasmKernel, wasmEigenvalues, type CpuKernelOptions } from './wasm/spectra-kernels';

/**
 * Eigenvalues of a real symmetric matrix (flat row-major, n × n, float64), ascending.
 * Householder tridiagonalization + implicit QL; `a` may be overwritten. Only the lower triangle is
 * read. Runs the WebAssembly SIMD kernels when the realm has them (they work on a copy and leave
 * `a` as it was); options.kernel forces either one.
 */
export function eigvalsh(a: Float64Array, n: number, options?: CpuKernelOptions): Float64Array {
  if (a.length !== n * n) throw new Error(`eigvalsh: expected ${n * n} values for ${n} × ${n}, got ${a.length}`);
  if (n === 0) return new Float64Array(0);
  if (useWasmKernel(options)) {
    const ev = wasmEigenvalues(a, n);
    if (ev) return ev.sort();
  }
  const { d, e } = tridiagonalizeTs(a, n);
  return tqlEigenvalues(d, e).sort();
}
