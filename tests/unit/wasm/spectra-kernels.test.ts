import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Rng } from '../../../lib/base/rng';
import { farmsEsd } from '../../../lib/analysis/spectra/farms';
import { eigvalsh } from '../../../lib/math/eigvalsh';
import { gram, gramOfRows, gramOfRowsTs, smallSideRows } from '../../../lib/math/gram';
import { tqlEigenvalues } from '../../../lib/math/tql';
import { tridiagonalize, tridiagonalizeTs } from '../../../lib/math/tridiagonalize';
import {
  WASM_KEEP_BYTES,
  loadWasmKernels,
  setDefaultCpuKernel,
  wasmKernelsAvailable,
  wasmMemoryBytes,
  wasmTql,
  wasmTqlPair,
  wasmWindows,
} from '../../../lib/math/wasm/spectra-kernels';
import { hasWasmSimd } from '../../../lib/platform';
import { randomOrthogonal } from '../gpu/test-matrices';

/**
 * The WebAssembly SIMD kernels against their TypeScript twins (the reference): same float64
 * arithmetic, sums taken in another order, so Gram entries agree to a few ulps of the entries'
 * scale and eigenvalues to roundoff of λmax.
 */

const ROOT = path.resolve(import.meta.dirname, '../../..');

/** Awkward shapes: 1 × 1, k not a multiple of the 4-row tiles, odd long sides, both orientations. */
const SHAPES: [number, number][] = [
  [1, 1], [1, 7], [7, 1], [2, 3], [3, 5], [5, 3], [4, 4], [6, 9], [9, 6], [8, 513], [97, 203], [203, 97], [768, 300], [300, 768],
];

function randomF32(rows: number, cols: number, rng: Rng, scale = 0.05): Float32Array {
  const w = new Float32Array(rows * cols);
  for (let i = 0; i < w.length; i++) w[i] = rng.normal() * scale;
  return w;
}

/** Gram entries within 1e-12 of √(Gii·Gjj) — the Cauchy–Schwarz scale of the sum's terms. */
function expectGramClose(got: Float64Array, want: Float64Array, k: number, label: string): void {
  expect(got.length, label).toBe(k * k);
  let worst = 0;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const w = want[i * k + j]!;
      const g = got[i * k + j]!;
      const scale = Math.sqrt(Math.abs(want[i * k + i]! * want[j * k + j]!));
      const err = scale === 0 ? Math.abs(g - w) : Math.abs(g - w) / scale;
      worst = Math.max(worst, err);
      if (!(err <= 1e-12)) expect.fail(`${label}: G[${i}][${j}] = ${g}, TS kernel ${w}`);
    }
  }
  expect(worst, label).toBeLessThanOrEqual(1e-12);
}

function expectEigClose(got: Float64Array, want: Float64Array, label: string): void {
  expect(got.length, label).toBe(want.length);
  const lmax = Math.max(...Array.from(want, Math.abs), Number.MIN_VALUE);
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i]! - want[i]!) <= 1e-10 * lmax)) expect.fail(`${label}: λ[${i}] = ${got[i]}, TS kernel ${want[i]} (λmax ${lmax})`);
  }
}

/** Q·diag(λ)·Qᵀ, a symmetric matrix whose eigenvalues are exactly known. */
function withEigenvalues(lambda: number[], rng: Rng): Float64Array {
  const n = lambda.length;
  const q = randomOrthogonal(n, rng, Math.min(n, 6));
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += q[i * n + k]! * lambda[k]! * q[j * n + k]!;
      a[i * n + j] = s;
    }
  }
  return a;
}

afterEach(() => setDefaultCpuKernel('auto'));

describe('WebAssembly SIMD detection', () => {
  it('Node 20 has WebAssembly SIMD and the committed module compiles', async () => {
    expect(hasWasmSimd()).toBe(true);
    expect(wasmKernelsAvailable()).toBe(true);
    expect(await loadWasmKernels()).toBe(true);
  });

  it('the committed modules (spectra and k-means kernels) are what their AssemblyScript sources compile to', () => {
    // --check exits 1 (execFileSync throws) when any module is stale, and names each one it checked.
    const out = execFileSync(process.execPath, [path.join(ROOT, 'scripts/build-wasm.mjs'), '--check'], { cwd: ROOT, encoding: 'utf8' });
    expect(out).toMatch(/spectra-kernels-wasm\.ts is current/);
    expect(out).toMatch(/kmeans-kernels-wasm\.ts is current/);
  });
});

