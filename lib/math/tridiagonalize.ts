import { useWasmKernel, wasmTridiagonalize, type CpuKernelOptions } from './wasm/spectra-kernels';

/**
 * Householder reduction of a real symmetric matrix to tridiagonal form (values only), after
 * EISPACK tred1 / Numerical Recipes tred2, reorganised for a flat row-major Float64Array:
 * only the lower triangle is read and written, always along rows, and the matrix-vector product
 * A·u is the symmetric two-sided form, so every inner loop walks memory contiguously.
 *
 * Returns the diagonal d and the sub-diagonal e (e[i] couples rows i and i+1, e[n-1] = 0).
 * `a` (n × n) is overwritten. Runs the WebAssembly SIMD kernel when the realm has it
 * (options.kernel forces either one).
 */
export function tridiagonalize(a: Float64Array, n: number, options?: CpuKernelOptions): { d: Float64Array; e: Float64Array } {
  if (n > 0 && useWasmKernel(options)) {
    const r = wasmTridiagonalize(a, n, true);
    if (r) return r;
  }
  return tridiagonalizeTs(a, n);
}

/** The TypeScript kernel of tridiagonalize: the reference the WASM kernel is tested against. */
export function tridiagonalizeTs(a: Float64Array, n: number): { d: Float64Array; e: Float64Array } {
  const d = new Float64Array(n);
  const eRaw = new Float64Array(n); // eRaw[i] couples rows i-1 and i
  const p = new Float64Array(n);
  for (let i = n - 1; i > 0; i--) {
    const l = i - 1;
    const ri = i * n;
    let h = 0;
    if (l > 0) {
      let scale = 0;
      for (let k = 0; k <= l; k++) scale += Math.abs(a[ri + k]!);
      if (scale === 0) {
        eRaw[i] = a[ri + l]!;
      } else {
        // Scaling keeps the squares of tiny or huge entries representable.
        for (let k = 0; k <= l; k++) {
          const v = a[ri + k]! / scale;
          a[ri + k] = v;
          h += v * v;
        }
        const f = a[ri + l]!;
        const g = f >= 0 ? -Math.sqrt(h) : Math.sqrt(h);
        eRaw[i] = scale * g;
        h -= f * g;
        a[ri + l] = f - g;
        // p = A[0..l, 0..l] · u with u = a[i, 0..l], from the lower triangle, four rows at a time
        // so each p[k] / u[k] access serves all four.
        p.fill(0, 0, l + 1);
        let j = 0;
        for (; j + 3 <= l; j += 4) {
          const r0 = j * n;
          const r1 = r0 + n;
          const r2 = r1 + n;
          const r3 = r2 + n;
          const u0 = a[ri + j]!;
          const u1 = a[ri + j + 1]!;
          const u2 = a[ri + j + 2]!;
          const u3 = a[ri + j + 3]!;
          let s0 = 0;
          let s1 = 0;
          let s2 = 0;
          let s3 = 0;
          for (let k = 0; k < j; k++) {
            const v0 = a[r0 + k]!;
            const v1 = a[r1 + k]!;
            const v2 = a[r2 + k]!;
            const v3 = a[r3 + k]!;
            const uk = a[ri + k]!;
            s0 += v0 * uk;
            s1 += v1 * uk;
            s2 += v2 * uk;
            s3 += v3 * uk;
            p[k] = p[k]! + v0 * u0 + v1 * u1 + v2 * u2 + v3 * u3;
          }
          p[j] = p[j]! + s0;
          p[j + 1] = p[j + 1]! + s1;
          p[j + 2] = p[j + 2]! + s2;
          p[j + 3] = p[j + 3]! + s3;
          // The 4 × 4 diagonal block, lower triangle, used both ways.
          for (let m = 0; m < 4; m++) {
            const rm = (j + m) * n;
            const um = a[ri + j + m]!;
            for (let c = 0; c < m; c++) {
              const v = a[rm + j + c]!;
              p[j + m] = p[j + m]! + v * a[ri + j + c]!;
              p[j + c] = p[j + c]! + v * um;
            }
            p[j + m] = p[j + m]! + a[rm + j + m]! * um;
          }
        }
        for (; j <= l; j++) {
          const rj = j * n;
          const uj = a[ri + j]!;
          let s = 0;
          for (let k = 0; k < j; k++) {
            const v = a[rj + k]!;
            s += v * a[ri + k]!;
            p[k] = p[k]! + v * uj;
          }
          p[j] = p[j]! + s + a[rj + j]! * uj;
        }
        let fsum = 0;
        for (let j = 0; j <= l; j++) {
          p[j] = p[j]! / h;
          fsum += p[j]! * a[ri + j]!;
        }
        const hh = fsum / (h + h);
        for (let j = 0; j <= l; j++) p[j] = p[j]! - hh * a[ri + j]!;
        // A -= u·pᵀ + p·uᵀ on the lower triangle, four rows at a time.
        let r = 0;
        for (; r + 3 <= l; r += 4) {
          const r0 = r * n;
          const r1 = r0 + n;
          const r2 = r1 + n;
          const r3 = r2 + n;
          const f0 = a[ri + r]!;
          const f1 = a[ri + r + 1]!;
          const f2 = a[ri + r + 2]!;
          const f3 = a[ri + r + 3]!;
          const g0 = p[r]!;
          const g1 = p[r + 1]!;
          const g2 = p[r + 2]!;
          const g3 = p[r + 3]!;
          for (let k = 0; k <= r; k++) {
            const pk = p[k]!;
            const uk = a[ri + k]!;
            a[r0 + k] = a[r0 + k]! - (f0 * pk + g0 * uk);
            a[r1 + k] = a[r1 + k]! - (f1 * pk + g1 * uk);
            a[r2 + k] = a[r2 + k]! - (f2 * pk + g2 * uk);
            a[r3 + k] = a[r3 + k]! - (f3 * pk + g3 * uk);
          }
          // What is left of the diagonal block: row r+m, columns r+1 .. r+m.
          for (let m = 1; m < 4; m++) {
            const rm = (r + m) * n;
            const fm = a[ri + r + m]!;
            const gm = p[r + m]!;
            for (let k = r + 1; k <= r + m; k++) a[rm + k] = a[rm + k]! - (fm * p[k]! + gm * a[ri + k]!);
          }
        }
        for (; r <= l; r++) {
          const rj = r * n;
          const fj = a[ri + r]!;
          const gj = p[r]!;
          for (let k = 0; k <= r; k++) a[rj + k] = a[rj + k]! - (fj * p[k]! + gj * a[ri + k]!);
        }
      }
    } else {
      eRaw[i] = a[ri + l]!;
    }
  }
  for (let i = 0; i < n; i++) d[i] = a[i * n + i]!;
  const e = new Float64Array(n);
  for (let i = 1; i < n; i++) e[i - 1] = eRaw[i]!;
  return { d, e };
}
