/**
 * Test helper: packs GGML blocks from known values (scales, mins, integer quants), written
 * element by element from the block layouts in ggml-common.h, so that the tests compare the
 * reader's loop-structured dequantizers against an independent encoder plus the spec formulas.
 */

/** IEEE half bits of x, round to nearest even (normals, subnormals, zero, infinities). */
export function f16Bits(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0]!;
  const sign = (u >>> 16) & 0x8000;
  const a = Math.abs(x);
  if (Number.isNaN(x)) return 0x7e00;
  if (a >= 65520) return sign | 0x7c00;
  if (a < 2 ** -14) {
    // subnormal: units of 2^-24
    const m = roundEven(a / 2 ** -24);
    return sign | m;
  }
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e -= 1;
  if (2 ** (e + 1) <= a) e += 1;
  let m = roundEven((a / 2 ** e - 1) * 1024);
  if (m === 1024) {
    m = 0;
    e += 1;
  }
  if (e > 15) return sign | 0x7c00;
  return sign | ((e + 15) << 10) | m;
}

function roundEven(v: number): number {
  const f = Math.floor(v);
  const r = v - f;
  if (r > 0.5) return f + 1;
  if (r < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Value of IEEE half bits, from the definition (independent of lib/formats/dtype). */
export function f16Value(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 31;
  const m = h & 1023;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + m / 1024);
}

/** x rounded to the nearest half. */
export function toF16(x: number): number {
  return f16Value(f16Bits(x));
}

/** Bits of x, which must be exactly representable as a half (keeps expected values exact). */
export function exactF16(x: number): number {
  const h = f16Bits(x);
  if (f16Value(h) !== x) throw new Error(`${x} is not exactly representable in f16`);
  return h;
}

function range(q: readonly number[], n: number, lo: number, hi: number, what: string): void {
  if (q.length !== n) throw new Error(`${what}: ${q.length} quants, expected ${n}`);
  for (const v of q) if (!Number.isInteger(v) || v < lo || v > hi) throw new Error(`${what}: quant ${v} outside ${lo}..${hi}`);
}

function concat(blocks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(blocks.reduce((s, b) => s + b.length, 0));
  let at = 0;
  for (const b of blocks) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

function putHalf(b: Uint8Array, at: number, x: number): void {
  new DataView(b.buffer, b.byteOffset).setUint16(at, exactF16(x), true);
}

/** Element e of a 32-block of nibbles: byte e (e < 16) low nibble, byte e-16 high nibble. */
function packNibbles32(b: Uint8Array, at: number, q: readonly number[]): void {
  for (let e = 0; e < 32; e++) b[at + (e % 16)]! |= (q[e]! & 15) << (e < 16 ? 0 : 4);
}

function highBits32(q: readonly number[]): number {
  let qh = 0;
  for (let e = 0; e < 32; e++) qh |= ((q[e]! >> 4) & 1) << e;
  return qh >>> 0;
}

export interface Q4_0Block { d: number; q: number[] } // q in 0..15, x = d (q - 8)
export function encodeQ4_0(blocks: Q4_0Block[]): Uint8Array {
  return concat(blocks.map(({ d, q }) => {
    range(q, 32, 0, 15, 'Q4_0');
    const b = new Uint8Array(18);
    putHalf(b, 0, d);
    packNibbles32(b, 2, q);
    return b;
  }));
}

export interface Q4_1Block { d: number; m: number; q: number[] } // q in 0..15, x = d q + m
export function encodeQ4_1(blocks: Q4_1Block[]): Uint8Array {
  return concat(blocks.map(({ d, m, q }) => {
    range(q, 32, 0, 15, 'Q4_1');
    const b = new Uint8Array(20);
    putHalf(b, 0, d);
    putHalf(b, 2, m);
    packNibbles32(b, 4, q);
    return b;
  }));
}

export interface Q5_0Block { d: number; q: number[] } // q in 0..31, x = d (q - 16)
export function encodeQ5_0(blocks: Q5_0Block[]): Uint8Array {
  return concat(blocks.map(({ d, q }) => {
    range(q, 32, 0, 31, 'Q5_0');
    const b = new Uint8Array(22);
    putHalf(b, 0, d);
    new DataView(b.buffer).setUint32(2, highBits32(q), true);
    packNibbles32(b, 6, q);
    return b;
  }));
}

export interface Q5_1Block { d: number; m: number; q: number[] } // q in 0..31, x = d q + m
export function encodeQ5_1(blocks: Q5_1Block[]): Uint8Array {
  return concat(blocks.map(({ d, m, q }) => {
    range(q, 32, 0, 31, 'Q5_1');
    const b = new Uint8Array(24);
    putHalf(b, 0, d);
    putHalf(b, 2, m);
    new DataView(b.buffer).setUint32(4, highBits32(q), true);
    packNibbles32(b, 8, q);
    return b;
  }));
}

export interface Q8_0Block { d: number; q: number[] } // q in -128..127, x = d q
export function encodeQ8_0(blocks: Q8_0Block[]): Uint8Array {
  return concat(blocks.map(({ d, q }) => {
    range(q, 32, -128, 127, 'Q8_0');
    const b = new Uint8Array(34);
    putHalf(b, 0, d);
    q.forEach((v, e) => new DataView(b.buffer).setInt8(2 + e, v));
    return b;
  }));
}

/** sc, m: eight 6-bit scales and mins (one per 32 elements); q in 0..15; x = d sc q - dmin m. */
export interface Q4_KBlock { d: number; dmin: number; sc: number[]; m: number[]; q: number[] }
export function encodeQ4_K(blocks: Q4_KBlock[]): Uint8Array {
  return concat(blocks.map(({ d, dmin, sc, m, q }) => {
    range(sc, 8, 0, 63, 'Q4_K scales');
    range(m, 8, 0, 63, 'Q4_K mins');
    range(q, 256, 0, 15, 'Q4_K');
    const b = new Uint8Array(144);
    putHalf(b, 0, d);
    putHalf(b, 2, dmin);
    packScalesK4(b.subarray(4, 16), sc, m);
    for (let e = 0; e < 256; e++) {
      const sub = e >> 5;
      b[16 + (sub >> 1) * 32 + (e & 31)]! |= q[e]! << ((sub & 1) * 4);
    }
    return b;
  }));
}

/** sc: sixteen int8 scales (one per 16 elements); q in 0..63; x = d sc (q - 32). */
export interface Q6_KBlock { d: number; sc: number[]; q: number[] }
export function encodeQ6_K(blocks: Q6_KBlock[]): Uint8Array {
  return concat(blocks.map(({ d, sc, q }) => {
    range(sc, 16, -128, 127, 'Q6_K scales');
    range(q, 256, 0, 63, 'Q6_K');
    const b = new Uint8Array(210);
    for (let e = 0; e < 256; e++) {
      const half = e >> 7;
      const r = e & 127;
      const g = r >> 5; // which 32-run within the half
      const l = r & 31;
      b[half * 64 + (g & 1) * 32 + l]! |= (q[e]! & 15) << (g >= 2 ? 4 : 0);
      b[128 + half * 32 + l]! |= (q[e]! >> 4) << (2 * g);
    }
    sc.forEach((v, i) => new DataView(b.buffer).setInt8(192 + i, v));
    putHalf(b, 208, d);
    return b;
  }));
}

/** The Q4_K/Q5_K 12-byte packing of eight 6-bit scales and mins. */
function packScalesK4(s: Uint8Array, sc: readonly number[], m: readonly number[]): void {
  for (let j = 0; j < 4; j++) {
    // sub-blocks 0..3: 6 bits in bytes 0..3 (scale) and 4..7 (min);
    // sub-blocks 4..7: low 4 bits in bytes 8..11 (scale low nibble, min high nibble),
    // top 2 bits in the top bits of bytes 0..3 (scale) and 4..7 (min).
    s[j] = sc[j]! | ((sc[j + 4]! >> 4) << 6);
    s[j + 4] = m[j]! | ((m[j + 4]! >> 4) << 6);
    s[j + 8] = (sc[j + 4]! & 15) | ((m[j + 4]! & 15) << 4);
  }
}

/** sc, m: eight 6-bit scales and mins; q in 0..31 (5th bit in qh); x = d sc q - dmin m. */
export interface Q5_KBlock { d: number; dmin: number; sc: number[]; m: number[]; q: number[] }
export function encodeQ5_K(blocks: Q5_KBlock[]): Uint8Array {
  return concat(blocks.map(({ d, dmin, sc, m, q }) => {
    range(sc, 8, 0, 63, 'Q5_K scales');
    range(m, 8, 0, 63, 'Q5_K mins');
    range(q, 256, 0, 31, 'Q5_K');
    const b = new Uint8Array(176);
    putHalf(b, 0, d);
    putHalf(b, 2, dmin);
    packScalesK4(b.subarray(4, 16), sc, m);
    for (let e = 0; e < 256; e++) {
      const sub = e >> 5;
      const l = e & 31;
      b[16 + l]! |= ((q[e]! >> 4) & 1) << sub; // qh: bit `sub` of byte l
      b[48 + (sub >> 1) * 32 + l]! |= (q[e]! & 15) << ((sub & 1) * 4);
    }
    return b;
  }));
}

/** 2-bit quants of a 256-block: element e sits in byte (e>>7)*32 + (e&31) at bits 2((e>>5)&3). */
function pack2bit(b: Uint8Array, at: number, q2: (e: number) => number): void {
  for (let e = 0; e < 256; e++) b[at + (e >> 7) * 32 + (e & 31)]! |= q2(e) << (2 * ((e >> 5) & 3));
}

/** sc: sixteen signed 6-bit scales (-32..31); q in -4..3; x = d sc q. */
export interface Q3_KBlock { d: number; sc: number[]; q: number[] }
export function encodeQ3_K(blocks: Q3_KBlock[]): Uint8Array {
  return concat(blocks.map(({ d, sc, q }) => {
    range(sc, 16, -32, 31, 'Q3_K scales');
    range(q, 256, -4, 3, 'Q3_K');
    const b = new Uint8Array(110);
    for (let e = 0; e < 256; e++) if (q[e]! >= 0) b[e & 31]! |= 1 << (e >> 5); // hmask: set = no -4
    pack2bit(b, 32, (e) => q[e]! & 3);
    for (let i = 0; i < 16; i++) {
      const u = sc[i]! + 32; // stored with an offset of 32
      b[96 + (i & 7)]! |= (u & 15) << (i < 8 ? 0 : 4);
      b[96 + 8 + (i & 3)]! |= (u >> 4) << (2 * (i >> 2));
    }
    putHalf(b, 108, d);
    return b;
  }));
}

/** sc, m: sixteen 4-bit scales and mins; q in 0..3; x = d sc q - dmin m. */
export interface Q2_KBlock { d: number; dmin: number; sc: number[]; m: number[]; q: number[] }
export function encodeQ2_K(blocks: Q2_KBlock[]): Uint8Array {
  return concat(blocks.map(({ d, dmin, sc, m, q }) => {
    range(sc, 16, 0, 15, 'Q2_K scales');
    range(m, 16, 0, 15, 'Q2_K mins');
    range(q, 256, 0, 3, 'Q2_K');
    const b = new Uint8Array(84);
    for (let i = 0; i < 16; i++) b[i] = sc[i]! | (m[i]! << 4);
    pack2bit(b, 16, (e) => q[e]!);
    putHalf(b, 80, d);
    putHalf(b, 82, dmin);
    return b;
  }));
}
