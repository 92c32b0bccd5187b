import { FormatError, LimitError, UnsupportedError, throwIfAborted } from '../base/errors';
import { MAX_TENSOR_BYTES, MAX_TENSOR_ELEMENTS, MAX_TENSOR_RANK } from '../base/limits';
import { fmtBytes } from '../base/assert';
import type { ModelInput } from '../io/byte-source';
import { DTYPE_BYTES, decodeToF32, elementCount } from './dtype';
import { fortranStrides, stridedGather, swapBytesInPlace } from './strided-gather';
import type { TensorSource } from './types';

/**
 * NumPy .npy (format versions 1.0, 2.0, 3.0): magic "\x93NUMPY", version, header length, then a
 * Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), } parsed here by a
 * tiny strict parser (never eval), then the raw array bytes.
 * Spec: numpy/lib/format.py (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html).
 */

/**
 * numpy writes headers of a few hundred bytes and itself refuses headers over 10,000 bytes unless
 * told otherwise (max_header_size, numpy >= 1.24); we allow more but keep a hostile header small.
 */
export const MAX_NPY_HEADER_BYTES = 1 * 2 ** 20;

/** Bytes before the header dict: magic (6) + version (2) + length (2 in v1, 4 in v2/v3). */
export const NPY_PREFIX_BYTES = 12;

export interface NpyHeader {
  /** WeightLens dtype name (F32, I64, BOOL, ...). */
  dtype: string;
  shape: number[];
  fortranOrder: boolean;
  /** Bytes before the array data (magic + version + length + dict + padding). */
  headerBytes: number;
  /** numpy's descr string as written ('<f4', '>i8', '|b1'). */
  descr: string;
  bigEndian: boolean;
  version: string;
}

const NPY_KIND: Record<string, string> = {
  f8: 'F64', f4: 'F32', f2: 'F16',
  i8: 'I64', i4: 'I32', i2: 'I16', i1: 'I8',
  u8: 'U64', u4: 'U32', u2: 'U16', u1: 'U8',
  b1: 'BOOL',
};

/** Total header size from the first bytes of a file; throws on bad magic or version. */
export function npyHeaderLength(prefix: Uint8Array, file: string): number {
  const magicOk = prefix.length >= 8 && prefix[0] === 0x93 && String.fromCharCode(...prefix.subarray(1, 6)) === 'NUMPY';
  if (!magicOk) throw new FormatError('bad-magic', `${file}: not a NumPy .npy file (expected "\\x93NUMPY" at byte 0)`);
  const major = prefix[6]!;
  const minor = prefix[7]!;
  if (major === 1) {
    if (prefix.length < 10) throw new FormatError('truncated', `${file}: .npy ends inside its header length field`);
    return 10 + (prefix[8]! | (prefix[9]! << 8));
  }
  if (major === 2 || major === 3) {
    if (prefix.length < 12) throw new FormatError('truncated', `${file}: .npy ends inside its header length field`);
    const len = (prefix[8]! | (prefix[9]! << 8) | (prefix[10]! << 16) | (prefix[11]! << 24)) >>> 0;
    if (len > MAX_NPY_HEADER_BYTES) throw new LimitError('npy-header', `${file}: .npy header of ${fmtBytes(len)} bytes exceeds the limit of ${fmtBytes(MAX_NPY_HEADER_BYTES)}`);
    return 12 + len;
  }
  throw new UnsupportedError('npy-version', `${file}: .npy format version ${major}.${minor}; WeightLens reads 1.0, 2.0 and 3.0`);
}

type PyValue = string | number | boolean | null | PyValue[] | { tuple: PyValue[] };

