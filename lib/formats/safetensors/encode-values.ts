import { DTYPE_BYTES } from '../dtype';

/**
 * Number -> stored element encoders for the safetensors writer, the inverse of decodeToF32.
 * Floats round once, from the exact input value, to nearest with ties to even (as torch's
 * `.to(dtype)` does); integers must be exact.
 */

interface MiniFloat {
  mbits: number;
  bias: number;
  /** Largest finite positive code, the code an overflow becomes, and the quiet NaN code. */
  maxCode: number;
  overflowCode: number;
  nanCode: number;
  signBit: number;
}

const F16: MiniFloat = { mbits: 10, bias: 15, maxCode: 0x7bff, overflowCode: 0x7c00, nanCode: 0x7e00, signBit: 0x8000 };
const BF16: MiniFloat = { mbits: 7, bias: 127, maxCode: 0x7f7f, overflowCode: 0x7f80, nanCode: 0x7fc0, signBit: 0x8000 };
const E5M2: MiniFloat = { mbits: 2, bias: 15, maxCode: 0x7b, overflowCode: 0x7c, nanCode: 0x7e, signBit: 0x80 };
// E4M3 "fn" has no infinity: like torch, values past the rounding range of 448 become NaN.
const E4M3: MiniFloat = { mbits: 3, bias: 7, maxCode: 0x7e, overflowCode: 0x7f, nanCode: 0x7f, signBit: 0x80 };

/**
 * Round-to-nearest-even into a small binary float. Works on the exact double value: within the
 * binade [2^e, 2^(e+1)) the step is 2^(e-mbits), so x / step is exact and rounding it is the
 * whole job; a carry into the next binade or into the overflow code falls out of the code layout.
 */
function encodeMiniFloat(x: number, f: MiniFloat): number {
  if (Number.isNaN(x)) return f.nanCode;
  const sign = x < 0 || Object.is(x, -0) ? f.signBit : 0;
  const a = Math.abs(x);
  if (a === Infinity) return sign | f.overflowCode;
  const minExp = 1 - f.bias;
  let e = minExp;
  if (a >= 2 ** minExp) {
    e = Math.floor(Math.log2(a));
    if (2 ** e > a) e--;
    else if (2 ** (e + 1) <= a) e++;
  }
  const q = a / 2 ** (e - f.mbits);
  let n = Math.floor(q);
  const r = q - n;
  if (r > 0.5 || (r === 0.5 && n % 2 === 1)) n++;
  // At minExp this is the subnormal code (or the first normal after a carry); above it,
  // n in [2^mbits, 2^(mbits+1)] lands in the right exponent field.
  const code = (e - minExp) * 2 ** f.mbits + n;
  return sign | (code > f.maxCode ? f.overflowCode : code);
}

export const f32ToF16Bits = (x: number): number => encodeMiniFloat(x, F16);
export const f32ToBf16Bits = (x: number): number => encodeMiniFloat(x, BF16);
export const f32ToE5M2Bits = (x: number): number => encodeMiniFloat(x, E5M2);
export const f32ToE4M3Bits = (x: number): number => encodeMiniFloat(x, E4M3);

/** Integer dtypes: [min, max) as exact doubles (2^63 and 2^64 are exact, so 64-bit ranges work too). */
const INT_RANGES: Readonly<Record<string, [number, number]>> = {
  I8: [-(2 ** 7), 2 ** 7], U8: [0, 2 ** 8], I16: [-(2 ** 15), 2 ** 15], U16: [0, 2 ** 16],
  I32: [-(2 ** 31), 2 ** 31], U32: [0, 2 ** 32], I64: [-(2 ** 63), 2 ** 63], U64: [0, 2 ** 64],
  BOOL: [0, 2],
};

/** Encodes `values` as `dtype` little-endian bytes; throws RangeError naming the tensor on values the dtype cannot hold. */
export function encodeValues(dtype: string, values: ArrayLike<number>, tensor: string): Uint8Array {
  const n = values.length;
  const width = DTYPE_BYTES[dtype];
  if (width === undefined) throw new RangeError(`tensor "${tensor}": cannot encode dtype ${dtype} from numbers; pass raw bytes`);
  const out = new Uint8Array(n * width);
  const dv = new DataView(out.buffer);
  const range = INT_RANGES[dtype];
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (range && !(Number.isInteger(v) && v >= range[0] && v < range[1])) {
      throw new RangeError(`tensor "${tensor}": element ${i} = ${v} is not representable as ${dtype}`);
    }
    switch (dtype) {
      case 'F64': dv.setFloat64(i * 8, v, true); break;
      case 'F32': dv.setFloat32(i * 4, v, true); break;
      case 'F16': dv.setUint16(i * 2, f32ToF16Bits(v), true); break;
      case 'BF16': dv.setUint16(i * 2, f32ToBf16Bits(v), true); break;
      case 'F8_E4M3': out[i] = f32ToE4M3Bits(v); break;
      case 'F8_E5M2': out[i] = f32ToE5M2Bits(v); break;
      case 'I8': dv.setInt8(i, v); break;
      case 'U8': case 'BOOL': out[i] = v; break;
      case 'I16': dv.setInt16(i * 2, v, true); break;
      case 'U16': dv.setUint16(i * 2, v, true); break;
      case 'I32': dv.setInt32(i * 4, v, true); break;
      case 'U32': dv.setUint32(i * 4, v, true); break;
      case 'I64': dv.setBigInt64(i * 8, BigInt(v), true); break;
      case 'U64': dv.setBigUint64(i * 8, BigInt(v), true); break;
    }
  }
  return out;
}