describe('gram: WASM vs TS', () => {
  it.each(SHAPES)('%i × %i, float32 input', (rows, cols) => {
    const rng = new Rng(rows * 1000 + cols);
    const w = randomF32(rows, cols, rng);
    const k = Math.min(rows, cols);
    const want = gram(w, rows, cols, { kernel: 'ts' });
    const got = gram(w, rows, cols, { kernel: 'wasm' });
    expect(got.k).toBe(k);
    expectGramClose(got.g, want.g, k, `${rows}×${cols}`);
    // Symmetric exactly (mirrored), and the diagonal is a sum of squares.
    for (let i = 0; i < k; i++) {
      expect(got.g[i * k + i]).toBeGreaterThanOrEqual(0);
      for (let j = 0; j < i; j++) expect(got.g[j * k + i]).toBe(got.g[i * k + j]);
    }
  });

  it('float64 input that float32 cannot hold (FARMS scales conv windows by √0.5) stays float64', () => {
    const rng = new Rng(5);
    const rows = 37;
    const cols = 91;
    const w = Float64Array.from(randomF32(rows, cols, rng), (x) => x * Math.SQRT1_2 + 1e-12);
    expectGramClose(gram(w, rows, cols, { kernel: 'wasm' }).g, gram(w, rows, cols, { kernel: 'ts' }).g, rows, 'f64');
    const t = Float64Array.from(w);
    expectGramClose(gram(t, cols, rows, { kernel: 'wasm' }).g, gram(t, cols, rows, { kernel: 'ts' }).g, rows, 'f64 transposed');
    // A plain array goes the float64 way too.
    expectGramClose(gram(Array.from(w), rows, cols, { kernel: 'wasm' }).g, gram(w, rows, cols, { kernel: 'ts' }).g, rows, 'number[]');
  });

  it('reads the first rows · cols values of a longer array, as the TS kernel does; a short one goes to the TS kernel', () => {
    const rng = new Rng(15);
    const long = randomF32(1, 13 * 40 + 9, rng);
    expectGramClose(gram(long, 13, 40, { kernel: 'wasm' }).g, gram(long, 13, 40, { kernel: 'ts' }).g, 13, 'long f32');
    expectGramClose(gram(Array.from(long), 40, 13, { kernel: 'wasm' }).g, gram(long, 40, 13, { kernel: 'ts' }).g, 13, 'long number[]');
    const short = long.subarray(0, 13 * 40 - 3);
    const want = gram(short, 13, 40, { kernel: 'ts' }).g;
    expect(Array.from(gram(short, 13, 40, { kernel: 'wasm' }).g)).toEqual(Array.from(want));
    expect(want.some(Number.isNaN)).toBe(true);
  });

  it('gramOfRows is A·Aᵀ whatever the shape of A (k > n too)', () => {
    const rng = new Rng(6);
    for (const [k, n] of [[7, 3], [3, 7], [100, 200], [201, 99]] as const) {
      const a = Float64Array.from(randomF32(k, n, rng));
      expectGramClose(gramOfRows(a, k, n, { kernel: 'wasm' }), gramOfRowsTs(a, k, n), k, `${k}×${n}`);
    }
  });

  it('agrees with the definition on exact small integers (every sum exact in float64)', () => {
    const rows = 6;
    const cols = 11;
    const w = Float32Array.from({ length: rows * cols }, (_, i) => ((i * 7) % 13) - 6);
    const g = gram(w, rows, cols, { kernel: 'wasm' }).g;
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < rows; j++) {
        let s = 0;
        for (let c = 0; c < cols; c++) s += w[i * cols + c]! * w[j * cols + c]!;
        expect(g[i * rows + j]).toBe(s);
      }
    }
  });

  it('structured inputs: zero rows and columns, repeated rows, 1e-30 and 1e30 magnitudes', () => {
    const rng = new Rng(7);
    const rows = 45;
    const cols = 130;
    const w = randomF32(rows, cols, rng);
    for (let c = 0; c < cols; c++) {
      w[3 * cols + c] = 0; // a dead unit
      w[9 * cols + c] = w[10 * cols + c]!; // a duplicated row: rank deficit
      w[20 * cols + c] = Math.fround(w[20 * cols + c]! * 1e-29);
      w[21 * cols + c] = Math.fround(w[21 * cols + c]! * 1e31);
    }
    for (let r = 0; r < rows; r++) w[r * cols + 17] = 0;
    for (const [r, c, data] of [[rows, cols, w], [cols, rows, transpose(w, rows, cols)]] as const) {
      const want = gram(data, r, c, { kernel: 'ts' }).g;
      const got = gram(data, r, c, { kernel: 'wasm' }).g;
      expectGramClose(got, want, rows, `structured ${r}×${c}`);
      expect(got[3 * rows + 3]).toBe(0);
    }
  });

  it('NaN and ±Inf reach the same entries as in the TS kernel', () => {
    for (const bad of [Number.NaN, Infinity, -Infinity]) {
      for (const [rows, cols] of [[5, 9], [9, 5], [13, 300]] as const) {
        const rng = new Rng(8);
        const w = randomF32(rows, cols, rng);
        w[7] = bad;
        w[rows * cols - 2] = 0; // Inf · 0 = NaN in some products
        const want = gram(w, rows, cols, { kernel: 'ts' }).g;
        const got = gram(w, rows, cols, { kernel: 'wasm' }).g;
        for (let i = 0; i < want.length; i++) {
          if (Number.isFinite(want[i]!)) expect(Number.isFinite(got[i]!), `${bad} ${rows}×${cols} [${i}]`).toBe(true);
          else expect(got[i], `${bad} ${rows}×${cols} [${i}]`).toBe(want[i]);
        }
      }
    }
  });
});

