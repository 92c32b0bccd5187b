import { FormatError, LimitError } from '../../base/errors';
import { MAX_GGUF_ARRAY_DEPTH, MAX_GGUF_ARRAY_LENGTH, MAX_GGUF_STRING_BYTES } from '../../base/limits';
import type { ChunkedReader } from './chunked-reader';

/**
 * GGUF metadata values, kept JSON-safe for TensorSource.metadata (which crosses worker
 * boundaries and lands in reports): 64-bit integers beyond 2^53 become decimal strings,
 * non-finite floats become "NaN"/"Infinity"/"-Infinity", and long arrays (a 150k-token vocab)
 * are summarised as their length plus the first ARRAY_HEAD_ITEMS items.
 */
export type GgufJson = number | string | boolean | GgufJson[] | GgufArraySummary;

export interface GgufArraySummary {
  itemType: string;
  length: number;
  head: GgufJson[];
}

/** Items of a long array kept in metadata; enough to recognise a vocab or a list of layer sizes. */
export const ARRAY_HEAD_ITEMS = 16;

/** Characters of one string kept in metadata; chat templates run to ~10 KB, licences longer. */
export const STRING_KEEP_BYTES = 64 * 1024;

/**
 * What one header may keep in metadata in all: array items (nested heads multiply: 16 arrays of
 * 16 arrays ...) and string bytes. Each kept item is backed by file bytes, but a JS value costs
 * far more than its bytes, so a hostile header of 10^7 tiny nested arrays must not all be kept.
 */
export const METADATA_KEEP_ITEMS = 100_000;
export const METADATA_KEEP_STRING_BYTES = 16 * 2 ** 20;

export interface KeepBudget {
  items: number;
  stringBytes: number;
}

export function newKeepBudget(): KeepBudget {
  return { items: METADATA_KEEP_ITEMS, stringBytes: METADATA_KEEP_STRING_BYTES };
}

export const GGUF_VALUE_TYPES = [
  'u8', 'i8', 'u16', 'i16', 'u32', 'i32', 'f32', 'bool', 'string', 'array', 'u64', 'i64', 'f64',
] as const;

export const GGUF_TYPE_STRING = 8;
export const GGUF_TYPE_ARRAY = 9;

/** Bytes of each fixed-size value type; strings and arrays are absent. */
const FIXED_BYTES: Readonly<Record<number, number>> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };

/** The least bytes one value of a type can occupy: a string is its u64 length, an array its type + length. */
function minBytes(type: number): number {
  return FIXED_BYTES[type] ?? (type === GGUF_TYPE_STRING ? 8 : 12);
}

function checkType(r: ChunkedReader, type: number, what: string): void {
  if (!Number.isInteger(type) || type < 0 || type >= GGUF_VALUE_TYPES.length) {
    throw new FormatError('bad-header', `${r.src.name}: ${what} has unknown value type ${type}`);
  }
}

function jsonFloat(x: number): number | string {
  return Number.isFinite(x) ? x : String(x);
}

function jsonBig(x: bigint): number | string {
  return x >= BigInt(Number.MIN_SAFE_INTEGER) && x <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : x.toString();
}

async function readFixed(r: ChunkedReader, type: number, what: string): Promise<GgufJson> {
  const size = FIXED_BYTES[type]!;
  if (!r.has(size)) await r.fill(size, what);
  switch (type) {
    case 0: return r.u8Now();
    case 1: return r.i8Now();
    case 2: return r.u16Now();
    case 3: return r.i16Now();
    case 4: return r.u32Now();
    case 5: return r.i32Now();
    case 6: return jsonFloat(r.f32Now());
    case 7: return r.u8Now() !== 0;
    case 10: return jsonBig(r.u64bigNow());
    case 11: return jsonBig(r.i64bigNow());
    default: return jsonFloat(r.f64Now());
  }
}

