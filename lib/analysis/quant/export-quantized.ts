import { FormatError, UnsupportedError, throwIfAborted } from '../../base/errors';
import { MAX_TENSOR_ELEMENTS } from '../../base/limits';
import { DTYPE_BYTES, elementCount, f16ToF32 } from '../../formats/dtype';
import { readSafetensors } from '../../formats/read-safetensors';
import { encodeValues, f32ToF16Bits } from '../../formats/safetensors/encode-values';
import { readSafetensorsHeader } from '../../formats/safetensors/read-header';
import { resolveOptions } from '../../formats/safetensors/safetensors-options';
import type { TensorInfo, TensorSource } from '../../formats/types';
import { writeSafetensors, type SafetensorsTensorInput } from '../../formats/write-safetensors';
import type { ModelInput } from '../../io/byte-source';
import type { Layer, WeightLayout } from '../../model/layer';
import { pvqDequantize } from './pvq';
import { quantError, subErrors } from './quant-metrics';
import type { LayerQuantResult, QuantSettings, VqStage } from './quantize-layer';

/**
 * Writing a quantized model, and reading it back.
 *
 * Two files:
 * - "packed" safetensors: for each quantized tensor T, what a decoder needs and nothing more —
 *   `T.codebook` [books, k, d] + `T.indices` [rows, cols/d] (VQ; RVQ adds `T.codebook2`,
 *   `T.indices2`), `T.codes` [rows, cols] + `T.scales` [rows, groups] (+ `T.zeros`) (RTN),
 *   `T.pvq_index` + `T.pvq_gain` [rows, cols/d] (PVQ) — every other tensor copied byte for byte,
 *   and in `__metadata__` one JSON description per quantized tensor (key `weightlens:quant:T`)
 *   saying how to decode it without WeightLens;
 * - "dequantized" safetensors: every tensor under its own name and shape, quantized ones replaced
 *   by their reconstruction as F32 (F32 rather than the source dtype, so the file holds exactly
 *   the weights the metrics were computed on), the rest copied byte for byte.
 *
 * What is stored is what is measured: `toStoredPrecision` rounds a quantizer's result to the
 * precision the packed file stores (codebooks to F16 when codebookBits is 16, RTN scales to F16
 * as their 16 bits per scale are counted) and recomputes the reconstruction and its error from
 * the rounded values, so the metrics, the dequantized file and a decode of the packed file agree
 * bit for bit. Assignments are not re-optimised after the rounding (the change is ~2^-11
 * relative, far below the quantization error).
 *
 * Orientation: every quantizer works on the QuantMatrix (quant-matrix.ts): rows = output
 * channels, columns = (input channel, kernel row, kernel column). The metadata gives
 * `[out, in, kh, kw]` and `stored_perm`, so that in numpy
 * `W = M.reshape(out, in, kh, kw).transpose(stored_perm).reshape(shape)`.
 */

export const PACKED_FORMAT = 'weightlens-packed-quantized';
export const DEQUANTIZED_FORMAT = 'weightlens-dequantized';
export const PACKED_FORMAT_VERSION = 1;
export const QUANT_META_PREFIX = 'weightlens:quant:';

const F16_MAX = 65504;

/** One quantized tensor as the export sees it: its catalog layer, the (stored-precision) result and the settings used. */
export interface QuantizedTensor {
  layer: Layer;
  result: LayerQuantResult;
  settings: QuantSettings;
}

/** Raw stored bytes of a tensor (for copying unquantized tensors unchanged). */
export type RawTensorReader = (t: TensorInfo, signal?: AbortSignal) => Promise<Uint8Array>;

export interface ExportOptions {
  /** Reads a tensor's stored bytes; without it they are re-encoded from float32 where that is provably exact. */
  readRaw?: RawTensorReader;
  signal?: AbortSignal;
}

// ---------------------------------------------------------------------------------------------
// Stored precision

function roundF16(v: number): number {
  return f16ToF32(f32ToF16Bits(v));
}

