import { f16ToF32 } from '../dtype';

/**
 * Dequantizers from GGML block layouts to float32, written from the block structs and formulas
 * of ggml-common.h / ggml-quants.c. Each decodes `nBlocks` whole blocks from `bytes` into `out`
 * starting at element `o`; the caller has checked that bytes.length = nBlocks x typeSize.
 * Arithmetic is in float64 and rounded once on store, so results agree with ggml's float32
 * arithmetic to about one ulp.
 */
export type BlockDecoder = (bytes: Uint8Array, nBlocks: number, out: Float32Array, o: number) => void;

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

const decodeF32: BlockDecoder = (b, n, out, o) => {
  if (b.byteOffset % 4 === 0) {
    out.set(new Float32Array(b.buffer, b.byteOffset, n), o);
    return;
  }
  const v = view(b);
  for (let i = 0; i < n; i++) out[o + i] = v.getFloat32(i * 4, true);
};

const decodeF16: BlockDecoder = (b, n, out, o) => {
  const v = view(b);
  for (let i = 0; i < n; i++) out[o + i] = f16ToF32(v.getUint16(i * 2, true));
};

const decodeBF16: BlockDecoder = (b, n, out, o) => {
  // bfloat16 is the top half of a float32: write the bits straight into the output.
  const bits = new Uint32Array(out.buffer, out.byteOffset, out.length);
  const v = view(b);
  for (let i = 0; i < n; i++) bits[o + i] = v.getUint16(i * 2, true) << 16;
};

const decodeF64: BlockDecoder = (b, n, out, o) => {
  const v = view(b);
  for (let i = 0; i < n; i++) out[o + i] = v.getFloat64(i * 8, true);
};

const decodeI8: BlockDecoder = (b, n, out, o) => {
  const v = view(b);
  for (let i = 0; i < n; i++) out[o + i] = v.getInt8(i);
};

const decodeI16: BlockDecoder = (b, n, out, o) => {
  const v = view(b);
  for (let i = 0; i < n; i++) out[o + i] = v.getInt16(i * 2, true);
};

const decodeI32: BlockDecoder = (b, n, out, o) => {
  const v = view(b);
  for (let i = 0; i < n; i++) out[o + i] = v.getInt32(i * 4, true);
};

const decodeI64: BlockDecoder = (b, n, out, o) => {
  const v = view(b);
  for (let i = 0; i < n; i++) out[o + i] = Number(v.getBigInt64(i * 8, true));
};

/** Q4_0 (18 B / 32): f16 d, 16 bytes of nibbles; low nibbles are elements 0..15, high 16..31; x = d(q-8). */
const decodeQ4_0: BlockDecoder = (b, n, out, o) => {
  const v = view(b);
  for (let k = 0, p = 0; k < n; k++, p += 18, o += 32) {
    const d = f16ToF32(v.getUint16(p, true));
    for (let j = 0; j < 16; j++) {
      const q = b[p + 2 + j]!;
      out[o + j] = d * ((q & 15) - 8);
      out[o + j + 16] = d * ((q >> 4) - 8);
    }
  }
};

/** Q4_1 (20 B / 32): f16 d, f16 m, nibbles as Q4_0; x = d q + m. */
const decodeQ4_1: BlockDecoder = (b, n, out, o) => {
  const v = view(b);
  for (let k = 0, p = 0; k < n; k++, p += 20, o += 32) {
    const d = f16ToF32(v.getUint16(p, true));
    const m = f16ToF32(v.getUint16(p + 2, true));
    for (let j = 0; j < 16; j++) {
      const q = b[p + 4 + j]!;
      out[o + j] = d * (q & 15) + m;
      out[o + j + 16] = d * (q >> 4) + m;
    }
  }
};

/** Q5_0 (22 B / 32): f16 d, u32 qh (bit i = 5th bit of element i), nibbles as Q4_0; x = d(q-16). */
const decodeQ5_0: BlockDecoder = (b, n, out, o) => {
  const v = view(b);
  for (let k = 0, p = 0; k < n; k++, p += 22, o += 32) {
    const d = f16ToF32(v.getUint16(p, true));
    const qh = v.getUint32(p + 2, true);
    for (let j = 0; j < 16; j++) {
      const q = b[p + 6 + j]!;
      out[o + j] = d * (((q & 15) | (((qh >>> j) & 1) << 4)) - 16);
      out[o + j + 16] = d * (((q >> 4) | (((qh >>> (j + 16)) & 1) << 4)) - 16);
    }
  }
};

