import { CancelledError, UnsupportedError } from '../../base/errors';
import type { Rng } from '../../base/rng';
import { KMEANS_KERNELS_WASM_BASE64 } from './kmeans-kernels-wasm';
import { useWasmKernel, type CpuKernel } from './spectra-kernels';
import { SimdModule } from './simd-module';

const MODULE = new SimdModule(KMEANS_KERNELS_WASM_BASE64);

/**
 * The WebAssembly SIMD k-means kernels (source: kmeans-kernels.as.ts): loading, linear-memory
 * layout and the k-means++ and Lloyd drivers that lib/math/kmeans.ts runs when it picks the WASM
 * kernel. They give the TS path's results (see the .as.ts header), over ten times faster; the TS
 * code stays the reference they are tested against.
 *
 * All of a run's state (the sub-vectors, distances, assignments, bounds) lives in linear memory for
 * the run, so no pass copies anything in or out. Runs that would need more than
 * KMEANS_WASM_MAX_BYTES there, or whose memory the engine refuses, return null and the caller
 * runs the TS path, which needs about as much ordinary memory.
 */

/** Linear memory one k-means run may use (well under the 4 GiB that 32-bit addresses reach). */
export const KMEANS_WASM_MAX_BYTES = 2 ** 31;

/** An instance that grew past this is dropped after the run, so the garbage collector can free its memory. */
export const KMEANS_WASM_KEEP_BYTES = 64 * 2 ** 20;

/** Sub-vectors per search call: the abort signal is checked between calls. */
const SEARCH_CHUNK = 65_536;

/** searchLocal's window (kmeans-kernels.as.ts LOCAL_WINDOW). */
const LOCAL_WINDOW = 4096;

/** Neighbour lists (2 × k × k u32: 8 MiB at this k) up to this k; past it every search screens all k codewords. */
const NEIGHBOUR_MAX_K = 1024;

/** k-means++ keeps the running total every PREFIX_BLOCK sub-vectors, so a draw scans one block. */
const PREFIX_BLOCK = 256;

const PAGE_BYTES = 65_536;

interface Exports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  ppUpdate(x: number, n: number, d: number, cb: number, j: number, dist: number, near: number, dtab: number, prefix: number, block: number, pick: number): number;
  prepare(cb: number, k: number, d: number, cbs: number, cn: number): void;
  search(
    x: number, d: number, list: number, i0: number, m: number, cbs: number, cb: number, cn: number, k: number,
    assign: number, dist: number, lower: number, xs: number,
  ): number;
  moves(
    cbOld: number, cb: number, k: number, d: number, delta: number, s: number, withS: number, out: number, maxd: number, loc: number, nbr: number, len: number,
  ): void;
  searchLocal(
    x: number, d: number, list: number, m: number, sorted: number, starts: number, cbs: number, cb: number, cn: number, k: number,
    nbr: number, len: number, loc: number, assign: number, dist: number, lower: number, xs: number,
  ): number;
  filter(
    x: number, i0: number, i1: number, d: number, cb: number, assign: number, dist: number, lower: number, s: number, mv: number,
    list: number, count: number,
  ): number;
  step(
    x: number, i0: number, i1: number, d: number, cb: number, k: number, assign: number, dist: number, lower: number, s: number, loc: number,
    list: number, count: number,
  ): number;
  sumDist(dist: number, i0: number, i1: number, total: number): number;
  update(x: number, n: number, d: number, k: number, assign: number, dist: number, sums: number, counts: number, cb: number, maxd: number): number;
}

let live: Exports | null = null;
/** A run holds `live` (an onIteration callback may start another k-means: that one gets its own instance). */
let busy = false;

function kernelModule(): WebAssembly.Module | null {
  return MODULE.get();
}

/** Compiles and instantiates the kernels asynchronously (allowed everywhere); resolves to whether they can run. */
export async function loadKmeansKernels(): Promise<boolean> {
  const mod = await MODULE.load();
  if (mod && !live) live = (await WebAssembly.instantiate(mod, {})).exports as unknown as Exports;
  return mod !== null;
}