function roundArrayF16(a: Float32Array, what: string): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    if (!(Math.abs(v) <= F16_MAX)) {
      throw new UnsupportedError('quant-f16-range', `${what} holds ${v}, outside float16's range (±${F16_MAX}), so it cannot be stored as F16`);
    }
    out[i] = roundF16(v);
  }
  return out;
}

/** Sub-vectors of a VQ stage's codewords laid out as the QuantMatrix (the decoder's loop). */
function vqReconstruct(codebooks: Float32Array, assign: ArrayLike<number>, k: number, rowsPerBook: number, rows: number, cols: number, d: number): Float32Array {
  const out = new Float32Array(rows * cols);
  const perRow = cols / d;
  for (let r = 0; r < rows; r++) {
    const book = Math.floor(r / rowsPerBook) * k * d;
    for (let q = 0; q < perRow; q++) {
      const c = book + assign[r * perRow + q]! * d;
      for (let t = 0; t < d; t++) out[r * cols + q * d + t] = codebooks[c + t]!;
    }
  }
  return out;
}

/** RTN decode: ŵ = scale·(code − zero), or scale·(code − offset) when symmetric; the same float64 product rtn.ts stores. */
function rtnReconstruct(codes: ArrayLike<number>, scales: ArrayLike<number>, zeros: ArrayLike<number> | null, offset: number, rows: number, cols: number, groupSize: number, groupsPerRow: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const g = r * groupsPerRow + Math.floor(c / groupSize);
      const z = zeros ? zeros[g]! : offset;
      out[r * cols + c] = scales[g]! * (codes[r * cols + c]! - z);
    }
  }
  return out;
}

/**
 * A quantizer's result rounded to what the packed file stores, with the reconstruction and its
 * error recomputed from the stored values. `original` is the QuantMatrix data the result was
 * computed from; `name` goes into error messages.
 */
export function toStoredPrecision(original: Float32Array, r: LayerQuantResult, s: QuantSettings, name: string): LayerQuantResult {
  const { rows, cols } = r;
  let dequantized: Float32Array;
  let next: LayerQuantResult;
  if (r.method === 'rtn' && r.rtn) {
    const rtn = r.rtn;
    const scales = roundArrayF16(rtn.scales, `${name}: an RTN scale`);
    const offset = s.symmetric ? 2 ** (s.bits - 1) - 1 : 0;
    dequantized = rtnReconstruct(rtn.codes, scales, rtn.zeros, offset, rows, cols, rtn.groupSize, rtn.groupsPerRow);
    next = { ...r, dequantized, rtn: { ...rtn, scales, dequantized } };
  } else if ((r.method === 'vq' || r.method === 'rvq') && r.vq) {
    if (s.codebookBits === 32) return r;
    const round = (st: VqStage, what: string): VqStage => ({ ...st, codebooks: roundArrayF16(st.codebooks, `${name}: ${what}`) });
    const vq = round(r.vq, 'the codebook');
    dequantized = vqReconstruct(vq.codebooks, vq.assign, vq.k, vq.rowsPerBook, rows, cols, r.subLen);
    let residual: VqStage | undefined;
    if (r.residual) {
      residual = round(r.residual, 'the residual codebook');
      const second = vqReconstruct(residual.codebooks, residual.assign, residual.k, residual.rowsPerBook, rows, cols, r.subLen);
      for (let i = 0; i < dequantized.length; i++) dequantized[i] = dequantized[i]! + second[i]!;
    }
    next = { ...r, dequantized, vq, ...(residual ? { residual } : {}) };
  } else {
    // PVQ stores integer indices and gain codes; the gain range travels as exact JSON numbers.
    return r;
  }
  return { ...next, error: quantError(original, dequantized), subError: subErrors(original, dequantized, r.subLen) };
}

// ---------------------------------------------------------------------------------------------
// Orientation

/** `W = M.reshape(out, in, kh, kw).transpose(perm).reshape(shape)` for each stored layout (see quant-matrix.ts). */
export function storedPerm(layout: WeightLayout): [number, number, number, number] {
  switch (layout) {
    case 'iohw':
    case 'io':
      return [1, 0, 2, 3];
    case 'hwio':
    case 'kio':
      return [2, 3, 1, 0];
    default:
      return [0, 1, 2, 3];
  }
}

