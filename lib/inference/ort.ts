import * as ort from 'onnxruntime-web';
import { FormatError } from '../base/errors';
import { hasWebGPU } from '../platform/has-webgpu';
import { isNode } from '../platform/is-node';

/**
 * The only importer of onnxruntime-web. Everything else in WeightLens talks to an
 * `InferenceSession` made here, in plain typed arrays, so the runtime (and how its wasm files are
 * found) stays in one file.
 */

export type Provider = 'webgpu' | 'wasm';

export interface FeedTensor {
  data: Float32Array | Int32Array | BigInt64Array | Uint8Array;
  dims: readonly number[];
}

export interface OutputTensor {
  data: Float32Array;
  dims: number[];
}

export interface InferenceSession {
  /** The execution provider the session was created with: reported with every result. */
  readonly provider: Provider;
  /** Why WebGPU was not used although asked for (no API, adapter refused, session failed). */
  readonly providerNote?: string;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Runs the graph; `fetch` limits which outputs are computed and returned (default all). */
  run(feeds: Record<string, FeedTensor>, fetch?: readonly string[]): Promise<Record<string, OutputTensor>>;
  release(): Promise<void>;
}

export interface SessionOptions {
  /** Force the wasm (CPU) provider even when WebGPU is there. */
  forceCpu?: boolean;
  /** Use WebGPU even on a software adapter (SwiftShader), where wasm is faster: for comparing providers. */
  forceGpu?: boolean;
  /** Name of the graph file, for error messages. */
  file?: string;
}

/** SwiftShader, llvmpipe, WARP and other CPU-emulated adapters: slower than onnxruntime's wasm. */
export function isSoftwareAdapter(description: string): boolean {
  return /swiftshader|llvmpipe|software|fallback|microsoft basic render/i.test(description);
}

let adapterGiven = false;