/** Whether the k-means WASM kernels can run here (WebAssembly SIMD present and the module compiles). */
export function kmeansWasmAvailable(): boolean {
  return kernelModule() !== null;
}

/**
 * Whether a k-means call runs the WASM kernels: 'ts' never, 'wasm' always (throws where it cannot),
 * 'auto' where available; no choice follows the process default of the spectra kernels
 * (setDefaultCpuKernel, e.g. a CLI --kernel flag).
 */
export function useKmeansWasm(kernel?: CpuKernel): boolean {
  if (kernel === 'ts') return false;
  if (kernel === undefined && !useWasmKernel()) return false;
  const ok = kmeansWasmAvailable();
  if (kernel === 'wasm' && !ok) throw new UnsupportedError('no-wasm-simd', 'kmeans: the WebAssembly SIMD kernel was requested, but this JavaScript engine has no WebAssembly SIMD');
  return ok;
}

/** Linear memory the kernels hold between runs (0 when no instance is live): for tests and diagnostics. */
export function kmeansWasmMemoryBytes(): number {
  return live ? live.memory.buffer.byteLength : 0;
}

const align16 = (x: number): number => Math.ceil(x / 16) * 16;

/** Byte offsets of named buffers laid out one after another from the heap base. */
function layout(base: number, sizes: Record<string, number>): { at: Record<string, number>; end: number } {
  const at: Record<string, number> = {};
  let p = base;
  for (const [name, bytes] of Object.entries(sizes)) {
    at[name] = p;
    p += align16(bytes);
  }
  return { at, end: p };
}

interface Held {
  ex: Exports;
  at: Record<string, number>;
  done(): void;
}

/**
 * An instance with the buffers of `sizes` laid out past its heap base, or null when the memory is
 * over KMEANS_WASM_MAX_BYTES, the engine refuses it, or the module cannot run. done() hands it back.
 */
function acquire(sizes: Record<string, number>): Held | null {
  const mod = kernelModule();
  if (!mod) return null;
  let ex: Exports;
  const shared = !busy;
  try {
    ex = shared && live ? live : (new WebAssembly.Instance(mod, {}).exports as unknown as Exports);
  } catch {
    return null; // refused synchronously (a browser's main thread): the caller runs the TS path
  }
  const { at, end } = layout(ex.heapBase(), sizes);
  if (end > KMEANS_WASM_MAX_BYTES) return null;
  const have = ex.memory.buffer.byteLength;
  if (end > have) {
    try {
      ex.memory.grow(Math.ceil((end - have) / PAGE_BYTES));
    } catch {
      if (shared && live === ex) live = null;
      return null; // the engine refused the memory: the caller runs the TS path
    }
  }
  if (shared) {
    live = ex;
    busy = true;
  }
  return {
    ex,
    at,
    done(): void {
      if (!shared) return;
      busy = false;
      if (ex.memory.buffer.byteLength > KMEANS_WASM_KEEP_BYTES) live = null;
    },
  };
}

/**
 * k-means++ seeding by the WASM kernel: the draws of the TS kmeansPlusPlus (the same Rng calls and
 * float64 distances; the running sums agree to rounding, see ppUpdate), so the same codebook but
 * for a draw within rounding of a boundary; null when the memory cannot be had (nothing is drawn
 * from rng then). Arguments are checked by the caller.
 */
