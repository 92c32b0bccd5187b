/**
 * Writes .npy bytes the way numpy/lib/format.py does (write_array_header_1_0 / _2_0): magic
 * "\x93NUMPY", version, little-endian header length, the header dict repr
 * "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }" padded with spaces and a final
 * newline so the data starts at a multiple of 64 bytes.
 */
export function npyHeaderText(descr: string, fortran: boolean, shape: number[]): string {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  return `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': ${shapeText}, }`;
}

export function buildNpy(opts: { descr: string; shape: number[]; data: Uint8Array; fortran?: boolean; version?: 1 | 2 | 3; headerText?: string }): Uint8Array {
  const version = opts.version ?? 1;
  const text = opts.headerText ?? npyHeaderText(opts.descr, opts.fortran ?? false, opts.shape);
  const body = new TextEncoder().encode(text);
  const prefix = version === 1 ? 10 : 12;
  const unpadded = prefix + body.length + 1;
  const pad = (64 - (unpadded % 64)) % 64;
  const headerLen = body.length + pad + 1;
  const out = new Uint8Array(prefix + headerLen + opts.data.length);
  out.set([0x93, ...new TextEncoder().encode('NUMPY'), version, 0]);
  const dv = new DataView(out.buffer);
  if (version === 1) dv.setUint16(8, headerLen, true);
  else dv.setUint32(8, headerLen, true);
  out.set(body, prefix);
  out.fill(0x20, prefix + body.length, prefix + body.length + pad);
  out[prefix + headerLen - 1] = 0x0a;
  out.set(opts.data, prefix + headerLen);
  return out;
}

/** Encodes numbers with a DataView setter (independent of the reader's decoder). */
export function encodeValues(kind: 'f8' | 'f4' | 'i8' | 'i4' | 'i2' | 'i1' | 'u1' | 'u2' | 'u4' | 'u8' | 'b1', values: number[], littleEndian = true): Uint8Array {
  const width = { f8: 8, f4: 4, i8: 8, i4: 4, i2: 2, i1: 1, u1: 1, u2: 2, u4: 4, u8: 8, b1: 1 }[kind];
  const out = new Uint8Array(values.length * width);
  const dv = new DataView(out.buffer);
  values.forEach((v, i) => {
    const o = i * width;
    switch (kind) {
      case 'f8': dv.setFloat64(o, v, littleEndian); break;
      case 'f4': dv.setFloat32(o, v, littleEndian); break;
      case 'i8': dv.setBigInt64(o, BigInt(v), littleEndian); break;
      case 'u8': dv.setBigUint64(o, BigInt(v), littleEndian); break;
      case 'i4': dv.setInt32(o, v, littleEndian); break;
      case 'u4': dv.setUint32(o, v, littleEndian); break;
      case 'i2': dv.setInt16(o, v, littleEndian); break;
      case 'u2': dv.setUint16(o, v, littleEndian); break;
      case 'i1': dv.setInt8(o, v); break;
      case 'u1': case 'b1': dv.setUint8(o, v); break;
    }
  });
  return out;
}