/** numpy's `x.reshape(dims).transpose(perm)`, flattened row-major. */
export function transpose4(x: Float32Array, dims: readonly number[], perm: readonly number[]): Float32Array {
  const src = [dims[1]! * dims[2]! * dims[3]!, dims[2]! * dims[3]!, dims[3]!, 1];
  const outDims = perm.map((p) => dims[p]!);
  const st = perm.map((p) => src[p]!);
  const out = new Float32Array(x.length);
  let o = 0;
  for (let a = 0; a < outDims[0]!; a++) {
    for (let b = 0; b < outDims[1]!; b++) {
      for (let c = 0; c < outDims[2]!; c++) {
        const base = a * st[0]! + b * st[1]! + c * st[2]!;
        for (let e = 0; e < outDims[3]!; e++) out[o++] = x[base + e * st[3]!]!;
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Metadata

export interface QuantTensorMeta {
  format_version: number;
  method: LayerQuantResult['method'];
  /** The tensor as the source stored it. */
  tensor: { name: string; shape: number[]; dtype: string; layout: WeightLayout };
  /** The QuantMatrix: rows × cols, rows = out, cols = in·kh·kw. */
  matrix: { rows: number; cols: number; out: number; in: number; kh: number; kw: number; stored_perm: number[] };
  /** Names of the stored parts, by role. */
  parts: Record<string, string>;
  /** Method parameters a decoder needs. */
  params: Record<string, number | boolean | string>;
  /** How to decode, in words (numpy-like). */
  decode: string;
  settings: QuantSettings;
  metrics: { mse: number; rel_frob: number; sqnr_db: number | null; bpw: number; bpw_index: number; bpw_codebook: number; bpw_scale: number; bpw_zero: number };
}

const ORIENT_TEXT = 'W = M.reshape(out, in, kh, kw).transpose(stored_perm).reshape(shape), M the rows x cols QuantMatrix (row = output channel)';

function indexDtype(k: number): 'U8' | 'U16' | 'I32' {
  return k <= 256 ? 'U8' : k <= 65536 ? 'U16' : 'I32';
}

interface PackedParts {
  tensors: SafetensorsTensorInput[];
  meta: QuantTensorMeta;
}

/** The packed tensors and metadata for one quantized tensor. */
export function packedParts(q: QuantizedTensor): PackedParts {
  const { layer, result: r, settings: s } = q;
  const T = layer.tensor.name;
  const f16 = (a: Float32Array, what: string) => {
    for (let i = 0; i < a.length; i++) {
      if (roundF16(a[i]!) !== a[i]!) throw new UnsupportedError('export-not-stored-precision', `${T}: ${what} ${i} = ${a[i]} is not a float16 value; pass the result through toStoredPrecision first`);
    }
  };
  if (r.rtn) f16(r.rtn.scales, 'scale');
  if (r.vq && s.codebookBits === 16) f16(r.vq.codebooks, 'codebook entry');
  if (r.residual && s.codebookBits === 16) f16(r.residual.codebooks, 'residual codebook entry');
  const { out, in: inC, kh, kw, layout } = layer.slices;
  const perm = storedPerm(layout);
  const rows = r.rows;
  const cols = r.cols;
  const tensors: SafetensorsTensorInput[] = [];
  const parts: Record<string, string> = {};
  const params: Record<string, number | boolean | string> = {};
  let decode: string;
  const add = (role: string, dtype: string, shape: number[], data: Float32Array | Float64Array | Uint8Array) => {
    const name = `${T}.${role}`;
    parts[role] = name;
    tensors.push({ name, shape, dtype, data });
  };
  const asF64 = (a: ArrayLike<number>) => Float64Array.from(a);
  if (r.method === 'rtn') {
    const rtn = r.rtn!;
    add('codes', 'U8', [rows, cols], rtn.codes);
    add('scales', 'F16', [rows, rtn.groupsPerRow], rtn.scales);
    if (rtn.zeros) add('zeros', 'U8', [rows, rtn.groupsPerRow], rtn.zeros);
    const offset = s.symmetric ? 2 ** (s.bits - 1) - 1 : 0;
    Object.assign(params, { bits: s.bits, symmetric: s.symmetric, group_size: rtn.groupSize, groups_per_row: rtn.groupsPerRow, offset });
    decode = rtn.zeros
      ? 'M[r, c] = float32(float32(scales[r, c // group_size]) * (codes[r, c] - zeros[r, c // group_size]))'
      : 'M[r, c] = float32(float32(scales[r, c // group_size]) * (codes[r, c] - offset))';
  } else if (r.method === 'vq' || r.method === 'rvq') {
    const st = r.vq!;
    const cbDtype = s.codebookBits === 16 ? 'F16' : 'F32';
    add('codebook', cbDtype, [st.books, st.k, r.subLen], st.codebooks);
    add('indices', indexDtype(st.k), [rows, cols / r.subLen], asF64(st.assign));
    Object.assign(params, { d: r.subLen, k: st.k, books: st.books, rows_per_book: st.rowsPerBook, codebook_dtype: cbDtype });
    decode = 'M[r, q*d:(q+1)*d] = codebook[r // rows_per_book, indices[r, q]]';
    if (r.residual) {
      const st2 = r.residual;
      add('codebook2', cbDtype, [st2.books, st2.k, r.subLen], st2.codebooks);
      add('indices2', indexDtype(st2.k), [rows, cols / r.subLen], asF64(st2.assign));
      Object.assign(params, { k2: st2.k });
      decode = 'M[r, q*d:(q+1)*d] = float32(codebook[r // rows_per_book, indices[r, q]] + codebook2[r // rows_per_book, indices2[r, q]]) (float32 sum)';
    }
  } else {
    const p = r.pvq!;
    add('pvq_index', 'I64', [rows, cols / r.subLen], p.indices);
    add('pvq_gain', 'U16', [rows, cols / r.subLen], Float64Array.from(p.gainCodes));
    Object.assign(params, { d: p.d, pulses: p.pulses, gain_bits: p.gainBits, gain_min: p.gainMin, gain_max: p.gainMax });
    decode =
      'M[r, q*d:(q+1)*d] = g * y / |y|_2 with y = the integer vector of length d, sum |y_i| = pulses, whose index is pvq_index[r, q] ' +
      '(lexicographic over coordinates, each coordinate ordered 0, +1, -1, +2, -2, ...; value v leaves N(d-1, pulses-|v|) completions, ' +
      'N(d, K) = N(d-1, K) + N(d, K-1) + N(d-1, K-1), N(0, 0) = 1, N(0, K>0) = 0, N(d, 0) = 1) and g = 0 for gain code c = pvq_gain[r, q] = 0, ' +
      'else g = gain_min * (gain_max / gain_min)^((c - 0.5) / (2^gain_bits - 1)) (g = gain_min when gain_max = gain_min), computed in float64, stored as float32';
  }
  const e = r.error;
  const meta: QuantTensorMeta = {
    format_version: PACKED_FORMAT_VERSION,
    method: r.method,
    tensor: { name: T, shape: [...layer.tensor.shape], dtype: layer.tensor.dtype, layout },
    matrix: { rows, cols, out, in: inC, kh, kw, stored_perm: perm },
    parts,
    params,
    decode: `${decode}; then ${ORIENT_TEXT}`,
    settings: { ...s },
    metrics: {
      mse: e.mse, rel_frob: e.relFrobenius, sqnr_db: Number.isFinite(e.sqnrDb) ? e.sqnrDb : null,
      bpw: r.bits.total, bpw_index: r.bits.index, bpw_codebook: r.bits.codebook, bpw_scale: r.bits.scale, bpw_zero: r.bits.zero,
    },
  };
  return { tensors, meta };
}

// ---------------------------------------------------------------------------------------------
// Copying unquantized tensors

/** Dtypes every value of which survives float32 (NaN payloads aside). */
const F32_EXACT = new Set(['F16', 'BF16', 'F8_E4M3', 'F8_E5M2', 'I8', 'U8', 'I16', 'U16', 'BOOL']);
const WIDE_INT = new Set(['I32', 'U32', 'I64', 'U64']);

/**
 * The stored bytes of a tensor rebuilt from its float32 decoding, when that is provably exact:
 * float32 itself (copied bit for bit), narrow types, and wide integers all below 2^24 in
 * magnitude (a larger stored integer decodes to a float32 ≥ 2^24, so nothing inexact passes).
 * Undefined otherwise (F64, large integers, NaNs in a narrow float type).
 */
export function exactBytesFromF32(dtype: string, v: Float32Array): Uint8Array | undefined {
  if (dtype === 'F32') return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  if (F32_EXACT.has(dtype)) {
    for (let i = 0; i < v.length; i++) if (Number.isNaN(v[i]!)) return undefined;
    return encodeValues(dtype, v, '');
  }
  if (WIDE_INT.has(dtype)) {
    for (let i = 0; i < v.length; i++) if (!(Math.abs(v[i]!) < 2 ** 24)) return undefined;
    return encodeValues(dtype, v, '');
  }
  return undefined;
}

/** The dtype error's hint in a quantization export. */
const QUANT_DTYPE_HINT = '; quantize it or leave it out';

/**
 * A tensor's stored bytes, exactly: read raw from the file (readRaw) or re-encoded from its float32
 * decoding where that is lossless; an error naming `what` and the tensor otherwise. `text` words
 * the two errors: a hint after the dtype one, and what the inexact copy would be made from.
 */
export async function exactTensorBytes(
  t: TensorInfo, decoded: () => Promise<Float32Array>, what: string, opts: { readRaw?: RawTensorReader; signal?: AbortSignal }, text: { dtypeHint?: string; from: string },
): Promise<Uint8Array> {
  if (DTYPE_BYTES[t.dtype] === undefined) {
    throw new UnsupportedError('export-dtype', `${what}: tensor "${t.name}" has dtype ${t.dtype}, which safetensors cannot hold${text.dtypeHint ?? ''}`);
  }
  const bytes = opts.readRaw ? await opts.readRaw(t, opts.signal) : exactBytesFromF32(t.dtype, await decoded());
  if (!bytes) throw new UnsupportedError('export-inexact', `${what}: tensor "${t.name}" (${t.dtype}) cannot be copied exactly from ${text.from}`);
  return bytes;
}

/** A tensor of the source copied unchanged into an export (see exactTensorBytes). */
export async function copyTensor(source: TensorSource, t: TensorInfo, opts: ExportOptions, dtypeHint = ''): Promise<SafetensorsTensorInput> {
  const data = await exactTensorBytes(t, () => source.read(t.name, opts.signal), source.name, opts, { dtypeHint, from: `a decoded ${source.format} tensor` });
  return { name: t.name, shape: t.shape, dtype: t.dtype, data };
}

/**
 * Stored bytes of the tensors of a single-file safetensors model (not sharded), read straight
 * from the file: the reader WeightLens uses for copies that must be bit-exact and for I64 parts.
 */
export async function safetensorsRawReader(input: ModelInput, signal?: AbortSignal): Promise<RawTensorReader> {
  const f = await readSafetensorsHeader(input.primary, resolveOptions(), signal);
  const byName = new Map(f.entries.map((e) => [e.name, e]));
  return async (t, sig) => {
    const e = byName.get(t.name);
    if (!e) throw new FormatError('bad-header', `${input.primary.name}: no tensor "${t.name}" in the file`);
    return f.src.read(f.dataStart + e.begin, e.end - e.begin, sig);
  };
}

function stringMetadata(source: TensorSource): Record<string, string> {
  const out: Record<string, string> = {};
  if (source.format !== 'safetensors' && source.format !== 'safetensors-sharded') return out;
  for (const [k, v] of Object.entries(source.metadata)) if (typeof v === 'string' && !k.startsWith('weightlens:')) out[k] = v;
  return out;
}

function byTensor(quantized: readonly QuantizedTensor[]): Map<string, QuantizedTensor> {
  const m = new Map<string, QuantizedTensor>();
  for (const q of quantized) m.set(q.layer.tensor.name, q);
  return m;
}

// ---------------------------------------------------------------------------------------------
// Writing

/** The packed safetensors file: quantized tensors as their parts, the rest unchanged. */
export async function buildPackedSafetensors(source: TensorSource, quantized: readonly QuantizedTensor[], opts: ExportOptions = {}): Promise<Uint8Array> {
  const q = byTensor(quantized);
  const names = new Set(source.tensors.map((t) => t.name));
  const tensors: SafetensorsTensorInput[] = [];
  const metadata: Record<string, string> = {
    ...stringMetadata(source),
    'weightlens:format': PACKED_FORMAT,
    'weightlens:format_version': String(PACKED_FORMAT_VERSION),
    'weightlens:source': source.name,
    'weightlens:decode': `Tensors listed under "${QUANT_META_PREFIX}<name>" are stored as parts (see each entry's "parts" and "decode"); every other tensor is stored unchanged. ${ORIENT_TEXT}.`,
  };
  for (const t of source.tensors) {
    throwIfAborted(opts.signal);
    const entry = q.get(t.name);
    if (!entry) {
      tensors.push(await copyTensor(source, t, opts, QUANT_DTYPE_HINT));
      continue;
    }
    const p = packedParts(entry);
    for (const part of p.tensors) {
      if (names.has(part.name)) {
        throw new UnsupportedError('export-name-clash', `${source.name}: the packed part "${part.name}" of tensor "${t.name}" has the name of a tensor the model already holds`);
      }
    }
    tensors.push(...p.tensors);
    metadata[`${QUANT_META_PREFIX}${t.name}`] = JSON.stringify(p.meta);
  }
  return writeSafetensors(tensors, metadata);
}

/** Quantized tensors' reconstruction in the stored layout (F32). */
export function dequantizedStored(q: QuantizedTensor): Float32Array {
  const { out, in: inC, kh, kw, layout } = q.layer.slices;
  return transpose4(q.result.dequantized, [out, inC, kh, kw], storedPerm(layout));
}

/** The dequantized safetensors file: every tensor under its own name and shape, quantized ones as F32 reconstructions. */
export async function buildDequantizedSafetensors(source: TensorSource, quantized: readonly QuantizedTensor[], opts: ExportOptions = {}): Promise<Uint8Array> {
  const q = byTensor(quantized);
  const tensors: SafetensorsTensorInput[] = [];
  const summary: Record<string, { method: string; dtype: string; settings: QuantSettings }> = {};
  for (const t of source.tensors) {
    throwIfAborted(opts.signal);
    const entry = q.get(t.name);
    if (!entry) {
      tensors.push(await copyTensor(source, t, opts, QUANT_DTYPE_HINT));
      continue;
    }
    tensors.push({ name: t.name, shape: t.shape, dtype: 'F32', data: dequantizedStored(entry) });
    summary[t.name] = { method: entry.result.method, dtype: t.dtype, settings: entry.settings };
  }
  return writeSafetensors(tensors, {
    ...stringMetadata(source),
    'weightlens:format': DEQUANTIZED_FORMAT,
    'weightlens:format_version': String(PACKED_FORMAT_VERSION),
    'weightlens:source': source.name,
    'weightlens:quantized': JSON.stringify(summary),
  });
}

// ---------------------------------------------------------------------------------------------
// Reading back

function parseMeta(file: string, key: string, raw: unknown): QuantTensorMeta {
  let m: unknown;
  try {
    m = typeof raw === 'string' ? JSON.parse(raw) : undefined;
  } catch {
    m = undefined;
  }
  const ok = (o: unknown): o is QuantTensorMeta =>
    typeof o === 'object' && o !== null &&
    typeof (o as QuantTensorMeta).method === 'string' &&
    typeof (o as QuantTensorMeta).matrix === 'object' && typeof (o as QuantTensorMeta).parts === 'object' &&
    typeof (o as QuantTensorMeta).params === 'object' && typeof (o as QuantTensorMeta).tensor === 'object';
  if (!ok(m)) throw new FormatError('bad-header', `${file}: metadata "${key}" is not a WeightLens quantized-tensor description`);
  if (m.format_version !== PACKED_FORMAT_VERSION) {
    throw new UnsupportedError('packed-version', `${file}: "${key}" has format version ${String(m.format_version)}, this WeightLens reads version ${PACKED_FORMAT_VERSION}`);
  }
  return m;
}

function num(file: string, m: QuantTensorMeta, key: string): number {
  const v = m.params[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new FormatError('bad-header', `${file}: tensor "${m.tensor.name}" has no numeric "${key}" in its description`);
  return v;
}

/** A positive integer parameter; `divides` (when given) must be a multiple of it. */
function posInt(file: string, m: QuantTensorMeta, key: string, divides?: number): number {
  const v = num(file, m, key);
  if (!Number.isSafeInteger(v) || v < 1 || (divides !== undefined && divides % v !== 0)) {
    throw new FormatError('bad-header', `${file}: tensor "${m.tensor.name}" has "${key}" = ${v}, expected a positive integer${divides !== undefined ? ` dividing ${divides}` : ''}`);
  }
  return v;
}

/**
 * Reads a packed file (as written by buildPackedSafetensors) and decodes every tensor to
 * float32 in its stored layout: quantized tensors from their parts, the rest as stored.
 */
export async function decodePacked(input: ModelInput, signal?: AbortSignal): Promise<Map<string, Float32Array>> {
  const src = await readSafetensors(input, signal);
  const file = src.name;
  if (src.metadata['weightlens:format'] !== PACKED_FORMAT) {
    throw new FormatError('bad-header', `${file}: not a WeightLens packed quantized file (no "weightlens:format": "${PACKED_FORMAT}" in its metadata)`);
  }
  const infos = new Map(src.tensors.map((t) => [t.name, t]));
  const metas: QuantTensorMeta[] = [];
  const partNames = new Set<string>();
  for (const [key, raw] of Object.entries(src.metadata)) {
    if (!key.startsWith(QUANT_META_PREFIX)) continue;
    const m = parseMeta(file, key, raw);
    metas.push(m);
    for (const p of Object.values(m.parts)) partNames.add(p);
  }
  let raw: RawTensorReader | undefined;
  const part = async (m: QuantTensorMeta, role: string, expect: number): Promise<Float32Array> => {
    const name = m.parts[role];
    const info = name === undefined ? undefined : infos.get(name);
    if (!info) throw new FormatError('missing-file', `${file}: tensor "${m.tensor.name}" needs part "${role}", which the file does not hold`);
    const count = elementCount(info.shape, file, info.name);
    if (count !== expect) throw new FormatError('size-mismatch', `${file}: part "${info.name}" has ${count} values, expected ${expect}`);
    return src.read(info.name, signal);
  };
  const out = new Map<string, Float32Array>();
  const decoded = new Map<string, Float32Array>();
  for (const m of metas) {
    throwIfAborted(signal);
    const { rows, cols, out: o, in: inC, kh, kw, stored_perm: perm } = m.matrix;
    const n = rows * cols;
    const dims = [rows, cols, o, inC, kh, kw];
    const isPerm = Array.isArray(perm) && perm.length === 4 && [0, 1, 2, 3].every((a) => perm.includes(a));
    if (!dims.every((v) => Number.isSafeInteger(v) && v >= 1) || !isPerm || !Array.isArray(m.tensor.shape)) {
      throw new FormatError('bad-header', `${file}: tensor "${m.tensor.name}" has an invalid matrix description ${JSON.stringify(m.matrix)}`);
    }
    if (!Number.isSafeInteger(n) || n > MAX_TENSOR_ELEMENTS || rows !== o || o * inC * kh * kw !== n || elementCount(m.tensor.shape, file, m.tensor.name) !== n) {
      throw new FormatError('bad-shape', `${file}: tensor "${m.tensor.name}" describes a ${rows} x ${cols} matrix that does not fit its shape [${m.tensor.shape.join(', ')}]`);
    }
    let M: Float32Array;
    if (m.method === 'rtn') {
      const gs = posInt(file, m, 'group_size');
      const gpr = posInt(file, m, 'groups_per_row');
      if (gpr !== Math.ceil(cols / gs)) throw new FormatError('bad-header', `${file}: tensor "${m.tensor.name}" has ${gpr} groups per row, ${cols} columns in groups of ${gs} make ${Math.ceil(cols / gs)}`);
      const codes = await part(m, 'codes', n);
      const scales = await part(m, 'scales', rows * gpr);
      const zeros = m.parts.zeros ? await part(m, 'zeros', rows * gpr) : null;
      M = rtnReconstruct(codes, scales, zeros, num(file, m, 'offset'), rows, cols, gs, gpr);
    } else if (m.method === 'vq' || m.method === 'rvq') {
      const d = posInt(file, m, 'd', cols);
      const k = posInt(file, m, 'k');
      const books = posInt(file, m, 'books');
      const rpb = posInt(file, m, 'rows_per_book');
      if (books !== Math.ceil(rows / rpb)) throw new FormatError('bad-header', `${file}: tensor "${m.tensor.name}" has ${books} codebooks, ${rows} rows in books of ${rpb} need ${Math.ceil(rows / rpb)}`);
      const cb = await part(m, 'codebook', books * k * d);
      const idx = await part(m, 'indices', n / d);
      checkIndices(file, m, idx, k);
      M = vqReconstruct(cb, idx, k, rpb, rows, cols, d);
      if (m.method === 'rvq') {
        const k2 = posInt(file, m, 'k2');
        const cb2 = await part(m, 'codebook2', books * k2 * d);
        const idx2 = await part(m, 'indices2', n / d);
        checkIndices(file, m, idx2, k2);
        const second = vqReconstruct(cb2, idx2, k2, rpb, rows, cols, d);
        for (let i = 0; i < n; i++) M[i] = M[i]! + second[i]!;
      }
    } else if (m.method === 'pvq') {
      const d = posInt(file, m, 'd', cols);
      const nSub = n / d;
      raw ??= await safetensorsRawReader(input, signal);
      const idxInfo = infos.get(m.parts.pvq_index ?? '');
      if (!idxInfo || idxInfo.dtype !== 'I64' || elementCount(idxInfo.shape, file, idxInfo.name) !== nSub) {
        throw new FormatError('bad-header', `${file}: tensor "${m.tensor.name}" needs an I64 part "pvq_index" of ${nSub} values`);
      }
      const idxBytes = await raw(idxInfo, signal);
      const dv = new DataView(idxBytes.buffer, idxBytes.byteOffset, idxBytes.byteLength);
      const indices = new Float64Array(nSub);
      for (let i = 0; i < nSub; i++) indices[i] = Number(dv.getBigInt64(i * 8, true));
      const gains = await part(m, 'pvq_gain', nSub);
      M = pvqDequantize({
        d, pulses: num(file, m, 'pulses'), gainBits: num(file, m, 'gain_bits'), indices, gainCodes: Uint16Array.from(gains),
        gainMin: num(file, m, 'gain_min'), gainMax: num(file, m, 'gain_max'),
      });
    } else {
      throw new UnsupportedError('packed-method', `${file}: tensor "${m.tensor.name}" uses method "${String(m.method)}", which this WeightLens does not decode`);
    }
    decoded.set(m.tensor.name, transpose4(M, [o, inC, kh, kw], perm));
  }
  // File order: quantized tensors where their first part is, the rest as stored.
  for (const t of src.tensors) {
    if (!partNames.has(t.name)) {
      out.set(t.name, await src.read(t.name, signal));
      continue;
    }
    for (const m of metas) {
      if (Object.values(m.parts)[0] === t.name) out.set(m.tensor.name, decoded.get(m.tensor.name)!);
    }
  }
  return out;
}

function checkIndices(file: string, m: QuantTensorMeta, idx: Float32Array, k: number): void {
  for (let i = 0; i < idx.length; i++) {
    if (!(idx[i]! < k)) throw new FormatError('bad-header', `${file}: tensor "${m.tensor.name}" has codeword index ${idx[i]} at ${i}, its codebook has ${k}`);
  }
}