export function wasmKmeansPlusPlus(x: Float32Array, n: number, d: number, k: number, rng: Rng, signal?: AbortSignal): Float32Array | null {
  const blocks = Math.ceil(n / PREFIX_BLOCK);
  const held = acquire({ x: n * d * 4, dist: n * 8, near: n * 4, cb: k * d * 4, dtab: k * 8, prefix: blocks * 8, pick: PREFIX_BLOCK * 4 });
  if (!held) return null;
  const { ex, at } = held;
  try {
    const buf = ex.memory.buffer;
    const xs = new Float32Array(buf, at.x!, n * d);
    xs.set(x.subarray(0, n * d));
    const dist = new Float64Array(buf, at.dist!, n).fill(Infinity);
    new Uint32Array(buf, at.near!, n).fill(0);
    const cb = new Float32Array(buf, at.cb!, k * d);
    const prefix = new Float64Array(buf, at.prefix!, blocks);
    let c = rng.int(n);
    for (let j = 0; j < k; j++) {
      if (signal?.aborted) throw new CancelledError();
      cb.set(xs.subarray(c * d, c * d + d), j * d);
      if (j === k - 1) break;
      const total = ex.ppUpdate(at.x!, n, d, at.cb!, j, at.dist!, at.near!, at.dtab!, at.prefix!, PREFIX_BLOCK, at.pick!);
      c = total > 0 ? draw(rng.next() * total, dist, prefix, n) : rng.int(n);
    }
    return cb.slice();
  } finally {
    held.done();
  }
}

/**
 * The TS draw (the first sub-vector whose running sum of positive distances exceeds r; the last
 * positive one when rounding leaves r unreached), found through the block sums: the first block
 * whose running sum exceeds r, then the TS scan within it from the sum before it. The block sums
 * are added in another order than the TS running sum (see ppUpdate), so where the scan ends short of
 * r by rounding, the block's last positive sub-vector is taken.
 */
function draw(r: number, dist: Float64Array, prefix: Float64Array, n: number): number {
  let lo = 0;
  let hi = prefix.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (prefix[mid]! > r) hi = mid;
    else lo = mid + 1;
  }
  if (lo < prefix.length) {
    let acc = lo > 0 ? prefix[lo - 1]! : 0;
    let last = -1;
    const i1 = Math.min(n, (lo + 1) * PREFIX_BLOCK);
    for (let i = lo * PREFIX_BLOCK; i < i1; i++) {
      const w = dist[i]!;
      if (w <= 0) continue;
      last = i;
      acc += w;
      if (acc > r) return i;
    }
    if (last >= 0) return last;
  }
  for (let i = n - 1; i > 0; i--) if (!(dist[i]! <= 0)) return i;
  return 0;
}

/** When set (tests, benchmarks), each Lloyd iteration appends how many sub-vectors it searched. */
let debugSearched: number[] | null = null;

/** Starts (with an array) or stops (null) recording how many sub-vectors each Lloyd iteration searches. */
export function recordKmeansSearches(into: number[] | null): void {
  debugSearched = into;
}

export interface WasmLloydResult {
  codebook: Float32Array;
  assign: Uint32Array;
  objective: number;
  iterations: number;
  objectiveHistory: number[];
}

/**
 * Lloyd iterations by the WASM kernels with the TS lloyd's contract (same updates, empty-cluster
 * rule, objectives, history, callbacks and stopping rule); null when the memory cannot be had or
 * `initial` holds fewer than k · d values. Arguments are checked by the caller.
 */
