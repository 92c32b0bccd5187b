import { DTYPE_BYTES, elementCount } from './dtype';
import { encodeValues } from './safetensors/encode-values';

export interface SafetensorsTensorInput {
  name: string;
  shape: readonly number[];
  dtype: string;
  /**
   * Numbers (encoded to `dtype`, floats rounding to nearest-even, integers exact) or the
   * already-encoded little-endian bytes.
   */
  data: Float32Array | Float64Array | Uint8Array;
}

/**
 * Serialises tensors as a .safetensors file, laid out as the reference writer does: the header
 * padded with spaces to a multiple of 8 bytes (so F64/I64 data is aligned), tensors contiguous
 * from offset 0 in the order given, `__metadata__` first.
 */
export function writeSafetensors(tensors: readonly SafetensorsTensorInput[], metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = { ...metadata };
  const blobs: Uint8Array[] = [];
  let offset = 0;
  const seen = new Set<string>();
  for (const t of tensors) {
    if (t.name === '__metadata__') throw new RangeError('"__metadata__" is reserved and cannot name a tensor');
    if (seen.has(t.name)) throw new RangeError(`tensor "${t.name}" is given twice`);
    seen.add(t.name);
    const width = DTYPE_BYTES[t.dtype];
    if (width === undefined) throw new RangeError(`tensor "${t.name}": unsupported dtype ${t.dtype}`);
    const count = elementCount(t.shape, 'writeSafetensors', t.name);
    let bytes: Uint8Array;
    if (t.data instanceof Uint8Array) {
      bytes = t.data;
      if (bytes.byteLength !== count * width) {
        throw new RangeError(`tensor "${t.name}": shape [${t.shape.join(', ')}] x ${t.dtype} needs ${count * width} bytes, got ${bytes.byteLength}`);
      }
    } else {
      if (t.data.length !== count) {
        throw new RangeError(`tensor "${t.name}": shape [${t.shape.join(', ')}] has ${count} elements, got ${t.data.length} values`);
      }
      bytes = encodeValues(t.dtype, t.data, t.name);
    }
    header[t.name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes.byteLength] };
    offset += bytes.byteLength;
    blobs.push(bytes);
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLen = Math.ceil(json.byteLength / 8) * 8;
  const out = new Uint8Array(8 + headerLen + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLen), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.byteLength, 8 + headerLen);
  let p = 8 + headerLen;
  for (const b of blobs) {
    out.set(b, p);
    p += b.byteLength;
  }
  return out;
}
