import { FormatError } from '../../base/errors';
import { elementCount } from '../dtype';
import { DATA_LOCATION_EXTERNAL, TENSOR, onnxDType, typedEncoding } from './onnx-schema';
import type { OnnxTensor, OnnxTensorData } from './onnx-tensor';

/** What the streaming walk learned about one TensorProto: sizes and positions, no values. */
export interface ParsedTensor {
  name: string;
  dims: number[];
  dataType: number;
  msgOffset: number;
  msgLength: number;
  raw?: { offset: number; length: number };
  typed: Map<number, { count: number; countKnown: boolean; bytes: number }>;
  external: Map<string, string>;
  dataLocation: number;
  segmented: boolean;
}

export function emptyParsedTensor(msgOffset: number, msgLength: number): ParsedTensor {
  return { name: '', dims: [], dataType: 0, msgOffset, msgLength, typed: new Map(), external: new Map(), dataLocation: 0, segmented: false };
}

/** A tensor before naming; `reason` says why it cannot be decoded. */
export type TensorBody = Omit<OnnxTensor, 'name' | 'note' | 'consumer'> & { reason?: string };

/**
 * Validates a parsed TensorProto (shape x dtype against the stored bytes, typed field against
 * data_type, external data keys) and says where its values are.
 */
export function describeTensor(t: ParsedTensor, name: string, file: string): TensorBody {
  const dt = onnxDType(t.dataType);
  const count = elementCount(t.dims, file, name);
  const base: Pick<TensorBody, 'dims' | 'count' | 'dtype' | 'decodable' | 'reason'> = { dims: t.dims, count, dtype: dt.dtype, decodable: dt.decodable };
  if (!dt.decodable) base.reason = `ONNX type ${dt.dtype} is not decoded`;
  const expectedBytes = dt.bits === undefined ? undefined : Math.ceil((count * dt.bits) / 8);
  if (t.segmented) return { ...base, decodable: false, reason: 'segmented tensor, not decoded', data: { kind: 'none' }, byteLength: t.msgLength };
  if (t.dataLocation === DATA_LOCATION_EXTERNAL) {
    const location = t.external.get('location');
    if (!location) throw new FormatError('bad-protobuf', `${file}: tensor "${name}" has external data without a location`);
    const offset = parseDecimal(t.external.get('offset') ?? '0', name, 'offset', file);
    const given = t.external.get('length');
    const length = given === undefined ? expectedBytes : parseDecimal(given, name, 'length', file);
    if (length === undefined) return { ...base, decodable: false, data: { kind: 'none' }, byteLength: 0 };
    if (expectedBytes !== undefined && length !== expectedBytes) {
      throw new FormatError('size-mismatch', `${file}: tensor "${name}" has ${length} bytes of external data, shape [${t.dims.join(', ')}] x ${dt.dtype} needs ${expectedBytes}`);
    }
    return { ...base, data: { kind: 'external', location, offset, length }, byteLength: length };
  }
  if (t.raw) {
    if (expectedBytes !== undefined && t.raw.length !== expectedBytes) {
      throw new FormatError('size-mismatch', `${file}: tensor "${name}" has ${t.raw.length} bytes of raw_data, shape [${t.dims.join(', ')}] x ${dt.dtype} needs ${expectedBytes}`);
    }
    return { ...base, data: { kind: 'raw', ...t.raw }, byteLength: t.raw.length };
  }
  if (t.typed.size > 0) {
    const field = dt.typedField;
    for (const f of t.typed.keys()) {
      if (f !== field) throw new FormatError('bad-protobuf', `${file}: tensor "${name}" of type ${dt.dtype} stores values in TensorProto field ${f}, expected field ${field ?? 'raw_data'}`);
    }
    const run = t.typed.get(field!)!;
    const perElement = dt.dtype.startsWith('COMPLEX') ? 2 : 1;
    if (run.countKnown && run.count !== count * perElement) {
      throw new FormatError('size-mismatch', `${file}: tensor "${name}" has ${run.count} values, shape [${t.dims.join(', ')}] needs ${count * perElement}`);
    }
    if (!dt.decodable) return { ...base, data: { kind: 'none' }, byteLength: run.bytes };
    const data: OnnxTensorData = {
      kind: 'typed', msgOffset: t.msgOffset, msgLength: t.msgLength, field: field!,
      encoding: typedEncoding(field!), signed: field !== TENSOR.uint64Data, byteLength: run.bytes,
    };
    return { ...base, data, byteLength: run.bytes };
  }
  if (count === 0) return { ...base, data: { kind: 'empty' }, byteLength: 0 };
  if (!dt.decodable) return { ...base, data: { kind: 'none' }, byteLength: 0 };
  throw new FormatError('size-mismatch', `${file}: tensor "${name}" has no values, shape [${t.dims.join(', ')}] needs ${count}`);
}

function parseDecimal(v: string, name: string, what: string, file: string): number {
  const n = /^\d{1,16}$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n)) throw new FormatError('bad-offsets', `${file}: tensor "${name}" has external data ${what} "${v.slice(0, 40)}"`);
  return n;
}
