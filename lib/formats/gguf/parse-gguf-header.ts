import { FormatError, LimitError, UnsupportedError } from '../../base/errors';
import { MAX_GGUF_HEADER_BYTES, MAX_GGUF_KV_COUNT, MAX_GGUF_STRING_BYTES, MAX_TENSOR_COUNT, MAX_TENSOR_RANK } from '../../base/limits';
import type { ByteSource } from '../../io/byte-source';
import { ChunkedReader } from './chunked-reader';
import { newKeepBudget, readGgufString, readGgufValue, type GgufJson } from './read-gguf-value';

export interface GgufTensorEntry {
  name: string;
  /** As stored: fastest-varying first (ne[0] is the row length). */
  ne: number[];
  typeId: number;
  /** Relative to the start of the aligned data section. */
  offset: number;
}

export interface GgufHeader {
  version: number;
  alignment: number;
  metadata: Record<string, GgufJson>;
  tensors: GgufTensorEntry[];
  /** Absolute byte offset of the tensor data section. */
  dataStart: number;
}

const GGUF_MAGIC = [0x47, 0x47, 0x55, 0x46]; // "GGUF"
const DEFAULT_ALIGNMENT = 32;
const ALIGNMENT_KEY = 'general.alignment';

/** Smallest kv pair: empty key (u64 length) + value type (u32) + a one-byte value. */
const MIN_KV_BYTES = 8 + 4 + 1;
/** Smallest tensor info: empty name + n_dims (u32) + type (u32) + offset (u64). */
const MIN_TENSOR_INFO_BYTES = 8 + 4 + 4 + 8;

async function readVersion(r: ChunkedReader): Promise<number> {
  const version = await r.u32('version');
  if (version === 2 || version === 3) return version;
  const name = r.src.name;
  if (version === 1) {
    throw new UnsupportedError('gguf-version', `${name}: GGUF version 1 (2023 pre-release) is not supported; re-convert it with a current llama.cpp (versions 2 and 3 are read)`);
  }
  if (version === 0x02000000 || version === 0x03000000) {
    throw new UnsupportedError('gguf-big-endian', `${name}: a big-endian GGUF file; WeightLens reads little-endian GGUF only`);
  }
  throw new UnsupportedError('gguf-version', `${name}: GGUF version ${version} is not supported (versions 2 and 3 are read)`);
}

function alignmentOf(src: ByteSource, value: GgufJson | undefined): number {
  if (value === undefined) return DEFAULT_ALIGNMENT;
  // ggml itself requires a non-zero power of two; anything else makes every offset meaningless.
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0 || (value & (value - 1)) !== 0 || value > 2 ** 30) {
    throw new FormatError('bad-header', `${src.name}: ${ALIGNMENT_KEY} is ${JSON.stringify(value)}, expected a power of two`);
  }
  return value;
}

/**
 * Parses magic, version, counts, metadata and the tensor table, streaming the header in
 * chunks; tensor data is not touched. Counts are checked against the named limits and against
 * what the remaining bytes could possibly hold before any loop runs.
 */
export async function parseGgufHeader(src: ByteSource, signal?: AbortSignal): Promise<GgufHeader> {
  const r = new ChunkedReader(src, MAX_GGUF_HEADER_BYTES, signal);
  const magic = await r.bytes(4, 'magic');
  if (!GGUF_MAGIC.every((b, i) => magic[i] === b)) {
    throw new FormatError('bad-magic', `${src.name}: does not start with "GGUF" (found bytes ${[...magic].map((b) => b.toString(16).padStart(2, '0')).join(' ')})`);
  }
  const version = await readVersion(r);
  const tensorCount = await r.u64('tensor count');
  const kvCount = await r.u64('metadata key/value count');
  if (tensorCount > MAX_TENSOR_COUNT) {
    throw new LimitError('tensor-count', `${src.name}: declares ${tensorCount} tensors, over the limit of ${MAX_TENSOR_COUNT}`);
  }
  if (kvCount > MAX_GGUF_KV_COUNT) {
    throw new LimitError('gguf-kv-count', `${src.name}: declares ${kvCount} metadata key/values, over the limit of ${MAX_GGUF_KV_COUNT}`);
  }
  r.ensureRemaining(kvCount * MIN_KV_BYTES + tensorCount * MIN_TENSOR_INFO_BYTES, `${kvCount} key/values and ${tensorCount} tensor infos`);

  const metadata: Record<string, GgufJson> = {};
  const seenKeys = new Set<string>();
  const budget = newKeepBudget();
  for (let i = 0; i < kvCount; i++) {
    const key = await readGgufString(r, `metadata key ${i}`);
    if (seenKeys.has(key)) throw new FormatError('bad-header', `${src.name}: metadata key "${key}" appears twice`);
    seenKeys.add(key);
    const type = await r.u32(`value type of "${key}"`);
    const value = await readGgufValue(r, type, true, `metadata "${key}"`, budget);
    // Own-property definition: a key such as "__proto__" must stay data, not touch the prototype.
    Object.defineProperty(metadata, key, { value, enumerable: true, writable: true, configurable: true });
  }
  const alignment = alignmentOf(src, metadata[ALIGNMENT_KEY]);

  const tensors: GgufTensorEntry[] = [];
  const seenNames = new Set<string>();
  for (let i = 0; i < tensorCount; i++) {
    // Hot loop (MoE files list ~10^5 tensors): fetch only when the buffer runs dry.
    const name = r.stringNow(MAX_GGUF_STRING_BYTES) ?? (await readGgufString(r, `tensor ${i} name`));
    if (seenNames.has(name)) throw new FormatError('bad-header', `${src.name}: tensor "${name}" appears twice`);
    seenNames.add(name);
    if (!r.has(4)) await r.fill(4, `tensor "${name}" rank`);
    const rank = r.u32Now();
    if (rank > MAX_TENSOR_RANK) {
      throw new LimitError('rank', `${src.name}: tensor "${name}" has ${rank} dimensions, over the limit of ${MAX_TENSOR_RANK}`);
    }
    const rest = rank * 8 + 4 + 8;
    if (!r.has(rest)) await r.fill(rest, `tensor "${name}" dimensions, type and offset`);
    const ne: number[] = [];
    for (let d = 0; d < rank; d++) ne.push(r.u64Now());
    const typeId = r.u32Now();
    const offset = r.u64Now();
    tensors.push({ name, ne, typeId, offset });
  }
  const dataStart = Math.ceil(r.pos / alignment) * alignment;
  return { version, alignment, metadata, tensors, dataStart };
}
