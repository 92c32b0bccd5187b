import { FormatError, LimitError } from '../../base/errors';
import { MAX_TENSOR_BYTES } from '../../base/limits';
import type { ByteSource } from '../../io/byte-source';
import { DTYPE_BYTES } from '../dtype';
import { MAX_FIELD_HEAD_BYTES, ProtoStream, WIRE_I32, WIRE_I64, WIRE_LEN, WIRE_VARINT } from './protobuf-reader';
import { ONNX_WINDOW_BYTES } from './onnx-schema';
import type { OnnxTensorData } from './onnx-tensor';

type Typed = Extract<OnnxTensorData, { kind: 'typed' }>;

/**
 * Values kept in a typed field (float_data, int32_data, ... or a Constant's value_floats) are
 * re-encoded as the little-endian bytes raw_data would have held, so one decoder
 * (decodeToF32) serves both. The message is streamed in windows like at open, so a huge
 * unrelated field next to the values (a doc_string) is skipped, never held.
 */
export async function readTypedValues(
  src: ByteSource,
  data: Typed,
  dtype: string,
  count: number,
  tensor: string,
  signal?: AbortSignal,
): Promise<Uint8Array> {
  const width = DTYPE_BYTES[dtype];
  if (width === undefined) throw new FormatError('unknown-dtype', `${src.name}: tensor "${tensor}" has dtype ${dtype}`);
  if (count * width > MAX_TENSOR_BYTES) {
    throw new LimitError('tensor-bytes', `${src.name}: tensor "${tensor}" needs ${count * width} bytes, over MAX_TENSOR_BYTES`);
  }
  const out = new Uint8Array(count * width);
  const dv = new DataView(out.buffer);
  const put = writer(dtype, dv);
  const end = data.msgOffset + data.msgLength;
  const s = new ProtoStream(src, Math.min(data.msgLength, ONNX_WINDOW_BYTES), signal, data.msgOffset);
  const scalarWire = data.encoding === 'fixed32' ? WIRE_I32 : data.encoding === 'fixed64' ? WIRE_I64 : WIRE_VARINT;
  let n = 0;
  /** Reads one value; the caller has made its bytes resident. */
  const one = (limit: number): void => {
    let v: number;
    if (data.encoding === 'fixed32') v = s.float32(limit);
    else if (data.encoding === 'fixed64') v = s.float64(limit);
    else {
      s.varint(limit);
      v = data.signed ? s.lastSigned : s.lastUnsigned;
    }
    if (n >= count) throw new FormatError('size-mismatch', `${src.name}: tensor "${tensor}" has more than the ${count} values its shape allows`);
    put(n++, v);
  };
  while (s.pos < end) {
    const p = s.need(MAX_FIELD_HEAD_BYTES);
    if (p) await p;
    const tag = s.tag(end);
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field !== data.field) {
      s.skip(wire, end);
    } else if (wire === WIRE_LEN) {
      const e = s.lengthDelimited(end);
      while (s.pos < e) {
        const q = s.need(MAX_FIELD_HEAD_BYTES);
        if (q) await q;
        one(e);
      }
    } else if (wire === scalarWire) {
      one(end);
    } else {
      s.fail('bad-protobuf', `tensor "${tensor}": field ${field} has wire type ${wire}`);
    }
  }
  if (n !== count) throw new FormatError('size-mismatch', `${src.name}: tensor "${tensor}" has ${n} values, its shape needs ${count}`);
  return out;
}

/** Writes one value as the dtype's stored little-endian element (16-bit floats arrive as bit patterns). */
function writer(dtype: string, dv: DataView): (i: number, v: number) => void {
  switch (dtype) {
    case 'F32':
      return (i, v) => dv.setFloat32(i * 4, v, true);
    case 'F64':
      return (i, v) => dv.setFloat64(i * 8, v, true);
    case 'F16':
    case 'BF16':
    case 'U16':
      return (i, v) => dv.setUint16(i * 2, v & 0xffff, true);
    case 'I16':
      return (i, v) => dv.setInt16(i * 2, v, true);
    case 'F8_E4M3':
    case 'F8_E5M2':
    case 'U8':
      return (i, v) => dv.setUint8(i, v & 0xff);
    case 'BOOL':
      return (i, v) => dv.setUint8(i, v ? 1 : 0);
    case 'I8':
      return (i, v) => dv.setInt8(i, v);
    case 'I32':
      return (i, v) => dv.setInt32(i * 4, v, true);
    case 'U32':
      return (i, v) => dv.setUint32(i * 4, v, true);
    case 'I64':
      return (i, v) => dv.setBigInt64(i * 8, BigInt(v), true);
    case 'U64':
      return (i, v) => dv.setBigUint64(i * 8, BigInt(v), true);
    default:
      throw new FormatError('unknown-dtype', `no typed-field writer for ${dtype}`);
  }
}