/** Q5_1 (24 B / 32): f16 d, f16 m, u32 qh, nibbles; x = d q + m. */
const decodeQ5_1: BlockDecoder = (b, n, out, o) => {
  const v = view(b);
  for (let k = 0, p = 0; k < n; k++, p += 24, o += 32) {
    const d = f16ToF32(v.getUint16(p, true));
    const m = f16ToF32(v.getUint16(p + 2, true));
    const qh = v.getUint32(p + 4, true);
    for (let j = 0; j < 16; j++) {
      const q = b[p + 8 + j]!;
      out[o + j] = d * ((q & 15) | (((qh >>> j) & 1) << 4)) + m;
      out[o + j + 16] = d * ((q >> 4) | (((qh >>> (j + 16)) & 1) << 4)) + m;
    }
  }
};

/** Q8_0 (34 B / 32): f16 d, 32 int8; x = d q. */
const decodeQ8_0: BlockDecoder = (b, n, out, o) => {
  const v = view(b);
  for (let k = 0, p = 0; k < n; k++, p += 34, o += 32) {
    const d = f16ToF32(v.getUint16(p, true));
    for (let j = 0; j < 32; j++) out[o + j] = d * v.getInt8(p + 2 + j);
  }
};

/**
 * The 6-bit scale and min of sub-block `sub` (0..7) from the 12 packed bytes at `s` (Q4_K,
 * Q5_K): sub-blocks 0..3 hold 6 bits in bytes 0..3 (scale) and 4..7 (min); sub-blocks 4..7 keep
 * their low 4 bits in bytes 8..11 and their top 2 bits in the spare top bits of bytes 0..7.
 */
function scaleMinK4(b: Uint8Array, s: number, sub: number): [number, number] {
  if (sub < 4) return [b[s + sub]! & 63, b[s + sub + 4]! & 63];
  return [
    (b[s + sub + 4]! & 15) | ((b[s + sub - 4]! >> 6) << 4),
    (b[s + sub + 4]! >> 4) | ((b[s + sub]! >> 6) << 4),
  ];
}

/**
 * Q4_K (144 B / 256): f16 d, f16 dmin, 12 bytes holding eight 6-bit scales and eight 6-bit mins,
 * 128 bytes of nibbles. Each 32-byte run of nibbles serves two sub-blocks of 32: low nibbles the
 * even one, high nibbles the odd one. x = d sc q - dmin m.
 */
const decodeQ4_K: BlockDecoder = (b, n, out, o) => {
  const v = view(b);
  for (let k = 0, p = 0; k < n; k++, p += 144, o += 256) {
    const d = f16ToF32(v.getUint16(p, true));
    const dmin = f16ToF32(v.getUint16(p + 2, true));
    for (let sub = 0; sub < 8; sub++) {
      const [sc, m] = scaleMinK4(b, p + 4, sub);
      const scale = d * sc;
      const min = dmin * m;
      const qs = p + 16 + (sub >> 1) * 32;
      const shift = (sub & 1) * 4;
      const y = o + sub * 32;
      for (let l = 0; l < 32; l++) out[y + l] = scale * ((b[qs + l]! >> shift) & 15) - min;
    }
  }
};

/**
 * Q6_K (210 B / 256): ql[128] low 4 bits, qh[64] high 2 bits, int8 scales[16] (one per 16
 * elements), f16 d. Each half of 128 elements uses 64 ql bytes and 32 qh bytes: element l of
 * the four 32-runs takes ql[l] low, ql[l+32] low, ql[l] high, ql[l+32] high nibbles and
 * qh[l] bits 0-1, 2-3, 4-5, 6-7. x = d scale (q - 32).
 */
const decodeQ6_K: BlockDecoder = (b, n, out, o) => {
  const v = view(b);
  for (let k = 0, p = 0; k < n; k++, p += 210, o += 256) {
    const d = f16ToF32(v.getUint16(p + 208, true));
    for (let half = 0; half < 2; half++) {
      const ql = p + half * 64;
      const qh = p + 128 + half * 32;
      const sc = p + 192 + half * 8;
      const y = o + half * 128;
      for (let l = 0; l < 32; l++) {
        const is = l >> 4;
        const h = b[qh + l]!;
        const lo = b[ql + l]!;
        const hi = b[ql + l + 32]!;
        out[y + l] = d * v.getInt8(sc + is) * (((lo & 15) | ((h & 3) << 4)) - 32);
        out[y + l + 32] = d * v.getInt8(sc + is + 2) * (((hi & 15) | (((h >> 2) & 3) << 4)) - 32);
        out[y + l + 64] = d * v.getInt8(sc + is + 4) * (((lo >> 4) | (((h >> 4) & 3) << 4)) - 32);
        out[y + l + 96] = d * v.getInt8(sc + is + 6) * (((hi >> 4) | (((h >> 6) & 3) << 4)) - 32);
      }
    }
  }
};

