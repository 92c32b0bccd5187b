import { UnsupportedError } from '../../base/errors';
import { SPECTRA_KERNELS_WASM_BASE64 } from './spectra-kernels-wasm';
import { SimdModule } from './simd-module';

const MODULE = new SimdModule(SPECTRA_KERNELS_WASM_BASE64);

/**
 * The WebAssembly SIMD spectra kernels (source: spectra-kernels.as.ts): loading, linear-memory
 * layout and copies in and out. lib/math/gram.ts, tridiagonalize.ts and eigvalsh.ts call these when
 * they pick the WASM kernel; the TypeScript kernels stay the reference they are tested against.
 */

/** Which CPU implementation a spectra kernel runs: 'auto' = WASM SIMD when the realm has it, else TS. */
export type CpuKernel = 'auto' | 'ts' | 'wasm';

export interface CpuKernelOptions {
  /** Force the TypeScript ('ts') or WebAssembly ('wasm') kernel; default: the process default ('auto'). */
  kernel?: CpuKernel;
}

/**
 * Linear memory cannot shrink, so an instance that grew past this is dropped after the call (the
 * garbage collector then frees its memory) and a fresh one is made next time. 64 MiB holds the
 * working set of a 1280 × 5120 layer (float32 input + float64 Gram).
 */
export const WASM_KEEP_BYTES = 64 * 2 ** 20;

/** Columns of A packed per Gram pass: k × 256 float64 (1.5 MiB at k = 768) stays in a core's L2. */
const GRAM_CHUNK = 256;

const PAGE_BYTES = 65_536;

interface KernelExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  gram(src: number, k: number, n: number, ld: number, trans: number, srcF32: number, g: number, panel: number, chunk: number): void;
  tridiagonalize(a: number, n: number, d: number, e: number, p: number): void;
  tql(d: number, e: number, n: number): number;
  windowEigenvalues(
    src: number, ld: number, r0: number, c0: number, nr: number, nc: number, g: number, panel: number, chunk: number, d: number, e: number, p: number,
    srcTrans: number,
  ): number;
  tqlPair(dA: number, eA: number, dB: number, eB: number, n: number, st: number): number;
  windowPairEigenvalues(
    src: number, ld: number, r0: number, c0a: number, c0b: number, nr: number, nc: number, g: number, panel: number, chunk: number,
    dA: number, eA: number, dB: number, eB: number, p: number, st: number, srcTrans: number,
  ): number;
}

/** Scratch the interleaved QL keeps its two problems' state in (2 × 64 bytes). */
const QL_PAIR_STATE_BYTES = 128;

let defaultKernel: CpuKernel = 'auto';
let live: KernelExports | null = null;
/** A wasmWindows() matrix occupies the memory: other calls run the TS kernels until it is released. */
let windowsOpen = false;

/** Process-wide choice for calls that pass no `kernel` option (e.g. a CLI flag or a benchmark). */
export function setDefaultCpuKernel(kernel: CpuKernel): void {
  defaultKernel = kernel;
}

/** The compiled module (synchronously on first use, as gram() and eigvalsh() are; see SimdModule). */
function kernelModule(): WebAssembly.Module | null {
  return MODULE.get();
}

/** Compiles and instantiates the kernels asynchronously (allowed everywhere); resolves to whether they can run. */
export async function loadWasmKernels(): Promise<boolean> {
  const mod = await MODULE.load();
  if (mod && !live) live = (await WebAssembly.instantiate(mod, {})).exports as unknown as KernelExports;
  return mod !== null;
}

/** Whether the WASM kernels can run here (WebAssembly SIMD present and the module compiles). */
export function wasmKernelsAvailable(): boolean {
  return kernelModule() !== null;
}

/** Whether to run the WASM kernel for this call; throws when 'wasm' is forced but unavailable. */
export function useWasmKernel(options?: CpuKernelOptions): boolean {
  const kernel = options?.kernel ?? defaultKernel;
  if (kernel === 'ts') return false;
  const ok = wasmKernelsAvailable();
  if (kernel === 'wasm' && !ok) throw new UnsupportedError('no-wasm-simd', 'spectra kernels: the WebAssembly SIMD kernel was requested, but this JavaScript engine has no WebAssembly SIMD');
  return ok;
}

