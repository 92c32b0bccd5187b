import { FormatError, CancelledError } from '../base/errors';
import { fmtBytes } from '../base/assert';

/**
 * Where bytes come from: a Blob (file picker, drag and drop), an HTTP server answering Range
 * requests, a Node file handle, or memory (tests). Readers never see which, and never ask for
 * the whole file.
 */
export interface ByteSource {
  /** File name (or path relative to the opened folder), used in every error message. */
  readonly name: string;
  /** Total size in bytes. */
  readonly size: number;
  /** Exactly `length` bytes from `offset`; throws FormatError('truncated') past the end. */
  read(offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array>;
}

/**
 * A model as the user opened it: one file, a folder (sharded safetensors, ONNX with external
 * data) or a URL. `primary` is the file the format is sniffed from; `resolve` finds a sibling
 * by a path relative to the primary file's folder (shards, external data files).
 */
export interface ModelInput {
  /** Display name: the file, folder or URL the user opened. */
  readonly label: string;
  readonly primary: ByteSource;
  /** Every file the user gave (a dropped folder); at least `primary`. */
  readonly files: readonly ByteSource[];
  resolve(relativePath: string): Promise<ByteSource | undefined>;
}

export function checkRange(src: { name: string; size: number }, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new FormatError('bad-offsets', `${src.name}: invalid byte range ${offset}+${length}`);
  }
  if (offset + length > src.size) {
    throw new FormatError(
      'truncated',
      `${src.name}: needs bytes ${fmtBytes(offset)}..${fmtBytes(offset + length)}, file has ${fmtBytes(src.size)}`,
    );
  }
}

function checkSignal(signal?: AbortSignal): void {
  if (signal?.aborted) throw new CancelledError();
}

export function memorySource(bytes: Uint8Array, name: string): ByteSource {
  return {
    name,
    size: bytes.byteLength,
    async read(offset, length, signal) {
      checkSignal(signal);
      checkRange(this, offset, length);
      return bytes.subarray(offset, offset + length);
    },
  };
}

export function blobSource(blob: Blob, name: string): ByteSource {
  return {
    name,
    size: blob.size,
    async read(offset, length, signal) {
      checkSignal(signal);
      checkRange(this, offset, length);
      const buf = await blob.slice(offset, offset + length).arrayBuffer();
      checkSignal(signal);
      return new Uint8Array(buf);
    },
  };
}

/** Normalises "a/./b/../c" to "a/c"; refuses to climb above the root. */
export function normalizePath(p: string): string {
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) return '';
      out.pop();
    } else out.push(part);
  }
  return out.join('/');
}

export function dirname(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? '' : p.slice(0, i);
}

/** A model from in-memory or Blob files keyed by relative path (folder drop, tests). */
export function modelFromSources(sources: readonly ByteSource[], primary: ByteSource, label = primary.name): ModelInput {
  const byPath = new Map(sources.map((s) => [normalizePath(s.name), s]));
  const base = dirname(normalizePath(primary.name));
  return {
    label,
    primary,
    files: sources,
    async resolve(rel) {
      const key = normalizePath(base ? `${base}/${rel}` : rel);
      return byPath.get(key) ?? byPath.get(normalizePath(rel));
    },
  };
}

export function singleFileModel(src: ByteSource): ModelInput {
  return modelFromSources([src], src);
}