function transpose(w: ArrayLike<number>, rows: number, cols: number): Float32Array {
  const t = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = w[r * cols + c]!;
  return t;
}

describe('tridiagonalize and eigvalsh: WASM vs TS', () => {
  it.each(SHAPES)('Gram of %i × %i', (rows, cols) => {
    const rng = new Rng(rows * 7919 + cols);
    const { g, k } = gram(randomF32(rows, cols, rng), rows, cols, { kernel: 'ts' });
    const want = eigvalsh(g.slice(), k, { kernel: 'ts' });
    const got = eigvalsh(g.slice(), k, { kernel: 'wasm' });
    expectEigClose(got, want, `${rows}×${cols}`);
    // The same reduction: diagonal and |sub-diagonal| within roundoff of ‖G‖ (≈ λmax).
    const lmax = Math.max(want[k - 1]!, Number.MIN_VALUE);
    const a1 = g.slice();
    const a2 = g.slice();
    const t1 = tridiagonalize(a1, k, { kernel: 'wasm' });
    const t2 = tridiagonalizeTs(a2, k);
    for (let i = 0; i < k; i++) {
      expect(Math.abs(t1.d[i]! - t2.d[i]!)).toBeLessThanOrEqual(1e-10 * lmax);
      expect(Math.abs(Math.abs(t1.e[i]!) - Math.abs(t2.e[i]!))).toBeLessThanOrEqual(1e-10 * lmax);
    }
    expect(t1.e[k - 1]).toBe(0);
    // Like the TS kernel, the WASM tridiagonalize leaves the reduced matrix in `a`.
    for (let i = 0; i < k; i++) expect(Math.abs(a1[i * k + i]! - a2[i * k + i]!)).toBeLessThanOrEqual(1e-10 * lmax);
    // tql on the WASM reduction gives the same spectrum.
    expectEigClose(tqlEigenvalues(t1.d, t1.e).sort(), want, `${rows}×${cols} tql`);
  });

  it('known spectra: spread over 12 decades, repeated, zero and negative eigenvalues', () => {
    const rng = new Rng(9);
    const cases: number[][] = [
      Array.from({ length: 97 }, (_, i) => 10 ** (-6 + (12 * i) / 96)),
      Array.from({ length: 64 }, (_, i) => (i < 40 ? 1 : 3)),
      Array.from({ length: 50 }, (_, i) => (i < 10 ? 0 : i)),
      Array.from({ length: 33 }, (_, i) => i - 16),
      [2.5],
      [1, 1e-300],
    ];
    for (const lambda of cases) {
      const n = lambda.length;
      const a = withEigenvalues(lambda, rng);
      const want = eigvalsh(a.slice(), n, { kernel: 'ts' });
      const got = eigvalsh(a.slice(), n, { kernel: 'wasm' });
      expectEigClose(got, want, `n=${n}`);
      const exact = Float64Array.from(lambda).sort();
      expectEigClose(got, exact, `n=${n} exact`);
    }
  });

  it('zero, diagonal and already-tridiagonal matrices', () => {
    const n = 23;
    const zero = new Float64Array(n * n);
    expect(Array.from(eigvalsh(zero.slice(), n, { kernel: 'wasm' }))).toEqual(Array.from(eigvalsh(zero.slice(), n, { kernel: 'ts' })));
    const diag = new Float64Array(n * n);
    for (let i = 0; i < n; i++) diag[i * n + i] = (i * 37) % n;
    expect(Array.from(eigvalsh(diag.slice(), n, { kernel: 'wasm' }))).toEqual(Array.from({ length: n }, (_, i) => i));
    const tri = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      tri[i * n + i] = 2;
      if (i > 0) tri[i * n + i - 1] = tri[(i - 1) * n + i] = -1;
    }
    // Eigenvalues of the (2, −1) second-difference matrix: 2 − 2cos(kπ/(n+1)).
    const exact = Float64Array.from({ length: n }, (_, k) => 2 - 2 * Math.cos(((k + 1) * Math.PI) / (n + 1))).sort();
    expectEigClose(eigvalsh(tri.slice(), n, { kernel: 'wasm' }), exact, 'second difference');
  });

  it('NaN and Inf end the same way: tql reports no convergence', () => {
    for (const bad of [Number.NaN, Infinity]) {
      const n = 9;
      const a = withEigenvalues(Array.from({ length: n }, (_, i) => i + 1), new Rng(10));
      a[4 * n + 2] = bad;
      const outcome = (kernel: 'ts' | 'wasm'): string => {
        try {
          return Array.from(eigvalsh(a.slice(), n, { kernel })).join(',');
        } catch (e) {
          return (e as Error).message;
        }
      };
      expect(outcome('wasm')).toBe(outcome('ts'));
    }
  });

  it('eigvalsh over the WASM kernel leaves its input as it was; the TS kernel overwrites it', () => {
    const n = 12;
    const a = withEigenvalues(Array.from({ length: n }, (_, i) => i), new Rng(11));
    const copy = a.slice();
    eigvalsh(a, n, { kernel: 'wasm' });
    expect(Array.from(a)).toEqual(Array.from(copy));
  });
});

