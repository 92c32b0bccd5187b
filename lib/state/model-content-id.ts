import type { ModelSpec, OpenModelResult } from '../jobs/job-types';

/**
 * What identifies a model's bytes, for keying stored results (result-cache.ts): not the tab id
 * (m1, new every page load) nor a demo id or URL alone (the file behind a URL can change), but
 *
 * - the structure the worker read: format, total bytes, every tensor's name, dtype, shape, size
 *   and file, and the format metadata;
 * - for every file that makes up the model, its size and a SHA-256 of its first and last
 *   SAMPLE_BYTES (the header, and the last tensors' values). Local files add their modification
 *   time; URLs add the server's ETag and Last-Modified when it sends them. A URL model's files
 *   are read with two small Range requests each (the primary file, plus shards or external data).
 *
 * A fine-tune with the same architecture differs in the sampled weight bytes (and, on Hugging
 * Face, in the ETag, which is the file's SHA-256), so it gets its own results. Two byte-identical
 * copies of a file share them. When the identity cannot be established (too many files, a
 * server that refuses the Range request, no WebCrypto outside a secure context), it is null and
 * nothing is stored or restored for that model.
 */

/** Bytes hashed at each end of every file. */
export const SAMPLE_BYTES = 65_536;

/** Models made of more files than this (a huge sharded checkpoint, or a folder of unrelated files) are not persisted. */
export const MAX_IDENTITY_FILES = 64;

/** Giving up on the identity (a stalled server) after this long: the results are then just not stored. */
export const IDENTITY_TIMEOUT_MS = 15_000;

const HEX_DIGITS = 32;

async function sha256Hex(parts: readonly (Uint8Array | string)[]): Promise<string> {
  const enc = new TextEncoder();
  const chunks = parts.map((p) => (typeof p === 'string' ? enc.encode(p) : p));
  const all = new Uint8Array(chunks.reduce((s, c) => s + c.byteLength, 0));
  let o = 0;
  for (const c of chunks) {
    all.set(c, o);
    o += c.byteLength;
  }
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', all));
  return Array.from(d.subarray(0, HEX_DIGITS / 2), (x) => x.toString(16).padStart(2, '0')).join('');
}

/** The (start, end) byte ranges sampled from a file of `size` bytes: the head, and the tail when it does not overlap. */
export function sampleRanges(size: number): [number, number][] {
  const head: [number, number] = [0, Math.min(size, SAMPLE_BYTES)];
  if (size <= SAMPLE_BYTES) return [head];
  return [head, [Math.max(SAMPLE_BYTES, size - SAMPLE_BYTES), size]];
}

/** The model's structure, as the worker read it: a fingerprint of the tensor table and metadata. */
export function structureLine(info: Pick<OpenModelResult, 'format' | 'totalBytes' | 'tensors' | 'metadata'>): string {
  const tensors = info.tensors.map((t) => [t.name, t.dtype, t.shape.join('x'), t.byteLength, t.file ?? ''].join(','));
  return JSON.stringify([info.format, info.totalBytes, tensors, info.metadata]);
}

async function localFileLine(path: string, file: File): Promise<string> {
  const parts = await Promise.all(sampleRanges(file.size).map(([a, b]) => file.slice(a, b).arrayBuffer().then((x) => new Uint8Array(x))));
  return ['file', path, file.size, file.lastModified, await sha256Hex(parts)].join('\t');
}

async function rangeRead(url: string, a: number, b: number, signal: AbortSignal): Promise<Response> {
  const res = await fetch(url, { headers: { Range: `bytes=${a}-${b - 1}` }, signal, cache: 'no-store' });
  if (res.status !== 206) {
    await res.body?.cancel();
    throw new Error(`${url}: expected HTTP 206 for a range, got ${res.status}`);
  }
  return res;
}

async function urlLine(url: string, signal: AbortSignal): Promise<string> {
  const first = await rangeRead(url, 0, SAMPLE_BYTES, signal);
  const total = Number(/\/(\d+)\s*$/.exec(first.headers.get('content-range') ?? '')?.[1] ?? NaN);
  if (!Number.isSafeInteger(total)) throw new Error(`${url}: no total size in Content-Range`);
  const etag = first.headers.get('etag') ?? '';
  const modified = first.headers.get('last-modified') ?? '';
  const parts = [new Uint8Array(await first.arrayBuffer())];
  const tail = sampleRanges(total)[1];
  if (tail) parts.push(new Uint8Array(await (await rangeRead(url, tail[0], tail[1], signal)).arrayBuffer()));
  return ['url', url, total, etag, modified, await sha256Hex(parts)].join('\t');
}

/** The URLs whose bytes make up a URL model: the primary, plus shards or ONNX external data files, resolved next to it. */
export function urlFilesOf(url: string, info: Pick<OpenModelResult, 'format' | 'tensors'>): string[] {
  const out = new Set([url]);
  if (info.format === 'safetensors-sharded' || info.format === 'onnx') {
    for (const t of info.tensors) if (t.file) out.add(new URL(t.file, url).href);
  }
  return [...out].sort();
}

/**
 * Single-file formats whose bytes are all in the one file: a model referenced by URL without being
 * opened on this page (the Merge view's demo models) is identified by that file alone.
 */
const SELF_CONTAINED = /\.(safetensors|gguf|npy|npz|pt|pth|bin)$/i;

/**
 * Computes the identity, or null when it cannot be established. `info` is what the worker read
 * when the model was opened on this page; without it (a model the page references but has not
 * opened), local files are still identified by their bytes, and a URL only when it names a
 * self-contained single file (not a shard index, nor ONNX that may have external data).
 */
export async function computeContentIdentity(spec: ModelSpec, info: OpenModelResult | null): Promise<string | null> {
  if (typeof crypto === 'undefined' || !crypto.subtle) return null;
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), IDENTITY_TIMEOUT_MS);
  try {
    let lines: string[];
    if (spec.kind === 'files') {
      if (spec.files.length > MAX_IDENTITY_FILES) return null;
      const files = [...spec.files].sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
      lines = await Promise.all(files.map((f) => localFileLine(f.path, f.file)));
      lines.unshift(`primary\t${spec.primary}`);
    } else {
      let path = spec.url;
      try {
        path = new URL(spec.url).pathname;
      } catch {
        return null;
      }
      if (!info && !SELF_CONTAINED.test(path)) return null;
      const urls = info ? urlFilesOf(spec.url, info) : [spec.url];
      if (urls.length > MAX_IDENTITY_FILES) return null;
      lines = await Promise.all(urls.map((u) => urlLine(u, ctrl.signal)));
    }
    const kind = spec.kind === 'files' ? 'f' : 'u';
    return `${kind}:${await sha256Hex([info ? structureLine(info) : 'unopened', '\n', lines.join('\n')])}`;
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
  }
}

const identities = new WeakMap<ModelSpec, Promise<string | null>>();
const unopened = new Map<string, Promise<string | null>>();

/**
 * The identity of a model, computed once per opened spec (the same spec object for the model's
 * whole life) or, for a model not opened on this page, once per URL per page load.
 */
export function contentIdentity(spec: ModelSpec, info: OpenModelResult | null): Promise<string | null> {
  if (!info && spec.kind === 'url') {
    let p = unopened.get(spec.url);
    if (!p) {
      p = computeContentIdentity(spec, null);
      unopened.set(spec.url, p);
    }
    return p;
  }
  let p = identities.get(spec);
  if (!p) {
    p = computeContentIdentity(spec, info);
    if (info) identities.set(spec, p);
  }
  return p;
}
