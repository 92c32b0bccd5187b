import type { ModelSpec } from '../jobs/job-types';

/**
 * What a permalink says about the model it came from, so a fresh tab can re-open it: a demo's id,
 * the URL of a model opened from a URL, or — for local files, which a page cannot open by itself —
 * `file:<name>:<size>:<hash>`, where hash is SHA-256 (first 16 hex digits) of the primary file's
 * first HEADER_HASH_BYTES. A user re-opening the permalink is asked for the same file, and the
 * size and header hash must match before any result is shown.
 */

export const HEADER_HASH_BYTES = 65_536;

export interface FileIdentity {
  name: string;
  size: number;
  hash: string;
}

const hashes = new WeakMap<Blob, Promise<string>>();

/** SHA-256 of the first 64 KB (the header of every format WeightLens reads), 16 hex digits. */
export function headerHash(file: Blob): Promise<string> {
  let p = hashes.get(file);
  if (!p) {
    p = file
      .slice(0, HEADER_HASH_BYTES)
      .arrayBuffer()
      .then((b) => crypto.subtle.digest('SHA-256', b))
      .then((d) => Array.from(new Uint8Array(d).subarray(0, 8), (x) => x.toString(16).padStart(2, '0')).join(''));
    hashes.set(file, p);
  }
  return p;
}

export function formatFileIdentity(id: FileIdentity): string {
  return `file:${encodeURIComponent(id.name)}:${id.size}:${id.hash}`;
}

export function parseFileIdentity(s: string): FileIdentity | null {
  const m = /^file:([^:]+):(\d+):([0-9a-f]{16})$/.exec(s);
  return m ? { name: decodeURIComponent(m[1]!), size: Number(m[2]), hash: m[3]! } : null;
}

export function isModelUrl(s: string): boolean {
  return /^https?:\/\//i.test(s);
}

/** The primary file of a local model spec (its size and header identify the model). */
export function primaryFile(spec: ModelSpec): File | null {
  if (spec.kind !== 'files') return null;
  return spec.files.find((f) => f.path === spec.primary)?.file ?? null;
}

export async function fileIdentityOf(spec: ModelSpec): Promise<FileIdentity | null> {
  const f = primaryFile(spec);
  if (!f || spec.kind !== 'files') return null;
  return { name: spec.primary.split('/').pop() ?? spec.primary, size: f.size, hash: await headerHash(f) };
}

/** Checks a file a user picked against a permalink's identity; null when it is the same file, else why not. */
export async function sameFileProblem(file: File, want: FileIdentity): Promise<string | null> {
  if (file.size !== want.size) return `${file.name} is ${file.size} bytes; the permalink was made from ${want.name} of ${want.size} bytes`;
  const h = await headerHash(file);
  if (h !== want.hash) return `${file.name} has the same size but a different header (hash ${h}, permalink ${want.hash}): not the same model`;
  return null;
}