/** Why WebGPU cannot be used, or null when an adapter is there (a software one only with forceGpu). */
async function webgpuRefusal(forceGpu: boolean): Promise<string | null> {
  if (!hasWebGPU()) return 'no WebGPU API in this browser';
  try {
    const gpu = (navigator as Navigator & { gpu: GPU }).gpu;
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return 'no WebGPU adapter granted';
    const info = adapter.info;
    const description = [info?.vendor, info?.architecture, info?.description].filter((x) => x).join(' ') || 'WebGPU adapter';
    const fallback = (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
    if ((fallback || isSoftwareAdapter(description)) && !forceGpu) return `software WebGPU adapter (${description}): wasm is faster`;
    // The same adapter for onnxruntime, so the one checked is the one used; onnxruntime reads it
    // once, when its WebGPU backend starts, so later sessions keep the first.
    if (!adapterGiven) {
      adapterGiven = true;
      try {
        ort.env.webgpu.adapter = adapter as unknown as typeof ort.env.webgpu.adapter;
      } catch {
        // an onnxruntime that refuses the setter picks its own adapter: the same default one
      }
    }
    return null;
  } catch (e) {
    return `WebGPU adapter request failed: ${e instanceof Error ? e.message : String(e)}`;
  }
}

/**
 * Where the browser finds ort-wasm-simd-threaded.jsep.{wasm,mjs}: scripts/prepare-demo.mjs copies
 * them to public/ort/, because bundlers do not follow onnxruntime's runtime `fetch` of its wasm.
 */
export const ORT_PUBLIC_PATH = '/ort/';

let configured = false;

function configure(): void {
  if (configured) return;
  configured = true;
  if (isNode()) {
    // Node: the package's own files; threads would spawn worker_threads per session for no gain on tiny graphs.
    ort.env.wasm.numThreads = 1;
    return;
  }
  const g = globalThis as { location?: { origin?: string }; crossOriginIsolated?: boolean; navigator?: { hardwareConcurrency?: number } };
  const origin = g.location?.origin;
  ort.env.wasm.wasmPaths = origin && origin !== 'null' ? `${origin}${ORT_PUBLIC_PATH}` : ORT_PUBLIC_PATH;
  // Already inside the inference worker: proxying would start yet another worker.
  ort.env.wasm.proxy = false;
  // Threads need SharedArrayBuffer, which only a cross-origin-isolated page has.
  ort.env.wasm.numThreads = g.crossOriginIsolated ? Math.max(1, Math.min(4, g.navigator?.hardwareConcurrency ?? 1)) : 1;
}

/** Overrides where the wasm files are fetched from (other hosts, tests in a browser). */
export function setOrtWasmPaths(prefix: string): void {
  configure();
  ort.env.wasm.wasmPaths = prefix;
}

/**
 * A session from model bytes. WebGPU is tried on its own first (so the provider that runs is
 * known, not guessed from a silent fallback), then wasm.
 */
export function createSession(bytes: Uint8Array, opts: SessionOptions = {}): Promise<InferenceSession> {
  return serial(() => createNow(bytes, opts));
}

/**
 * onnxruntime-web calls run one at a time: it refuses a create while its wasm runtime initialises
 * ("multiple calls to 'initWasm()'") and, on WebGPU, a run while another session's run is in
 * flight ("Session already started"). Concurrent jobs interleave here, batch by batch.
 */
let queue: Promise<unknown> = Promise.resolve();
function serial<T>(fn: () => Promise<T>): Promise<T> {
  const next = queue.then(fn);
  queue = next.catch(() => undefined);
  return next;
}

async function createNow(bytes: Uint8Array, opts: SessionOptions): Promise<InferenceSession> {
  configure();
  const file = opts.file ?? 'model.onnx';
  let note: string | undefined;
  if (!opts.forceCpu && !isNode()) {
    const refusal = await webgpuRefusal(opts.forceGpu ?? false);
    if (refusal) note = refusal;
    else {
      try {
        const s = await ort.InferenceSession.create(bytes, { executionProviders: ['webgpu'], graphOptimizationLevel: 'all' });
        return wrap(s, 'webgpu', undefined);
      } catch (e) {
        note = `WebGPU session failed: ${e instanceof Error ? e.message : String(e)}`;
      }
    }
  }
  try {
    const s = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
    return wrap(s, 'wasm', opts.forceCpu ? 'CPU forced' : note);
  } catch (e) {
    throw new FormatError('bad-header', `${file}: onnxruntime could not load the graph: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function toOrt(name: string, t: FeedTensor): ort.Tensor {
  const dims = [...t.dims];
  if (t.data instanceof Float32Array) return new ort.Tensor('float32', t.data, dims);
  if (t.data instanceof Int32Array) return new ort.Tensor('int32', t.data, dims);
  if (t.data instanceof BigInt64Array) return new ort.Tensor('int64', t.data, dims);
  if (t.data instanceof Uint8Array) return new ort.Tensor('uint8', t.data, dims);
  throw new TypeError(`feed "${name}": unsupported array type`);
}

function wrap(s: ort.InferenceSession, provider: Provider, providerNote: string | undefined): InferenceSession {
  return {
    provider,
    providerNote,
    inputNames: s.inputNames,
    outputNames: s.outputNames,
    run: (feeds, fetch) => serial(async () => {
      const ortFeeds: Record<string, ort.Tensor> = {};
      for (const [k, v] of Object.entries(feeds)) ortFeeds[k] = toOrt(k, v);
      const res = fetch ? await s.run(ortFeeds, [...fetch]) : await s.run(ortFeeds);
      const out: Record<string, OutputTensor> = {};
      for (const [k, v] of Object.entries(res)) {
        // getData downloads GPU-resident outputs; float graphs give Float32Array, others are converted.
        const raw = (await v.getData()) as ArrayLike<number | bigint>;
        const data = raw instanceof Float32Array ? raw : Float32Array.from(raw as ArrayLike<number>, Number);
        out[k] = { data, dims: [...v.dims] };
        v.dispose();
      }
      return out;
    }),
    release: () => serial(() => s.release()),
  };
}