describe('interleaved QL (two problems at once)', () => {
  /** A random symmetric tridiagonal matrix: diagonal and sub-diagonal. */
  function tridiagonal(n: number, rng: Rng, offScale = 1): { d: Float64Array; e: Float64Array } {
    const d = Float64Array.from({ length: n }, () => rng.normal());
    const e = Float64Array.from({ length: n }, (_, i) => (i < n - 1 ? rng.normal() * offScale : 0));
    return { d, e };
  }

  it('gives each problem bit for bit what the single QL gives it', () => {
    const rng = new Rng(16);
    for (const n of [1, 2, 3, 17, 100, 257]) {
      const pairs = [
        [tridiagonal(n, rng), tridiagonal(n, rng)],
        [tridiagonal(n, rng), tridiagonal(n, rng, 0)], // B is already diagonal: done at once
        [tridiagonal(n, rng, 1e-12), tridiagonal(n, rng, 1e3)], // very different sweep counts
      ];
      for (const [a, b] of pairs) {
        const [ga, gb] = wasmTqlPair(a!.d, a!.e, b!.d, b!.e)!;
        const wa = wasmTql(a!.d.slice(), a!.e.slice())!;
        const wb = wasmTql(b!.d.slice(), b!.e.slice())!;
        expect(Array.from(ga), `n=${n} A`).toEqual(Array.from(wa));
        expect(Array.from(gb), `n=${n} B`).toEqual(Array.from(wb));
        // ...and the TS QL agrees to roundoff.
        const ts = tqlEigenvalues(a!.d.slice(), a!.e.slice()).sort();
        expectEigClose(ga.slice().sort(), ts, `n=${n} vs TS`);
      }
    }
  });

  it('reports no convergence for the problem that has it, as the single QL does', () => {
    const rng = new Rng(17);
    const good = tridiagonal(20, rng);
    const bad = tridiagonal(20, rng);
    bad.e[5] = Number.NaN;
    expect(() => wasmTql(bad.d.slice(), bad.e.slice())).toThrow('tql: no convergence for eigenvalue 0 of 20');
    expect(() => wasmTqlPair(good.d, good.e, bad.d, bad.e)).toThrow('tql: no convergence for eigenvalue 0 of 20');
    expect(() => wasmTqlPair(bad.d, bad.e, good.d, good.e)).toThrow('tql: no convergence for eigenvalue 0 of 20');
  });
});

