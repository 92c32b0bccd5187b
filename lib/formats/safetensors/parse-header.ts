import { FormatError, LimitError } from '../../base/errors';
import { fmtBytes } from '../../base/assert';
import { MAX_TENSOR_BYTES, MAX_TENSOR_ELEMENTS } from '../../base/limits';
import { DTYPE_BYTES, elementCount } from '../dtype';
import type { ResolvedSafetensorsOptions } from './safetensors-options';

/**
 * Dtypes newer safetensors versions can store that WeightLens lists but does not decode (yet).
 * Bits per element, so the shape x dtype = byte length check still holds for them.
 */
const LISTED_ONLY_DTYPE_BITS: Readonly<Record<string, number>> = {
  F8_E8M0: 8, F6_E2M3: 6, F6_E3M2: 6, F4: 4, C64: 64,
};

/** One tensor of a safetensors header, offsets relative to the start of the data section. */
export interface SafetensorsEntry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
  count: number;
  decodable: boolean;
  note?: string;
}

export interface ParsedHeader {
  /** Sorted by data offset, i.e. in file order. */
  entries: SafetensorsEntry[];
  /** `__metadata__` (free-form string map per the spec; kept as parsed). */
  metadata: Record<string, unknown>;
  warnings: string[];
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const hasOwn = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);

function parseEntry(file: string, name: string, raw: unknown, dataBytes: number, opts: ResolvedSafetensorsOptions): SafetensorsEntry {
  const where = `${file}: tensor "${name}"`;
  if (!isPlainObject(raw)) throw new FormatError('bad-header', `${where} is not an object in the header`);
  const { dtype, shape, data_offsets: offsets } = raw;
  if (typeof dtype !== 'string') throw new FormatError('bad-header', `${where} has no "dtype" string`);
  if (!Array.isArray(shape)) throw new FormatError('bad-header', `${where} has no "shape" array`);
  if (!Array.isArray(offsets)) throw new FormatError('bad-header', `${where} has no "data_offsets" array`);
  if (shape.length > opts.maxTensorRank) {
    throw new LimitError('rank', `${where} has rank ${shape.length}, more than the limit of ${opts.maxTensorRank}`);
  }
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw new FormatError('bad-shape', `${where} has invalid dimension ${JSON.stringify(d)} in shape ${JSON.stringify(shape)}`);
    }
  }
  const count = elementCount(shape as number[], file, name);

  const width = DTYPE_BYTES[dtype];
  const bits = width !== undefined ? width * 8 : LISTED_ONLY_DTYPE_BITS[dtype];
  if (bits === undefined) throw new FormatError('unknown-dtype', `${where} has unknown dtype "${dtype}"`);

  const [begin, end] = offsets as unknown[];
  if (
    offsets.length !== 2 ||
    typeof begin !== 'number' || typeof end !== 'number' ||
    !Number.isSafeInteger(begin) || !Number.isSafeInteger(end) || begin < 0 || end < 0
  ) {
    throw new FormatError('bad-offsets', `${where} has invalid data_offsets ${JSON.stringify(offsets)}`);
  }
  if (end < begin) throw new FormatError('bad-offsets', `${where} has data_offsets [${begin}, ${end}] with end before begin`);
  if (begin > dataBytes) {
    throw new FormatError('bad-offsets', `${where} starts at byte ${fmtBytes(begin)} of the data section, which has ${fmtBytes(dataBytes)} bytes`);
  }
  if (end > dataBytes) {
    throw new FormatError('truncated', `${where} ends at byte ${fmtBytes(end)} of the data section, which has ${fmtBytes(dataBytes)} bytes (file truncated?)`);
  }
  // count * bits stays exact: count <= 2^53 and the product is compared, not stored as an index.
  const expectedBits = count * bits;
  if (!Number.isSafeInteger(expectedBits) || expectedBits % 8 !== 0 || expectedBits / 8 !== end - begin) {
    throw new FormatError(
      'size-mismatch',
      `${where}: shape [${shape.join(', ')}] x ${dtype} needs ${expectedBits / 8} bytes, data_offsets give ${end - begin}`,
    );
  }

  const entry: SafetensorsEntry = { name, dtype, shape: shape as number[], begin, end, count, decodable: true };
  if (width === undefined) {
    entry.decodable = false;
    entry.note = `dtype ${dtype} is listed but not decoded by WeightLens`;
  } else if (count > MAX_TENSOR_ELEMENTS || end - begin > MAX_TENSOR_BYTES) {
    entry.decodable = false;
    entry.note = `${count} elements is more than WeightLens decodes at once (${MAX_TENSOR_ELEMENTS})`;
  }
  return entry;
}

/**
 * Parses and validates a safetensors JSON header in one pass over its entries, then one pass
 * over them sorted by offset for overlaps and holes. `dataBytes` is the size of the data section.
 */
export function parseSafetensorsHeader(file: string, headerBytes: Uint8Array, dataBytes: number, opts: ResolvedSafetensorsOptions): ParsedHeader {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    throw new FormatError('bad-header', `${file}: header is not valid UTF-8`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new FormatError('invalid-json', `${file}: header is not valid JSON (${(e as Error).message})`);
  }
  if (!isPlainObject(json)) {
    throw new FormatError('bad-header', `${file}: header must be a JSON object, found ${json === null ? 'null' : Array.isArray(json) ? 'an array' : typeof json}`);
  }

  let metadata: Record<string, unknown> = {};
  const names = Object.keys(json);
  const tensorCount = names.length - (hasOwn(json, '__metadata__') ? 1 : 0);
  // Checked before any per-entry work: the JSON is bounded by the header limit, our work by this.
  if (tensorCount > opts.maxTensorCount) {
    throw new LimitError('tensor-count', `${file}: header lists ${tensorCount} tensors, more than the limit of ${opts.maxTensorCount}`);
  }

  const entries: SafetensorsEntry[] = [];
  for (const name of names) {
    const raw = json[name];
    if (name === '__metadata__') {
      if (!isPlainObject(raw)) throw new FormatError('bad-header', `${file}: "__metadata__" must be an object of strings`);
      metadata = { ...raw };
      continue;
    }
    entries.push(parseEntry(file, name, raw, dataBytes, opts));
  }

  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  const warnings: string[] = [];
  let prev: SafetensorsEntry | undefined;
  let covered = 0;
  for (const e of entries) {
    // Empty tensors own no bytes, so they cannot overlap anything.
    if (e.end === e.begin) continue;
    if (prev && e.begin < prev.end) {
      throw new FormatError(
        'overlap',
        `${file}: tensors "${prev.name}" [${prev.begin}, ${prev.end}) and "${e.name}" [${e.begin}, ${e.end}) overlap`,
      );
    }
    if (e.begin > covered) {
      const msg = `${e.begin - covered}-byte gap before tensor "${e.name}" (at data byte ${fmtBytes(covered)}); the safetensors spec forbids holes`;
      if (opts.strict) throw new FormatError('bad-offsets', `${file}: ${msg}`);
      warnings.push(`${file}: ${msg}`);
      e.note = e.note ? `${e.note}; ${msg}` : msg;
    }
    covered = e.end;
    prev = e;
  }
  if (covered < dataBytes) {
    const msg = `${dataBytes - covered} bytes after the last tensor are not used by any tensor; the safetensors spec forbids this`;
    if (opts.strict) throw new FormatError('bad-offsets', `${file}: ${msg}`);
    warnings.push(`${file}: ${msg}`);
  }
  return { entries, metadata, warnings };
}
