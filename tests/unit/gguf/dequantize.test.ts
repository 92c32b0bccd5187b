import { describe, expect, it } from 'vitest';
import { Rng } from '@/lib/base/rng';
import { memorySource, singleFileModel } from '@/lib/io/byte-source';
import { readGguf } from '@/lib/formats/read-gguf';
import { buildGguf } from './gguf-writer';
import {
  encodeQ2_K, encodeQ3_K, encodeQ4_0, encodeQ4_1, encodeQ4_K, encodeQ5_0, encodeQ5_1, encodeQ5_K, encodeQ6_K, encodeQ8_0, f16Bits, toF16,
  type Q2_KBlock, type Q3_KBlock, type Q5_KBlock, type Q4_0Block, type Q4_1Block, type Q4_KBlock, type Q5_0Block, type Q5_1Block, type Q6_KBlock, type Q8_0Block,
} from './quant-blocks';

const T = { F32: 0, F16: 1, Q4_0: 2, Q4_1: 3, Q5_0: 6, Q5_1: 7, Q8_0: 8, Q2_K: 10, Q3_K: 11, Q4_K: 12, Q5_K: 13, Q6_K: 14, I8: 24, I16: 25, I32: 26, I64: 27, F64: 28, BF16: 30 };

/** Reads back the one tensor "w" of a file holding `data` of GGML type `type` with dims `ne`. */
async function decode(type: number, ne: number[], data: Uint8Array): Promise<{ shape: number[]; values: Float32Array }> {
  const bytes = buildGguf({ tensors: [{ name: 'w', ne, type, data }] });
  const src = await readGguf(singleFileModel(memorySource(bytes, 'q.gguf')));
  return { shape: src.tensors[0]!.shape, values: await src.read('w') };
}

function expectClose(actual: Float32Array, expected: number[]): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    if (Math.abs(actual[i]! - e) > 1e-6 * Math.max(1, Math.abs(e))) {
      throw new Error(`element ${i}: got ${actual[i]}, expected ${e}`);
    }
  }
}

const rng = new Rng(20260127);
/** A half-exact scale: 11 significant bits, exponent in a modest range, random sign if asked. */
function scale(signed = false): number {
  const v = (1 + rng.int(1024) / 1024) * 2 ** -rng.int(10);
  return signed && rng.int(2) ? -v : v;
}
const ints = (n: number, lo: number, hi: number) => Array.from({ length: n }, () => lo + rng.int(hi - lo + 1));