function stringTooLong(r: ChunkedReader, what: string, len: number): LimitError {
  return new LimitError('gguf-string', `${r.src.name}: ${what} declares a string of ${len} bytes, over the limit of ${MAX_GGUF_STRING_BYTES}`);
}

/** Reads a GGUF string's length and checks it against the limit and the bytes left. */
export async function readStringLength(r: ChunkedReader, what: string): Promise<number> {
  const len = await r.u64(`${what} length`);
  if (len > MAX_GGUF_STRING_BYTES) throw stringTooLong(r, what, len);
  r.ensureRemaining(len, what);
  return len;
}

export async function readGgufString(r: ChunkedReader, what: string): Promise<string> {
  return r.text(await readStringLength(r, what), what);
}

/**
 * Reads one value of `type` at the reader's position. With `keep` false the value is only
 * walked past (fixed-size runs are skipped without reading), and undefined is returned.
 * Kept array items and string bytes are drawn from `budget`, shared by the whole header.
 */
export async function readGgufValue(
  r: ChunkedReader,
  type: number,
  keep: boolean,
  what: string,
  budget: KeepBudget,
  depth = 0,
): Promise<GgufJson | undefined> {
  checkType(r, type, what);
  const fixed = FIXED_BYTES[type];
  if (fixed !== undefined) {
    if (!keep) {
      r.skip(fixed, what);
      return undefined;
    }
    return readFixed(r, type, what);
  }
  if (type === GGUF_TYPE_STRING) {
    const len = await readStringLength(r, what);
    if (!keep) {
      r.skip(len, what);
      return undefined;
    }
    const kept = Math.min(len, STRING_KEEP_BYTES, budget.stringBytes);
    budget.stringBytes -= kept;
    if (kept === len) return r.text(len, what);
    const head = await r.text(kept, what);
    r.skip(len - kept, what);
    return `${head}… (${len} bytes)`;
  }
  return readArray(r, keep, what, budget, depth);
}

async function readArray(r: ChunkedReader, keep: boolean, what: string, budget: KeepBudget, depth: number): Promise<GgufJson | undefined> {
  if (depth >= MAX_GGUF_ARRAY_DEPTH) {
    throw new LimitError('gguf-array-depth', `${r.src.name}: ${what} nests arrays deeper than ${MAX_GGUF_ARRAY_DEPTH}`);
  }
  const itemType = await r.u32(`${what} item type`);
  checkType(r, itemType, `${what} (array item)`);
  const length = await r.u64(`${what} array length`);
  if (length > MAX_GGUF_ARRAY_LENGTH) {
    throw new LimitError('gguf-array', `${r.src.name}: ${what} declares an array of ${length} items, over the limit of ${MAX_GGUF_ARRAY_LENGTH}`);
  }
  // Before walking item by item: the file must be able to hold the smallest possible items.
  r.ensureRemaining(length * minBytes(itemType), `${what} (array of ${length} ${GGUF_VALUE_TYPES[itemType]})`);
  const keepCount = keep ? Math.min(length, ARRAY_HEAD_ITEMS, budget.items) : 0;
  budget.items -= keepCount;
  const head: GgufJson[] = [];
  const fixed = FIXED_BYTES[itemType];
  for (let i = 0; i < keepCount; i++) head.push((await readGgufValue(r, itemType, true, `${what}[${i}]`, budget, depth + 1))!);
  if (fixed !== undefined) r.skip((length - keepCount) * fixed, what);
  else if (itemType === GGUF_TYPE_STRING) await r.skipStrings(length - keepCount, MAX_GGUF_STRING_BYTES, what, (len) => stringTooLong(r, what, len));
  else for (let i = keepCount; i < length; i++) await readGgufValue(r, itemType, false, `${what}[${i}]`, budget, depth + 1);
  if (!keep) return undefined;
  if (keepCount === length) return head;
  return { itemType: GGUF_VALUE_TYPES[itemType]!, length, head };
}