export function wasmLloyd(
  x: Float32Array,
  n: number,
  d: number,
  k: number,
  initial: Float32Array,
  maxIter: number,
  tol: number,
  signal?: AbortSignal,
  onIteration?: (it: number, objective: number) => void,
): WasmLloydResult | null {
  if (initial.length < k * d) return null;
  // The k² pass over codeword pairs (Hamerly's half-distances, the local moves) costs about
  // k·d/2 per codeword pair; worth it unless k is close to n.
  const local = k * 8 <= n;
  // Neighbour lists (2 × k × k u32) for the searches after the first, while they stay small.
  const lists = local && k <= NEIGHBOUR_MAX_K;
  const held = acquire({
    x: n * d * 4, assign: n * 4, dist: n * 8, lower: n * 8, list: n * 4,
    cb: k * d * 4, cbOld: k * d * 4, cbs: k * (d + 1) * 4, cn: k * 8, delta: k * 8, s: k * 8, sums: k * d * 8, counts: k * 4,
    mv: 24, xs: 48 + 16 * d, maxd: local ? k * 8 : 0, loc: local ? 7 * k * 8 : 0,
    nbr: lists ? 2 * k * k * 4 : 0, len: lists ? 2 * k * 4 : 0, sorted: lists ? LOCAL_WINDOW * 4 : 0, starts: lists ? (2 * k + 1) * 4 : 0,
  });
  if (!held) return null;
  const { ex, at } = held;
  try {
    const buf = ex.memory.buffer;
    new Float32Array(buf, at.x!, n * d).set(x.subarray(0, n * d));
    const cb = new Float32Array(buf, at.cb!, k * d);
    cb.set(initial.subarray(0, k * d));
    const cbOld = new Float32Array(buf, at.cbOld!, k * d);

    /** The full search of `count` sub-vectors: list[0 ..) or, when list is 0, all of 0 .. count. */
    const search = (list: number, count: number): void => {
      for (let g = 0; g < count; g += SEARCH_CHUNK) {
        if (signal?.aborted) throw new CancelledError();
        const m = Math.min(SEARCH_CHUNK, count - g);
        if (list) ex.search(at.x!, d, list + 4 * g, 0, m, at.cbs!, at.cb!, at.cn!, k, at.assign!, at.dist!, at.lower!, at.xs!);
        else ex.search(at.x!, d, 0, g, m, at.cbs!, at.cb!, at.cn!, k, at.assign!, at.dist!, at.lower!, at.xs!);
      }
    };

    ex.prepare(at.cb!, k, d, at.cbs!, at.cn!);
    search(0, n);
    let objective = ex.sumDist(at.dist!, 0, n, 0);
    const objectiveHistory = [objective];
    onIteration?.(0, objective);
    let iterations = 0;
    while (iterations < maxIter) {
      if (signal?.aborted) throw new CancelledError();
      cbOld.set(cb);
      ex.update(at.x!, n, d, k, at.assign!, at.dist!, at.sums!, at.counts!, at.cb!, local ? at.maxd! : 0);
      ex.moves(
        at.cbOld!, at.cb!, k, d, at.delta!, at.s!, local ? 1 : 0, at.mv!,
        local ? at.maxd! : 0, local ? at.loc! : 0, lists ? at.nbr! : 0, lists ? at.len! : 0,
      );
      ex.prepare(at.cb!, k, d, at.cbs!, at.cn!);
      // Which sub-vectors may have a new nearest codeword (Hamerly's test), then their search:
      // near their codeword where the neighbour lists exist, else over all k.
      let m = 0;
      for (let i0 = 0; i0 < n; i0 += SEARCH_CHUNK) {
        if (signal?.aborted) throw new CancelledError();
        const i1 = Math.min(n, i0 + SEARCH_CHUNK);
        if (local) m = ex.step(at.x!, i0, i1, d, at.cb!, k, at.assign!, at.dist!, at.lower!, at.s!, at.loc!, at.list!, m);
        else m = ex.filter(at.x!, i0, i1, d, at.cb!, at.assign!, at.dist!, at.lower!, at.s!, at.mv!, at.list!, m);
      }
      if (lists) {
        for (let g = 0; g < m; g += SEARCH_CHUNK) {
          if (signal?.aborted) throw new CancelledError();
          const list = at.list! + 4 * g;
          const c = Math.min(SEARCH_CHUNK, m - g);
          ex.searchLocal(at.x!, d, list, c, at.sorted!, at.starts!, at.cbs!, at.cb!, at.cn!, k, at.nbr!, at.len!, at.loc!, at.assign!, at.dist!, at.lower!, at.xs!);
        }
      } else {
        search(at.list!, m);
      }
      if (debugSearched) debugSearched.push(m);
      iterations++;
      const prev = objective;
      objective = ex.sumDist(at.dist!, 0, n, 0);
      objectiveHistory.push(objective);
      onIteration?.(iterations, objective);
      if (prev - objective <= tol * prev) break;
    }
    return {
      codebook: cb.slice(),
      assign: new Uint32Array(buf, at.assign!, n).slice(),
      objective,
      iterations,
      objectiveHistory,
    };
  } finally {
    held.done();
  }
}