describe('GGUF dequantization against the spec formulas', () => {
  it('Q4_0: a hand-written block, x = d (q - 8), low nibbles are elements 0..15', async () => {
    const q = [...Array.from({ length: 16 }, (_, i) => i), ...Array.from({ length: 16 }, (_, i) => 15 - i)];
    const { values } = await decode(T.Q4_0, [32], encodeQ4_0([{ d: 0.5, q }]));
    expect(Array.from(values.slice(0, 4))).toEqual([-4, -3.5, -3, -2.5]);
    expect(values[15]).toBe(3.5);
    expect(values[16]).toBe(3.5);
    expect(values[31]).toBe(-4);
  });

  it('Q4_0', async () => {
    const blocks: Q4_0Block[] = Array.from({ length: 4 }, () => ({ d: scale(true), q: ints(32, 0, 15) }));
    const { shape, values } = await decode(T.Q4_0, [64, 2], encodeQ4_0(blocks));
    expect(shape).toEqual([2, 64]);
    expectClose(values, blocks.flatMap(({ d, q }) => q.map((v) => d * (v - 8))));
  });

  it('Q4_1', async () => {
    const blocks: Q4_1Block[] = Array.from({ length: 4 }, () => ({ d: scale(), m: scale(true), q: ints(32, 0, 15) }));
    const { values } = await decode(T.Q4_1, [128], encodeQ4_1(blocks));
    expectClose(values, blocks.flatMap(({ d, m, q }) => q.map((v) => d * v + m)));
  });

  it('Q5_0: the fifth bit comes from qh', async () => {
    const blocks: Q5_0Block[] = Array.from({ length: 4 }, () => ({ d: scale(true), q: ints(32, 0, 31) }));
    blocks[0]!.q[0] = 31; // high bit set at both ends of qh
    blocks[0]!.q[31] = 16;
    const { values } = await decode(T.Q5_0, [32, 4], encodeQ5_0(blocks));
    expectClose(values, blocks.flatMap(({ d, q }) => q.map((v) => d * (v - 16))));
  });

  it('Q5_1', async () => {
    const blocks: Q5_1Block[] = Array.from({ length: 4 }, () => ({ d: scale(), m: scale(true), q: ints(32, 0, 31) }));
    const { values } = await decode(T.Q5_1, [64, 2], encodeQ5_1(blocks));
    expectClose(values, blocks.flatMap(({ d, m, q }) => q.map((v) => d * v + m)));
  });

  it('Q8_0', async () => {
    const blocks: Q8_0Block[] = Array.from({ length: 4 }, () => ({ d: scale(true), q: ints(32, -128, 127) }));
    const { values } = await decode(T.Q8_0, [128], encodeQ8_0(blocks));
    expectClose(values, blocks.flatMap(({ d, q }) => q.map((v) => d * v)));
  });

  it('Q4_K: 8 sub-blocks of 32 with 6-bit scales and mins packed in 12 bytes', async () => {
    const blocks: Q4_KBlock[] = Array.from({ length: 4 }, () => ({
      d: scale(), dmin: scale(), sc: ints(8, 0, 63), m: ints(8, 0, 63), q: ints(256, 0, 15),
    }));
    // Extremes exercise every bit of the 6-bit packing, including the borrowed top bits.
    blocks[0]!.sc = [63, 0, 1, 32, 63, 16, 48, 33];
    blocks[0]!.m = [0, 63, 32, 1, 48, 63, 17, 62];
    const { shape, values } = await decode(T.Q4_K, [512, 2], encodeQ4_K(blocks));
    expect(shape).toEqual([2, 512]);
    expectClose(values, blocks.flatMap(({ d, dmin, sc, m, q }) => q.map((v, e) => d * sc[e >> 5]! * v - dmin * m[e >> 5]!)));
  });

  it('Q6_K: ql/qh/int8 scales/d, one scale per 16 elements', async () => {
    const blocks: Q6_KBlock[] = Array.from({ length: 3 }, () => ({ d: scale(true), sc: ints(16, -128, 127), q: ints(256, 0, 63) }));
    blocks[0]!.q[255] = 63;
    blocks[0]!.q[128] = 0;
    const { values } = await decode(T.Q6_K, [256, 3], encodeQ6_K(blocks));
    expectClose(values, blocks.flatMap(({ d, sc, q }) => q.map((v, e) => d * sc[e >> 4]! * (v - 32))));
  });
});

describe('GGUF K-quants beyond Q4_K/Q6_K, against the spec formulas', () => {
  it('Q5_K: Q4_K\'s scales plus a fifth bit per element in qh', async () => {
    const blocks: Q5_KBlock[] = Array.from({ length: 3 }, () => ({
      d: scale(), dmin: scale(), sc: ints(8, 0, 63), m: ints(8, 0, 63), q: ints(256, 0, 31),
    }));
    blocks[0]!.sc = [63, 0, 1, 32, 63, 16, 48, 33];
    const { values } = await decode(T.Q5_K, [256, 3], encodeQ5_K(blocks));
    expectClose(values, blocks.flatMap(({ d, dmin, sc, m, q }) => q.map((v, e) => d * sc[e >> 5]! * v - dmin * m[e >> 5]!)));
  });

  it('Q3_K: signed 6-bit scales per 16, 2-bit quants with a high-bit mask', async () => {
    const blocks: Q3_KBlock[] = Array.from({ length: 3 }, () => ({ d: scale(true), sc: ints(16, -32, 31), q: ints(256, -4, 3) }));
    blocks[0]!.sc[0] = -32;
    blocks[0]!.sc[15] = 31;
    const { values } = await decode(T.Q3_K, [768], encodeQ3_K(blocks));
    expectClose(values, blocks.flatMap(({ d, sc, q }) => q.map((v, e) => d * sc[e >> 4]! * v)));
  });

  it('Q2_K: 4-bit scales and mins per 16, 2-bit quants', async () => {
    const blocks: Q2_KBlock[] = Array.from({ length: 3 }, () => ({
      d: scale(), dmin: scale(true), sc: ints(16, 0, 15), m: ints(16, 0, 15), q: ints(256, 0, 3),
    }));
    const { values } = await decode(T.Q2_K, [256, 3], encodeQ2_K(blocks));
    expectClose(values, blocks.flatMap(({ d, dmin, sc, m, q }) => q.map((v, e) => d * sc[e >> 4]! * v - dmin * m[e >> 4]!)));
  });
});