describe('kernel choice and memory', () => {
  it("'ts' runs the TS kernel bit for bit; the default follows setDefaultCpuKernel", () => {
    const rng = new Rng(12);
    const w = randomF32(33, 70, rng);
    const { a, k, n } = smallSideRows(w, 33, 70);
    const ts = gramOfRowsTs(a, k, n);
    expect(Array.from(gram(w, 33, 70, { kernel: 'ts' }).g)).toEqual(Array.from(ts));
    setDefaultCpuKernel('ts');
    expect(Array.from(gram(w, 33, 70).g)).toEqual(Array.from(ts));
    setDefaultCpuKernel('wasm');
    expectGramClose(gram(w, 33, 70).g, ts, k, 'default wasm');
  });

  it('FARMS through the fused window kernel: pooled eigenvalues agree with the TS path', () => {
    const rng = new Rng(13);
    const rows = 230;
    const cols = 410;
    // float64 values float32 cannot hold, as FARMS's √convNorm scaling makes them.
    const w = Float64Array.from(randomF32(rows, cols, rng), (x) => x * Math.SQRT1_2);
    for (const opts of [{}, { nr: 60, qRatio: 0.5 }, { nr: 37, qRatio: 1, opsPerDim: 3 }, { nr: 500 }]) {
      const want = farmsEsd(w, rows, cols, { ...opts, kernel: 'ts' });
      const got = farmsEsd(w, rows, cols, { ...opts, kernel: 'wasm' });
      expect(got.windows).toBe(want.windows);
      expect([got.nr, got.nc]).toEqual([want.nr, want.nc]);
      expectEigClose(got.evals, want.evals, `FARMS ${JSON.stringify(opts)}`);
    }
    // A plain array goes in band by band the same way.
    expectEigClose(farmsEsd(Array.from(w), rows, cols, { kernel: 'wasm' }).evals, farmsEsd(w, rows, cols, { kernel: 'ts' }).evals, 'FARMS number[]');
    // The process default reaches FARMS too.
    setDefaultCpuKernel('ts');
    expect(Array.from(farmsEsd(w, rows, cols).evals)).toEqual(Array.from(farmsEsd(w, rows, cols, { kernel: 'ts' }).evals));
  });

  it('a window session checks its windows and keeps other calls off its memory until released', () => {
    const rng = new Rng(14);
    const rows = 50;
    const cols = 80;
    const w = Float64Array.from(randomF32(rows, cols, rng));
    const win = wasmWindows(w, rows, cols, 20, 40);
    expect(win).not.toBeNull();
    try {
      expect(() => win!.eigenvalues(31, 0)).toThrow(/outside the 50 × 80 matrix/);
      const first = win!.eigenvalues(30, 40);
      // Meanwhile a Gram through the public API runs (on the TS kernel) and leaves the matrix alone.
      const other = randomF32(30, 70, rng);
      expectGramClose(gram(other, 30, 70).g, gram(other, 30, 70, { kernel: 'ts' }).g, 30, 'during a session');
      expect(Array.from(win!.eigenvalues(30, 40))).toEqual(Array.from(first));
      // Two windows at once: bit for bit the same as one at a time.
      const [pa, pb] = win!.eigenvaluesPair(30, 40, 3);
      expect(Array.from(pa)).toEqual(Array.from(first));
      expect(Array.from(pb)).toEqual(Array.from(win!.eigenvalues(30, 3)));
      // Another band of rows, then back: each band is copied in when first used.
      win!.eigenvalues(0, 0);
      expect(Array.from(win!.eigenvalues(30, 40))).toEqual(Array.from(first));
      const sub = new Float64Array(20 * 40);
      for (let i = 0; i < 20; i++) for (let j = 0; j < 40; j++) sub[i * 40 + j] = w[(30 + i) * cols + 40 + j]!;
      expectEigClose(first.slice().sort(), eigvalsh(gramOfRowsTs(sub, 20, 40), 20, { kernel: 'ts' }), 'window (30, 40)');
    } finally {
      win!.release();
    }
    expect(() => win!.eigenvalues(0, 0)).toThrow(/after release/);
  });

  it(`memory past WASM_KEEP_BYTES is given back after the call; later calls still work`, () => {
    // 1 × 17M float32 = 68 MB of input: past the keep limit, trivial to compute.
    const n = 17_000_000;
    const w = new Float32Array(n).fill(0.5);
    w[n - 1] = 2;
    const { g } = gram(w, 1, n, { kernel: 'wasm' });
    expect(g[0]).toBe((n - 1) * 0.25 + 4);
    expect(wasmMemoryBytes()).toBe(0);
    const small = gram(Float32Array.of(1, 2, 3, 4), 2, 2, { kernel: 'wasm' });
    expect(Array.from(small.g)).toEqual([5, 11, 11, 25]);
    expect(wasmMemoryBytes()).toBeGreaterThan(0);
    expect(wasmMemoryBytes()).toBeLessThanOrEqual(WASM_KEEP_BYTES);
  });
});