/** An instance whose memory has `bytes` free past its heap base, and that base; null if it cannot grow. */
function instanceWith(bytes: number): { ex: KernelExports; base: number } | null {
  const mod = kernelModule();
  if (!mod || windowsOpen) return null;
  if (!live) {
    try {
      live = new WebAssembly.Instance(mod, {}).exports as unknown as KernelExports;
    } catch {
      return null; // refused synchronously (a browser's main thread): the caller runs the TS kernel
    }
  }
  const base = live.heapBase();
  const need = base + bytes;
  if (need > 2 ** 32 - PAGE_BYTES) return null; // past what 32-bit addresses reach
  const have = live.memory.buffer.byteLength;
  if (need > have) {
    try {
      live.memory.grow(Math.ceil((need - have) / PAGE_BYTES));
    } catch {
      release();
      return null; // the engine refused the memory: the caller runs the TS kernel instead
    }
  }
  return { ex: live, base };
}

/** After a call: drop an instance that grew past WASM_KEEP_BYTES so its memory can be freed. */
function release(): void {
  if (live && live.memory.buffer.byteLength > WASM_KEEP_BYTES) live = null;
}

/** Linear memory the kernels hold between calls (0 when no instance is live): for tests and diagnostics. */
export function wasmMemoryBytes(): number {
  return live ? live.memory.buffer.byteLength : 0;
}

const align16 = (x: number): number => Math.ceil(x / 16) * 16;

/**
 * The first `count` values of `data`, without a copy where possible; null when there are fewer
 * (the TS kernels then read past the end as NaN — left to them rather than to stale WASM memory).
 */
function firstValues(data: ArrayLike<number>, count: number): ArrayLike<number> | null {
  if (data.length < count) return null;
  if (data.length === count) return data;
  if (ArrayBuffer.isView(data) && 'subarray' in data) return (data as unknown as Float64Array).subarray(0, count);
  return Array.prototype.slice.call(data, 0, count) as number[];
}

/** The Gram kernel's packing panel: k rows rounded up to 4, GRAM_CHUNK columns, float64. */
const panelBytesFor = (k: number): number => Math.ceil(k / 4) * 4 * GRAM_CHUNK * 8;

/**
 * G = A·Aᵀ of the smaller side of W (rows × cols, row-major), full symmetric k × k float64, or
 * null when the memory for it cannot be had. Float32Array input is copied as float32 (products
 * are exact in float64 either way); anything else as float64.
 */
export function wasmGram(data: ArrayLike<number>, rows: number, cols: number): Float64Array | null {
  return gramOf(data, Math.min(rows, cols), Math.max(rows, cols), rows > cols);
}

/** G = A·Aᵀ for A (k × n, row-major, any k and n), or null when the memory cannot be had. */
export function wasmGramOfRows(a: ArrayLike<number>, k: number, n: number): Float64Array | null {
  return gramOf(a, k, n, false);
}

/** A is `data` (k × n) or, transposed, its n × k transpose. */
function gramOf(all: ArrayLike<number>, k: number, n: number, transposed: boolean): Float64Array | null {
  const data = firstValues(all, k * n);
  if (!data) return null;
  const f32 = data instanceof Float32Array;
  const srcBytes = align16(k * n * (f32 ? 4 : 8));
  const gBytes = align16(k * k * 8);
  const panelBytes = panelBytesFor(k);
  const got = instanceWith(srcBytes + gBytes + panelBytes);
  if (!got) return null;
  const { ex, base } = got;
  const buf = ex.memory.buffer;
  if (f32) new Float32Array(buf, base, k * n).set(data);
  else new Float64Array(buf, base, k * n).set(data);
  const gAt = base + srcBytes;
  ex.gram(base, k, n, transposed ? k : n, transposed ? 1 : 0, f32 ? 1 : 0, gAt, gAt + gBytes, GRAM_CHUNK);
  const g = new Float64Array(ex.memory.buffer, gAt, k * k).slice();
  release();
  return g;
}

/**
 * Householder tridiagonalization of the symmetric n × n matrix `a` (lower triangle read): the
 * diagonal d and sub-diagonal e as lib/math/tridiagonalize.ts returns them, or null when the memory
 * cannot be had. With copyBack the reduced matrix is written back to `a`, as the TS kernel leaves it.
 */
export function wasmTridiagonalize(a: Float64Array, n: number, copyBack: boolean): { d: Float64Array; e: Float64Array } | null {
  if (a.length !== n * n) return null;
  const aBytes = align16(n * n * 8);
  const vBytes = align16(n * 8);
  const got = instanceWith(aBytes + 4 * vBytes); // d, e, p (2n)
  if (!got) return null;
  const { ex, base } = got;
  new Float64Array(ex.memory.buffer, base, n * n).set(a);
  const dAt = base + aBytes;
  ex.tridiagonalize(base, n, dAt, dAt + vBytes, dAt + 2 * vBytes);
  const buf = ex.memory.buffer;
  if (copyBack) a.set(new Float64Array(buf, base, n * n));
  const d = new Float64Array(buf, dAt, n).slice();
  const e = new Float64Array(buf, dAt + vBytes, n).slice();
  release();
  return { d, e };
}

