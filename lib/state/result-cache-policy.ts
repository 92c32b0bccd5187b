import type { QuantLayerResult, QuantLayerSummary, SpectraLayerResult, MergeAnalysis } from '../jobs/job-types';

/**
 * The pure half of the stored-results cache (result-cache.ts holds the IndexedDB half): record
 * keys, the size estimate, the least-recently-used eviction plan, and the checks a record read
 * back from the browser's storage must pass before any view sees it. Everything read from
 * IndexedDB is untrusted: another version of the app, a browser extension or a hand edit in the
 * devtools may have left anything there, and an entry that fails a check is deleted and
 * recomputed, never shown.
 */

/** Bumped whenever a stored result's shape or meaning changes: records of another version are ignored and deleted. */
export const RESULT_SCHEMA_VERSION = 1;

/** Everything stored together stays under this; the least recently used records go first. */
export const STORED_RESULTS_MAX_BYTES = 256 * 2 ** 20;

/** A single result larger than this is not stored (it would push out everything else). */
export const STORED_ENTRY_MAX_BYTES = 64 * 2 ** 20;

/** After a quota error, records are evicted down to this fraction of what is stored, and the write is tried once more. */
export const QUOTA_EVICT_FRACTION = 0.5;

/** Deepest nesting a stored value may have (ours are about 5 deep); deeper is treated as corrupt. */
export const MAX_STORED_DEPTH = 16;

/** Longest model label kept with a record (a URL can be long; a longer one read back is treated as corrupt). */
export const MAX_LABEL_CHARS = 500;

/** What kind of result a record holds. */
export type StoredKind = 'spectra-layer' | 'quant-preview' | 'quant-sweep' | 'merge';

export const STORED_KINDS: readonly StoredKind[] = ['spectra-layer', 'quant-preview', 'quant-sweep', 'merge'];

/** What a record is of: the model's content identity, the job kind, the settings, and the tensor when per tensor. */
export interface StoredAddress {
  /** Content identity of the model (model-content-id.ts); for a merge, the models' identities joined. */
  model: string;
  kind: StoredKind;
  /** The settings that determine the numbers (including the backend choice). */
  settings: string;
  /** The tensor for per-tensor results, '' otherwise. */
  part: string;
}

/** The small index record kept for every stored result (listing, eviction and clearing read only these). */
export interface StoredMeta extends StoredAddress {
  key: string;
  /** model|kind|settings: all records of one run (every layer of a Spectra run). */
  group: string;
  schema: number;
  /** A name to show in the list of stored models (the model's label when it was stored). */
  label: string;
  /** Estimated size of the value, bytes. */
  bytes: number;
  storedAt: number;
  usedAt: number;
}

/** Separator that cannot occur in an identity or a settings key written by this app. */
const SEP = '\u241f';

export function groupKey(a: Omit<StoredAddress, 'part'>): string {
  return [a.model, a.kind, a.settings].join(SEP);
}

export function storedKey(a: StoredAddress): string {
  return [groupKey(a), a.part].join(SEP);
}

/**
 * Bytes a value takes, roughly: typed arrays by their byte length, strings two bytes a character,
 * numbers eight, plus a little per object. Returns Infinity for what cannot be stored (functions,
 * cycles, nesting beyond MAX_STORED_DEPTH).
 */
export function estimateBytes(value: unknown): number {
  const seen = new Set<object>();
  const walk = (v: unknown, depth: number): number => {
    if (v === null || v === undefined || typeof v === 'boolean') return 4;
    if (typeof v === 'number') return 8;
    if (typeof v === 'string') return 2 * v.length + 8;
    if (typeof v !== 'object') return Infinity;
    if (ArrayBuffer.isView(v)) return v.byteLength + 32;
    if (depth > MAX_STORED_DEPTH || seen.has(v)) return Infinity;
    seen.add(v);
    let n = 32;
    if (Array.isArray(v)) {
      for (const x of v) n += walk(x, depth + 1);
    } else {
      for (const [k, x] of Object.entries(v)) n += 2 * k.length + walk(x, depth + 1);
    }
    seen.delete(v);
    return n;
  };
  return walk(value, 0);
}

/**
 * Which records to delete so that `incoming` more bytes fit under `maxBytes`: records of another
 * schema version first, then the least recently used. `keep` (the key being written) is never
 * chosen. Returns the keys, oldest first.
 */
