import { FormatError, UnsupportedError } from '../base/errors';

/** Bytes per element of the scalar dtypes (GGUF block types are handled by the GGUF reader). */
export const DTYPE_BYTES: Readonly<Record<string, number>> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, F8_E4M3: 1, F8_E5M2: 1,
  I8: 1, U8: 1, I16: 2, U16: 2, I32: 4, U32: 4, I64: 8, U64: 8, BOOL: 1,
};

export function isScalarDType(d: string): boolean {
  return Object.prototype.hasOwnProperty.call(DTYPE_BYTES, d);
}

const F16_TABLE = (() => {
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const s = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const m = h & 0x3ff;
    if (e === 0) t[h] = s * m * 2 ** -24;
    else if (e === 31) t[h] = m ? NaN : s * Infinity;
    else t[h] = s * (1 + m / 1024) * 2 ** (e - 15);
  }
  return t;
})();

export function f16ToF32(h: number): number {
  return F16_TABLE[h & 0xffff]!;
}

/** OCP FP8 E4M3 (fn variant: no infinities, S.1111.111 is NaN), bias 7. */
const E4M3_TABLE = (() => {
  const t = new Float32Array(256);
  for (let b = 0; b < 256; b++) {
    const s = b & 0x80 ? -1 : 1;
    const e = (b >> 3) & 0xf;
    const m = b & 7;
    if (e === 15 && m === 7) t[b] = NaN;
    else if (e === 0) t[b] = s * (m / 8) * 2 ** -6;
    else t[b] = s * (1 + m / 8) * 2 ** (e - 7);
  }
  return t;
})();

/** FP8 E5M2 (IEEE-like: infinities and NaNs), bias 15. */
const E5M2_TABLE = (() => {
  const t = new Float32Array(256);
  for (let b = 0; b < 256; b++) t[b] = f16ToF32(b << 8);
  return t;
})();

/**
 * Decode little-endian stored elements into float32. `bytes` must hold exactly `count` elements;
 * the caller has already checked shape x dtype = byte length.
 */
export function decodeToF32(dtype: string, bytes: Uint8Array, count: number, file = '', tensor = ''): Float32Array {
  const width = DTYPE_BYTES[dtype];
  if (width === undefined) throw new UnsupportedError('dtype', `${file}: tensor "${tensor}" has dtype ${dtype}, which WeightLens does not decode`);
  if (bytes.byteLength !== width * count) {
    throw new FormatError('size-mismatch', `${file}: tensor "${tensor}" needs ${width * count} bytes (${count} x ${dtype}), has ${bytes.byteLength}`);
  }
  const out = new Float32Array(count);
  // Copy into an aligned buffer when needed so typed views are cheap.
  const aligned = bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
  const dv = new DataView(aligned.buffer, aligned.byteOffset, aligned.byteLength);
  switch (dtype) {
    case 'F32':
      out.set(new Float32Array(aligned.buffer, aligned.byteOffset, count));
      break;
    case 'F64':
      for (let i = 0; i < count; i++) out[i] = dv.getFloat64(i * 8, true);
      break;
    case 'F16': {
      const u = new Uint16Array(aligned.buffer, aligned.byteOffset, count);
      for (let i = 0; i < count; i++) out[i] = F16_TABLE[u[i]!]!;
      break;
    }
    case 'BF16': {
      const u = new Uint16Array(aligned.buffer, aligned.byteOffset, count);
      const o = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) o[i] = u[i]! << 16;
      break;
    }
    case 'F8_E4M3':
      for (let i = 0; i < count; i++) out[i] = E4M3_TABLE[aligned[i]!]!;
      break;
    case 'F8_E5M2':
      for (let i = 0; i < count; i++) out[i] = E5M2_TABLE[aligned[i]!]!;
      break;
    case 'I8':
      for (let i = 0; i < count; i++) out[i] = dv.getInt8(i);
      break;
    case 'U8':
    case 'BOOL':
      for (let i = 0; i < count; i++) out[i] = aligned[i]!;
      break;
    case 'I16':
      for (let i = 0; i < count; i++) out[i] = dv.getInt16(i * 2, true);
      break;
    case 'U16':
      for (let i = 0; i < count; i++) out[i] = dv.getUint16(i * 2, true);
      break;
    case 'I32':
      for (let i = 0; i < count; i++) out[i] = dv.getInt32(i * 4, true);
      break;
    case 'U32':
      for (let i = 0; i < count; i++) out[i] = dv.getUint32(i * 4, true);
      break;
    case 'I64':
      for (let i = 0; i < count; i++) out[i] = Number(dv.getBigInt64(i * 8, true));
      break;
    case 'U64':
      for (let i = 0; i < count; i++) out[i] = Number(dv.getBigUint64(i * 8, true));
      break;
  }
  return out;
}

/** Product of dims with overflow and sanity checks; throws FormatError naming the tensor. */
export function elementCount(shape: readonly number[], file: string, tensor: string): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new FormatError('bad-shape', `${file}: tensor "${tensor}" has invalid dimension ${d}`);
    n *= d;
    if (!Number.isSafeInteger(n)) throw new FormatError('bad-shape', `${file}: tensor "${tensor}" shape [${shape.join(', ')}] overflows`);
  }
  return n;
}
