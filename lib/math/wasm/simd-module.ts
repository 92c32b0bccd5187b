import { hasWasmSimd } from '../../platform/has-wasm-simd';

function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * A committed WebAssembly SIMD module (base64), compiled once per realm: synchronously on first
 * use, because the kernels' callers are synchronous, or asynchronously by load(). Some browsers
 * refuse synchronous compiles of modules over a few KiB on the main thread (older Chrome: 4 KiB;
 * workers have no such limit): there, get() answers null until load() has run, and the caller
 * runs its TS kernel. null also where the realm lacks WASM SIMD.
 */
export class SimdModule {
  /** undefined: not compiled yet; null: cannot run in this realm. */
  private compiled: WebAssembly.Module | null | undefined;
  /** A synchronous compile was refused: only load() can compile. */
  private syncRefused = false;

  constructor(private readonly base64: string) {}

  get(): WebAssembly.Module | null {
    if (this.compiled === undefined && !this.syncRefused) {
      if (!hasWasmSimd()) {
        this.compiled = null;
      } else {
        try {
          this.compiled = new WebAssembly.Module(decodeBase64(this.base64));
        } catch {
          this.syncRefused = true;
        }
      }
    }
    return this.compiled ?? null;
  }

  /** Compiles asynchronously (allowed everywhere). */
  async load(): Promise<WebAssembly.Module | null> {
    if (this.compiled === undefined) {
      try {
        this.compiled = hasWasmSimd() ? await WebAssembly.compile(decodeBase64(this.base64)) : null;
      } catch {
        this.compiled = null;
      }
    }
    return this.compiled;
  }
}