describe('GGUF scalar types', () => {
  function le(n: number, width: number, set: (v: DataView, i: number) => void): Uint8Array {
    const b = new Uint8Array(n * width);
    const v = new DataView(b.buffer);
    for (let i = 0; i < n; i++) set(v, i);
    return b;
  }
  const xs = [0, 1, -2, 0.5, 3.25, -1024, 65504, 1e-3];

  it('F32 keeps row-major order: ne [4, 3] is shape [3, 4]', async () => {
    const data = le(12, 4, (v, i) => v.setFloat32(i * 4, i * 1.5 - 3, true));
    const { shape, values } = await decode(T.F32, [4, 3], data);
    expect(shape).toEqual([3, 4]);
    expect(Array.from(values)).toEqual(Array.from({ length: 12 }, (_, i) => i * 1.5 - 3));
  });

  it('F16, BF16 and F64', async () => {
    const f16 = await decode(T.F16, [8], le(8, 2, (v, i) => v.setUint16(i * 2, f16Bits(xs[i]!), true)));
    expectClose(f16.values, xs.map(toF16));
    const bf16 = await decode(T.BF16, [8], le(8, 2, (v, i) => v.setUint16(i * 2, bf16BitsOf(xs[i]!), true)));
    expectClose(bf16.values, xs.map((x) => new Float32Array(new Uint32Array([bf16BitsOf(x) << 16]).buffer)[0]!));
    expect(bf16.values[4]).toBe(3.25);
    const f64 = await decode(T.F64, [8], le(8, 8, (v, i) => v.setFloat64(i * 8, xs[i]!, true)));
    expectClose(f64.values, xs);
  });

  it('I8, I16, I32, I64 as plain integers', async () => {
    const ns = [0, 1, -1, 100, -128, 127, 42, -7];
    expect(Array.from((await decode(T.I8, [8], le(8, 1, (v, i) => v.setInt8(i, ns[i]!)))).values)).toEqual(ns);
    const wide = ns.map((n) => n * 250);
    expect(Array.from((await decode(T.I16, [8], le(8, 2, (v, i) => v.setInt16(i * 2, wide[i]!, true)))).values)).toEqual(wide);
    const big = ns.map((n) => n * 1_000_000);
    expect(Array.from((await decode(T.I32, [8], le(8, 4, (v, i) => v.setInt32(i * 4, big[i]!, true)))).values)).toEqual(big);
    expect(Array.from((await decode(T.I64, [8], le(8, 8, (v, i) => v.setBigInt64(i * 8, BigInt(big[i]!), true)))).values)).toEqual(big);
  });
});

function bf16BitsOf(x: number): number {
  return new Uint32Array(new Float32Array([x]).buffer)[0]! >>> 16; // truncation: exact for these xs
}

describe('quantize, then dequantize (random data)', () => {
  function randomRows(n: number): number[] {
    return Array.from({ length: n }, () => (rng.next() * 2 - 1) * 2 ** -rng.int(6));
  }

  it('Q8_0 stays within half a step', async () => {
    const x = randomRows(32 * 16);
    const blocks: Q8_0Block[] = [];
    for (let b = 0; b < 16; b++) {
      const xb = x.slice(b * 32, b * 32 + 32);
      const d = toF16(Math.max(...xb.map(Math.abs)) / 127);
      blocks.push({ d, q: xb.map((v) => Math.max(-127, Math.min(127, Math.round(v / d)))) });
    }
    const { values } = await decode(T.Q8_0, [128, 4], encodeQ8_0(blocks));
    x.forEach((v, i) => expect(Math.abs(values[i]! - v)).toBeLessThanOrEqual(blocks[i >> 5]!.d / 2 + 1e-7));
  });

  it('Q4_0 stays within half a step', async () => {
    const x = randomRows(32 * 16);
    const blocks: Q4_0Block[] = [];
    for (let b = 0; b < 16; b++) {
      const xb = x.slice(b * 32, b * 32 + 32);
      const d = toF16(Math.max(...xb.map(Math.abs)) / 7);
      blocks.push({ d, q: xb.map((v) => Math.max(0, Math.min(15, Math.round(v / d) + 8))) });
    }
    const { values } = await decode(T.Q4_0, [256, 2], encodeQ4_0(blocks));
    x.forEach((v, i) => expect(Math.abs(values[i]! - v)).toBeLessThanOrEqual(blocks[i >> 5]!.d / 2 + 1e-7));
  });
});