/**
 * Eigenvalues (unsorted) of the symmetric n × n matrix `a` (lower triangle read, `a` left as it
 * was): tridiagonalization and implicit QL in one call, the algorithms of lib/math/tridiagonalize.ts
 * and lib/math/tql.ts; null when the memory cannot be had.
 */
export function wasmEigenvalues(a: Float64Array, n: number): Float64Array | null {
  if (a.length !== n * n) return null;
  const aBytes = align16(n * n * 8);
  const vBytes = align16(n * 8);
  const got = instanceWith(aBytes + 4 * vBytes); // d, e, p (2n)
  if (!got) return null;
  const { ex, base } = got;
  new Float64Array(ex.memory.buffer, base, n * n).set(a);
  const dAt = base + aBytes;
  const eAt = dAt + vBytes;
  ex.tridiagonalize(base, n, dAt, eAt, eAt + vBytes);
  const failed = ex.tql(dAt, eAt, n);
  const d = new Float64Array(ex.memory.buffer, dAt, n).slice();
  release();
  if (failed >= 0) throw new Error(`tql: no convergence for eigenvalue ${failed} of ${n}`);
  return d;
}

/**
 * Eigenvalues (unsorted) of two symmetric tridiagonal matrices of the same size by the WASM QL,
 * run interleaved (d: diagonals, e: sub-diagonals as lib/math/tql.ts takes them; not modified).
 * Each result is bit for bit what the WASM QL gives for that matrix alone. Null when the memory
 * cannot be had; throws tql's error on no convergence.
 */
export function wasmTqlPair(dA: Float64Array, eA: Float64Array, dB: Float64Array, eB: Float64Array): [Float64Array, Float64Array] | null {
  const n = dA.length;
  if (eA.length !== n || dB.length !== n || eB.length !== n) throw new RangeError(`wasmTqlPair: four arrays of one length expected, got ${dA.length}, ${eA.length}, ${dB.length}, ${eB.length}`);
  const vBytes = align16(n * 8);
  const got = instanceWith(4 * vBytes + QL_PAIR_STATE_BYTES);
  if (!got) return null;
  const { ex, base } = got;
  const at = [0, 1, 2, 3].map((j) => base + j * vBytes);
  [dA, eA, dB, eB].forEach((v, j) => new Float64Array(ex.memory.buffer, at[j]!, n).set(v));
  const failed = ex.tqlPair(at[0]!, at[1]!, at[2]!, at[3]!, n, base + 4 * vBytes);
  const a = new Float64Array(ex.memory.buffer, at[0]!, n).slice();
  const b = new Float64Array(ex.memory.buffer, at[2]!, n).slice();
  release();
  if (failed >= 0) throw new Error(`tql: no convergence for eigenvalue ${failed % Math.max(n, 1)} of ${n}`);
  return [a, b];
}

/** Unsorted eigenvalues of one symmetric tridiagonal matrix by the WASM QL (not interleaved), for comparison. */
export function wasmTql(d: Float64Array, e: Float64Array): Float64Array | null {
  const n = d.length;
  const vBytes = align16(n * 8);
  const got = instanceWith(2 * vBytes);
  if (!got) return null;
  const { ex, base } = got;
  new Float64Array(ex.memory.buffer, base, n).set(d);
  new Float64Array(ex.memory.buffer, base + vBytes, n).set(e);
  const failed = ex.tql(base, base + vBytes, n);
  const out = new Float64Array(ex.memory.buffer, base, n).slice();
  release();
  if (failed >= 0) throw new Error(`tql: no convergence for eigenvalue ${failed} of ${n}`);
  return out;
}

/** Eigenvalues of the Gram matrices of windows of one matrix, which stays in WASM memory meanwhile. */
export interface WasmWindows {
  /** Eigenvalues (unsorted) of the Gram of the nr × nc window at (r0, c0): k = min(nr, nc) values. */
  eigenvalues(r0: number, c0: number): Float64Array;
  /**
   * The same for the windows at (r0, c0a) and (r0, c0b), computed together: their QL runs are
   * interleaved, which nearly halves QL's share of the time; bit for bit the results of eigenvalues().
   */
  eigenvaluesPair(r0: number, c0a: number, c0b: number): [Float64Array, Float64Array];
  /** Lets the memory go (past WASM_KEEP_BYTES); the object is unusable afterwards. */
  release(): void;
}