/** A strict parser for the Python literals numpy writes in a header: str, int, bool, None, tuple, list, dict. */
function parsePyLiteral(text: string, file: string): Map<string, PyValue> {
  let i = 0;
  const fail = (what: string): never => {
    throw new FormatError('bad-header', `${file}: .npy header ${what} at character ${i}: ${JSON.stringify(text.slice(0, 120))}`);
  };
  const ws = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  let depth = 0;
  const value = (): PyValue => {
    ws();
    const c = text[i];
    if (c === "'" || c === '"') {
      const q = c;
      const start = ++i;
      while (i < text.length && text[i] !== q) {
        if (text[i] === '\\') fail('has an escape in a string');
        i++;
      }
      if (i >= text.length) fail('has an unterminated string');
      return text.slice(start, i++);
    }
    if (c === '(' || c === '[') {
      if (++depth > 8) fail('nests too deeply');
      const close = c === '(' ? ')' : ']';
      i++;
      const items: PyValue[] = [];
      let sawComma = false;
      for (;;) {
        ws();
        if (text[i] === close) {
          i++;
          break;
        }
        items.push(value());
        ws();
        if (text[i] === ',') {
          i++;
          sawComma = true;
        } else if (text[i] !== close) fail(`expects "," or "${close}"`);
      }
      depth--;
      // (5) is the int 5 in Python; a one-element tuple needs its comma.
      if (c === '(') return items.length === 1 && !sawComma ? items[0]! : { tuple: items };
      return items;
    }
    const m = /^(-?\d+)L?|^(True|False|None)/.exec(text.slice(i, i + 32));
    if (!m) return fail('has an unexpected token');
    i += m[0].length;
    if (m[2] === 'True') return true;
    if (m[2] === 'False') return false;
    if (m[2] === 'None') return null;
    const n = Number(m[1]);
    if (!Number.isSafeInteger(n)) fail(`has an integer ${m[1]} too large`);
    return n;
  };
  ws();
  if (text[i] !== '{') fail('is not a dict literal');
  i++;
  const out = new Map<string, PyValue>();
  for (;;) {
    ws();
    if (text[i] === '}') {
      i++;
      break;
    }
    const k = value();
    if (typeof k !== 'string') fail('has a non-string key');
    ws();
    if (text[i] !== ':') fail('expects ":"');
    i++;
    const v = value();
    if (out.has(k as string)) fail(`repeats key "${k}"`);
    out.set(k as string, v);
    ws();
    if (text[i] === ',') i++;
    else if (text[i] !== '}') fail('expects "," or "}"');
  }
  ws();
  if (i !== text.length) fail('has trailing characters');
  return out;
}

/** Parses the header at the start of `bytes` (which must hold the whole header). */
export function parseNpyHeader(bytes: Uint8Array, file: string): NpyHeader {
  const headerBytes = npyHeaderLength(bytes, file);
  if (bytes.length < headerBytes) {
    throw new FormatError('truncated', `${file}: .npy header needs ${headerBytes} bytes, only ${bytes.length} available`);
  }
  const major = bytes[6]!;
  const body = bytes.subarray(major === 1 ? 10 : 12, headerBytes);
  // v1/v2 headers are latin-1, v3 UTF-8 (numpy/lib/format.py).
  const text = major === 3 ? new TextDecoder('utf-8', { fatal: true }).decode(body) : Array.from(body, (b) => String.fromCharCode(b)).join('');
  const dict = parsePyLiteral(text, file);
  const keys = [...dict.keys()].sort().join(',');
  if (keys !== 'descr,fortran_order,shape') {
    throw new FormatError('bad-header', `${file}: .npy header has keys {${keys}}, expected exactly descr, fortran_order, shape`);
  }
  const descr = dict.get('descr');
  if (typeof descr !== 'string') {
    throw new UnsupportedError('dtype', `${file}: a structured .npy array (descr ${JSON.stringify(descr)}); WeightLens reads plain numeric arrays`);
  }
  const fortran = dict.get('fortran_order');
  if (typeof fortran !== 'boolean') throw new FormatError('bad-header', `${file}: .npy fortran_order is ${JSON.stringify(fortran)}, expected True or False`);
  const shapeV = dict.get('shape');
  if (shapeV === null || typeof shapeV !== 'object' || Array.isArray(shapeV) || !shapeV.tuple.every((d) => typeof d === 'number' && d >= 0)) {
    throw new FormatError('bad-header', `${file}: .npy shape is ${JSON.stringify(shapeV)}, expected a tuple of non-negative ints`);
  }
  const shape = shapeV.tuple as number[];
  if (shape.length > MAX_TENSOR_RANK) throw new LimitError('rank', `${file}: .npy array has ${shape.length} dimensions, over the limit of ${MAX_TENSOR_RANK}`);
  const m = /^([<>|=])([a-zA-Z])(\d+)$/.exec(descr);
  const dtype = m ? NPY_KIND[`${m[2]}${m[3]}`] : undefined;
  if (!m || dtype === undefined) {
    const why = descr.includes('O') ? ' (object arrays need pickle, which WeightLens never runs)' : '';
    throw new UnsupportedError('dtype', `${file}: .npy dtype "${descr}" is not supported${why}; WeightLens reads f2/f4/f8, signed and unsigned ints, and bool`);
  }
  const width = DTYPE_BYTES[dtype]!;
  return {
    dtype,
    shape,
    fortranOrder: fortran,
    headerBytes,
    descr,
    bigEndian: m[1] === '>' && width > 1,
    version: `${major}.${bytes[7]}`,
  };
}