export function planEviction(metas: readonly Pick<StoredMeta, 'key' | 'bytes' | 'usedAt' | 'schema'>[], incoming: number, maxBytes: number, keep?: string): string[] {
  const out: string[] = [];
  let total = 0;
  const live: Pick<StoredMeta, 'key' | 'bytes' | 'usedAt'>[] = [];
  for (const m of metas) {
    if (m.key === keep) continue;
    const bytes = Number.isFinite(m.bytes) && m.bytes > 0 ? m.bytes : 0;
    if (m.schema !== RESULT_SCHEMA_VERSION) out.push(m.key);
    else {
      live.push({ key: m.key, bytes, usedAt: Number.isFinite(m.usedAt) ? m.usedAt : 0 });
      total += bytes;
    }
  }
  live.sort((a, b) => a.usedAt - b.usedAt || (a.key < b.key ? -1 : 1));
  for (const m of live) {
    if (total + incoming <= maxBytes) break;
    out.push(m.key);
    total -= m.bytes;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Checks of records read back. Each returns null when the value is usable, else why not.

type Obj = Record<string, unknown>;

function isPlainObject(v: unknown): v is Obj {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || ArrayBuffer.isView(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

const isNum = (v: unknown): v is number => typeof v === 'number';
const isFiniteNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isStr = (v: unknown): v is string => typeof v === 'string';
const isNumOrNull = (v: unknown) => v === null || isNum(v);

function fields(o: unknown, spec: Record<string, (v: unknown) => boolean>, what: string): string | null {
  if (!isPlainObject(o)) return `${what} is not an object`;
  for (const [k, ok] of Object.entries(spec)) if (!ok(o[k])) return `${what}.${k} is missing or of the wrong type`;
  return null;
}

/** Checks the meta record read from the index store. */
export function checkMeta(m: unknown): string | null {
  const bad = fields(m, { key: isStr, group: isStr, model: isStr, kind: (v) => STORED_KINDS.includes(v as StoredKind), settings: isStr, part: isStr, schema: isNum, label: isStr, bytes: isFiniteNum, storedAt: isFiniteNum, usedAt: isFiniteNum }, 'meta');
  if (bad) return bad;
  const meta = m as unknown as StoredMeta;
  if (meta.key !== storedKey(meta) || meta.group !== groupKey(meta)) return 'meta key does not match its address';
  if (meta.label.length > MAX_LABEL_CHARS) return 'meta label is too long';
  return null;
}

function checkError(e: unknown): string | null {
  return fields(e, { kind: isStr, message: isStr }, 'error');
}

function checkSpectrum(s: unknown): string | null {
  const bad = fields(s, { ok: (v) => typeof v === 'boolean', name: isStr, N: isCount, M: isCount }, 'spectrum');
  if (bad) return bad;
  const sp = s as Obj;
  if (sp.ok === false) return checkError(sp.error);
  if (!(sp.evals instanceof Float64Array)) return 'spectrum.evals is not a Float64Array';
  if (!Array.isArray(sp.notes) || !sp.notes.every(isStr)) return 'spectrum.notes is not a list of strings';
  if (!isNumOrNull(sp.alpha)) return 'spectrum.alpha is not a number';
  if (!(sp.mp === null || isPlainObject(sp.mp))) return 'spectrum.mp is not an object';
  if (!(sp.farms === null || isPlainObject(sp.farms))) return 'spectrum.farms is not an object';
  return null;
}

/** One layer of a Spectra run, stored for `tensor`. */
export function checkSpectraLayer(v: unknown, tensor: string): string | null {
  const bad = fields(v, { tensor: isStr, backend: (x) => x === 'cpu' || x === 'webgpu', floor: isFiniteNum, ms: isFiniteNum, windows: Array.isArray }, 'result');
  if (bad) return bad;
  const r = v as Obj;
  if (r.tensor !== tensor) return `result is for ${String(r.tensor)}, not ${tensor}`;
  if (!(r.candidates === null || isPlainObject(r.candidates))) return 'result.candidates is not an object';
  if (!(r.heatmap === null || isPlainObject(r.heatmap))) return 'result.heatmap is not an object';
  return checkSpectrum(r.spectrum);
}

function checkSummary(v: unknown, tensor: string): string | null {
  const bad = fields(
    v,
    {
      tensor: isStr, layer: isStr, rows: isCount, cols: isCount, method: isStr, backend: (x) => x === 'cpu' || x === 'webgpu', ms: isFiniteNum, cells: isCount,
      error: (e) => fields(e, { mse: isNum, relFrobenius: isNum, sqnrDb: isNum }, 'error') === null,
      bits: (b) => fields(b, { index: isNum, codebook: isNum, scale: isNum, zero: isNum, total: isNum }, 'bits') === null,
      usage: (u) => u === null || isPlainObject(u),
      flippable: isNumOrNull,
      rtnAtEqualBits: (u) => u === null || isPlainObject(u),
      objectiveHistory: (h) => h === null || (Array.isArray(h) && h.every(isNum)),
      iterations: isNumOrNull,
    },
    'summary',
  );
  if (bad) return bad;
  if ((v as Obj).tensor !== tensor) return `summary is for ${String((v as Obj).tensor)}, not ${tensor}`;
  return null;
}

function checkMaps(m: unknown): string | null {
  if (m === null) return null;
  const bad = fields(m, { width: isCount, height: isCount, fy: isFiniteNum, fx: isFiniteNum, exact: (x) => typeof x === 'boolean' }, 'maps');
  if (bad) return bad;
  const mp = m as Obj;
  const cells = (mp.width as number) * (mp.height as number);
  if (!(mp.error instanceof Float32Array) || mp.error.length !== cells) return 'maps.error does not hold width × height values';
  if (!(mp.assign === null || (mp.assign instanceof Uint16Array && mp.assign.length === cells))) return 'maps.assign does not hold width × height values';
  if (!(mp.ratio === null || (mp.ratio instanceof Float32Array && mp.ratio.length === cells))) return 'maps.ratio does not hold width × height values';
  return null;
}

/** A Quantize preview of `tensor`. */
export function checkQuantPreview(v: unknown, tensor: string): string | null {
  const bad = checkSummary(v, tensor);
  if (bad) return bad;
  const r = v as Obj;
  if (!isPlainObject(r.settings)) return 'result.settings is not an object';
  if (!isCount(r.subLen)) return 'result.subLen is not a count';
  if (!(r.sortedCounts === null || r.sortedCounts instanceof Uint32Array)) return 'result.sortedCounts is not a Uint32Array';
  if (!(r.projection === null || isPlainObject(r.projection))) return 'result.projection is not an object';
  return checkMaps(r.maps);
}

/** What a finished whole-model sweep stores: every layer's summary, by tensor. */
export interface StoredSweep {
  layers: Record<string, QuantLayerSummary>;
}

export function checkQuantSweep(v: unknown): string | null {
  if (!isPlainObject(v) || !isPlainObject(v.layers)) return 'sweep.layers is not an object';
  for (const [t, s] of Object.entries(v.layers)) {
    const bad = checkSummary(s, t);
    if (bad) return `${t}: ${bad}`;
  }
  return null;
}

export function checkMerge(v: unknown): string | null {
  if (!isPlainObject(v)) return 'merge analysis is not an object';
  if (!isFiniteNum(v.ms)) return 'merge analysis has no ms';
  if (!Array.isArray(v.labels) || !v.labels.every(isStr)) return 'merge analysis labels are not strings';
  if (!isPlainObject(v.pairing) || !isPlainObject(v.path) || !isPlainObject(v.similarity) || !isPlainObject(v.alphaPath)) return 'merge analysis lacks pairing, path, similarity or alphaPath';
  if (!Array.isArray(v.path.alphas) || !Array.isArray(v.path.layers)) return 'merge analysis path is malformed';
  return null;
}

/** The check for a kind; `part` is the tensor for per-tensor kinds. */
export function checkStoredValue(kind: StoredKind, v: unknown, part: string): string | null {
  if (estimateBytes(v) === Infinity) return 'value holds something that cannot be stored (function, cycle or too deep)';
  switch (kind) {
    case 'spectra-layer':
      return checkSpectraLayer(v, part);
    case 'quant-preview':
      return checkQuantPreview(v, part);
    case 'quant-sweep':
      return checkQuantSweep(v);
    case 'merge':
      return checkMerge(v);
  }
}

/** The value type stored for each kind. */
export interface StoredValues {
  'spectra-layer': SpectraLayerResult;
  'quant-preview': QuantLayerResult;
  'quant-sweep': StoredSweep;
  merge: MergeAnalysis;
}