/**
 * FARMS's windows through the fused WASM kernel: each window's Gram, tridiagonalization and QL run
 * inside WASM memory with only the k eigenvalues copied out — the same arithmetic as gramOfRows +
 * eigvalsh. W (rows × cols, row-major) goes in one band of nr rows at a time, as float64, so the
 * memory held is nr · cols values, not the whole matrix; windows taken band by band (the FARMS
 * grid order) copy each band once. Null when the memory cannot be had.
 * `sourceTransposed`: `data` holds Wᵀ (cols × rows, row-major), e.g. an [in, out] weight; each band
 * is copied from it as its transpose (cols × nr, contiguous runs of the source) and the kernel
 * reads it transposed, so no transposed copy of the whole matrix, or of a band, is ever made.
 */
export function wasmWindows(
  data: ArrayLike<number>,
  rows: number,
  cols: number,
  nr: number,
  nc: number,
  sourceTransposed = false,
): WasmWindows | null {
  if (data.length < rows * cols) return null;
  const k = Math.min(nr, nc);
  const bandBytes = align16(nr * cols * 8);
  const gBytes = align16(k * k * 8);
  const panelBytes = panelBytesFor(k);
  const vBytes = align16(k * 8);
  const got = instanceWith(bandBytes + gBytes + panelBytes + 6 * vBytes + QL_PAIR_STATE_BYTES);
  if (!got) return null;
  const { ex, base } = got;
  windowsOpen = true;
  const gAt = base + bandBytes;
  const panelAt = gAt + gBytes;
  const dAt = panelAt + panelBytes; // then e, p (2k: tridiagonalize's scratch), d2, e2, the QL pair state
  const eAt = dAt + vBytes;
  const pAt = eAt + vBytes;
  const d2At = pAt + 2 * vBytes;
  const e2At = d2At + vBytes;
  const stAt = e2At + vBytes;
  // The band as the kernel reads it: W's rows r0 .. r0+nr (ld = cols), or their transpose (ld = nr).
  const ld = sourceTransposed ? nr : cols;
  const srcTrans = sourceTransposed ? 1 : 0;
  let open = true;
  let bandRow = -1;
  const check = (r0: number, c0: number): void => {
    if (!open) throw new Error('wasmWindows: used after release()');
    if (r0 < 0 || c0 < 0 || r0 + nr > rows || c0 + nc > cols) {
      throw new RangeError(`wasmWindows: window ${nr} × ${nc} at (${r0}, ${c0}) is outside the ${rows} × ${cols} matrix`);
    }
    if (r0 !== bandRow) {
      const band = new Float64Array(ex.memory.buffer, base, nr * cols);
      if (sourceTransposed) {
        // Row j of the source holds column j of W, and its entries r0 .. r0+nr are contiguous:
        // the band is kept transposed (cols × nr), read in order, and the kernel reads it so.
        if (ArrayBuffer.isView(data) && 'subarray' in data) {
          const src = data as unknown as Float32Array; // or any typed array: subarray and set take them all
          for (let j = 0; j < cols; j++) band.set(src.subarray(j * rows + r0, j * rows + r0 + nr), j * nr);
        } else {
          for (let j = 0; j < cols; j++) {
            const s = j * rows + r0;
            const o = j * nr;
            for (let i = 0; i < nr; i++) band[o + i] = data[s + i]!;
          }
        }
      } else if (ArrayBuffer.isView(data) && 'subarray' in data) {
        band.set((data as unknown as Float64Array).subarray(r0 * cols, (r0 + nr) * cols));
      } else {
        for (let i = 0; i < nr * cols; i++) band[i] = data[r0 * cols + i]!;
      }
      bandRow = r0;
    }
  };
  return {
    eigenvalues(r0: number, c0: number): Float64Array {
      check(r0, c0);
      const failed = ex.windowEigenvalues(base, ld, 0, c0, nr, nc, gAt, panelAt, GRAM_CHUNK, dAt, eAt, pAt, srcTrans);
      if (failed >= 0) throw new Error(`tql: no convergence for eigenvalue ${failed} of ${k}`);
      return new Float64Array(ex.memory.buffer, dAt, k).slice();
    },
    eigenvaluesPair(r0: number, c0a: number, c0b: number): [Float64Array, Float64Array] {
      check(r0, c0a);
      check(r0, c0b);
      const failed = ex.windowPairEigenvalues(base, ld, 0, c0a, c0b, nr, nc, gAt, panelAt, GRAM_CHUNK, dAt, eAt, d2At, e2At, pAt, stAt, srcTrans);
      if (failed >= 0) throw new Error(`tql: no convergence for eigenvalue ${failed % k} of ${k}`);
      return [new Float64Array(ex.memory.buffer, dAt, k).slice(), new Float64Array(ex.memory.buffer, d2At, k).slice()];
    },
    release(): void {
      if (!open) return;
      open = false;
      windowsOpen = false;
      release();
    },
  };
}