/**
 * Q5_K (176 B / 256): f16 d, f16 dmin, 12 scale bytes as Q4_K, qh[32], qs[128]. Sub-block s
 * takes its low 4 bits like Q4_K and its 5th bit from bit s of qh[l]. x = d sc q - dmin m.
 */
const decodeQ5_K: BlockDecoder = (b, n, out, o) => {
  const v = view(b);
  for (let k = 0, p = 0; k < n; k++, p += 176, o += 256) {
    const d = f16ToF32(v.getUint16(p, true));
    const dmin = f16ToF32(v.getUint16(p + 2, true));
    for (let sub = 0; sub < 8; sub++) {
      const [sc, m] = scaleMinK4(b, p + 4, sub);
      const scale = d * sc;
      const min = dmin * m;
      const qs = p + 48 + (sub >> 1) * 32;
      const shift = (sub & 1) * 4;
      const y = o + sub * 32;
      for (let l = 0; l < 32; l++) {
        const q = ((b[qs + l]! >> shift) & 15) | (((b[p + 16 + l]! >> sub) & 1) << 4);
        out[y + l] = scale * q - min;
      }
    }
  }
};

/**
 * Q3_K (110 B / 256): hmask[32], qs[64] (2-bit), 12 bytes of sixteen 6-bit scales (low nibbles
 * in bytes 0..7, top 2 bits in bytes 8..11; stored +32), f16 d. Within each half of 128, the
 * four 32-runs take bits 0-1, 2-3, 4-5, 6-7 of qs[l]; run r (0..7 over the block) takes bit r of
 * hmask[l], and a clear bit subtracts 4. x = d (scale - 32) q.
 */
const decodeQ3_K: BlockDecoder = (b, n, out, o) => {
  const v = view(b);
  const scales = new Float64Array(16);
  for (let k = 0, p = 0; k < n; k++, p += 110, o += 256) {
    const d = f16ToF32(v.getUint16(p + 108, true));
    const s = p + 96;
    for (let i = 0; i < 16; i++) {
      const low = i < 8 ? b[s + i]! & 15 : b[s + i - 8]! >> 4;
      const high = (b[s + 8 + (i & 3)]! >> (2 * (i >> 2))) & 3;
      scales[i] = d * ((low | (high << 4)) - 32);
    }
    for (let run = 0; run < 8; run++) {
      const qs = p + 32 + (run >> 2) * 32;
      const shift = 2 * (run & 3);
      const y = o + run * 32;
      for (let l = 0; l < 32; l++) {
        const q = ((b[qs + l]! >> shift) & 3) - ((b[p + l]! >> run) & 1 ? 0 : 4);
        out[y + l] = scales[run * 2 + (l >> 4)]! * q;
      }
    }
  }
};

/**
 * Q2_K (84 B / 256): scales[16] (low nibble scale, high nibble min, one per 16 elements),
 * qs[64] (2-bit, laid out as Q3_K's), f16 d, f16 dmin. x = d sc q - dmin m.
 */
const decodeQ2_K: BlockDecoder = (b, n, out, o) => {
  const v = view(b);
  for (let k = 0, p = 0; k < n; k++, p += 84, o += 256) {
    const d = f16ToF32(v.getUint16(p + 80, true));
    const dmin = f16ToF32(v.getUint16(p + 82, true));
    for (let run = 0; run < 8; run++) {
      const qs = p + 16 + (run >> 2) * 32;
      const shift = 2 * (run & 3);
      const y = o + run * 32;
      for (let l = 0; l < 32; l++) {
        const sm = b[p + run * 2 + (l >> 4)]!;
        out[y + l] = d * (sm & 15) * ((b[qs + l]! >> shift) & 3) - dmin * (sm >> 4);
      }
    }
  }
};

/** Decoders by GGML type name; a type absent here is listed but not decoded. */
export const GGML_DECODERS: Readonly<Record<string, BlockDecoder>> = {
  F32: decodeF32,
  F16: decodeF16,
  BF16: decodeBF16,
  F64: decodeF64,
  I8: decodeI8,
  I16: decodeI16,
  I32: decodeI32,
  I64: decodeI64,
  Q4_0: decodeQ4_0,
  Q4_1: decodeQ4_1,
  Q5_0: decodeQ5_0,
  Q5_1: decodeQ5_1,
  Q8_0: decodeQ8_0,
  Q2_K: decodeQ2_K,
  Q3_K: decodeQ3_K,
  Q4_K: decodeQ4_K,
  Q5_K: decodeQ5_K,
  Q6_K: decodeQ6_K,
};

export function decoderFor(typeName: string): BlockDecoder | undefined {
  return Object.prototype.hasOwnProperty.call(GGML_DECODERS, typeName) ? GGML_DECODERS[typeName] : undefined;
}