/** Stored byte length of the array, after checking element and byte limits. */
export function npyDataBytes(h: NpyHeader, file: string, tensor: string): number {
  const count = elementCount(h.shape, file, tensor);
  if (count > MAX_TENSOR_ELEMENTS) throw new LimitError('elements', `${file}: tensor "${tensor}" has ${count} elements, over the limit of ${MAX_TENSOR_ELEMENTS}`);
  const bytes = count * DTYPE_BYTES[h.dtype]!;
  if (bytes > MAX_TENSOR_BYTES) throw new LimitError('tensor-bytes', `${file}: tensor "${tensor}" is ${fmtBytes(bytes)} bytes, over the limit of ${fmtBytes(MAX_TENSOR_BYTES)}`);
  return bytes;
}

/** Checks that the bytes after the header are exactly shape x itemsize. */
export function checkNpyDataLength(h: NpyHeader, available: number, file: string, tensor: string): void {
  const need = npyDataBytes(h, file, tensor);
  if (available < need) {
    throw new FormatError('truncated', `${file}: tensor "${tensor}" needs ${need} bytes of data (shape [${h.shape.join(', ')}] x ${h.descr}), file has ${available}`);
  }
  if (available > need) {
    throw new FormatError('size-mismatch', `${file}: tensor "${tensor}" has ${available} bytes of data, shape [${h.shape.join(', ')}] x ${h.descr} is ${need}`);
  }
}

/** Decodes array data to float32 in C order (byte-swapping big-endian data, transposing Fortran order). */
export function decodeNpyData(h: NpyHeader, data: Uint8Array, file: string, tensor: string): Float32Array {
  const count = elementCount(h.shape, file, tensor);
  let bytes = data;
  if (h.bigEndian) {
    bytes = data.slice(); // never swap the caller's (possibly shared) buffer
    swapBytesInPlace(bytes, DTYPE_BYTES[h.dtype]!);
  }
  const flat = decodeToF32(h.dtype, bytes, count, file, tensor);
  if (!h.fortranOrder || h.shape.length < 2) return flat;
  return stridedGather(flat, h.shape, fortranStrides(h.shape));
}

function tensorNameOf(file: string): string {
  const base = file.split('/').pop() ?? file;
  return base.toLowerCase().endsWith('.npy') ? base.slice(0, -4) : base;
}

export async function readNpy(input: ModelInput, signal?: AbortSignal): Promise<TensorSource> {
  const src = input.primary;
  const file = src.name;
  const prefix = await src.read(0, Math.min(NPY_PREFIX_BYTES, src.size), signal);
  const total = npyHeaderLength(prefix, file);
  if (total > src.size) throw new FormatError('truncated', `${file}: .npy header needs ${total} bytes, file has ${src.size}`);
  const h = parseNpyHeader(await src.read(0, total, signal), file);
  const name = tensorNameOf(file);
  checkNpyDataLength(h, src.size - h.headerBytes, file, name);
  const byteLength = npyDataBytes(h, file, name);
  return {
    format: 'npy',
    name: input.label,
    tensors: [{ name, shape: h.shape, dtype: h.dtype, byteLength, decodable: true, note: noteOf(h) }],
    metadata: { npyVersion: h.version, descr: h.descr, fortranOrder: h.fortranOrder },
    totalBytes: src.size,
    async read(tensor, sig) {
      if (tensor !== name) throw new FormatError('bad-header', `${file}: no tensor "${tensor}" (this .npy holds "${name}")`);
      const data = await src.read(h.headerBytes, byteLength, sig);
      throwIfAborted(sig);
      return decodeNpyData(h, data, file, name);
    },
  };
}

export function noteOf(h: NpyHeader): string | undefined {
  const parts: string[] = [];
  if (h.bigEndian) parts.push('big-endian');
  if (h.fortranOrder && h.shape.length >= 2) parts.push('Fortran order (transposed to C order on read)');
  return parts.length ? parts.join('; ') : undefined;
}
