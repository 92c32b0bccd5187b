import { describe, expect, it } from 'vitest';
import { decodeToF32, f16ToF32 } from '@/lib/formats/dtype';
import { f32ToBf16Bits, f32ToE4M3Bits, f32ToE5M2Bits, f32ToF16Bits } from '@/lib/formats/safetensors/encode-values';

const le16 = (...codes: number[]) => {
  const b = new Uint8Array(codes.length * 2);
  codes.forEach((c, i) => new DataView(b.buffer).setUint16(i * 2, c, true));
  return b;
};

describe('decoding known bit patterns', () => {
  it('F16', () => {
    const codes = [0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff, 0x0400, 0x8000, 0x7c00, 0xfc00, 0x3555];
    const out = decodeToF32('F16', le16(...codes), codes.length);
    expect(Array.from(out.slice(0, 9))).toEqual([1, -2, 65504, 2 ** -24, 1023 * 2 ** -24, 2 ** -14, -0, Infinity, -Infinity]);
    expect(Object.is(out[6], -0)).toBe(true);
    expect(out[9]).toBe(Math.fround(0x155 / 1024 * 0.25 + 0.25)); // 0x3555 = 0.333251953125
    expect(Number.isNaN(decodeToF32('F16', le16(0x7e00), 1)[0])).toBe(true);
  });

  it('BF16', () => {
    const codes = [0x3f80, 0xc000, 0x7f7f, 0x0001, 0x4049, 0x7f80];
    const out = decodeToF32('BF16', le16(...codes), codes.length);
    expect(Array.from(out)).toEqual([1, -2, Math.fround(3.3895313892515355e38), 2 ** -133, 3.140625, Infinity]);
  });

  it('F8 E4M3 (fn) and E5M2', () => {
    const e4 = decodeToF32('F8_E4M3', new Uint8Array([0x7e, 0x38, 0x01, 0xfe, 0x08, 0x7f]), 6);
    expect(Array.from(e4.slice(0, 5))).toEqual([448, 1, 2 ** -9, -448, 2 ** -6]);
    expect(Number.isNaN(e4[5])).toBe(true);
    const e5 = decodeToF32('F8_E5M2', new Uint8Array([0x7b, 0x3c, 0x01, 0x7c, 0xc0]), 5);
    expect(Array.from(e5)).toEqual([57344, 1, 2 ** -16, Infinity, -2]);
  });
});

describe('float encoders: round to nearest, ties to even', () => {
  it('F16 cases', () => {
    expect(f32ToF16Bits(1)).toBe(0x3c00);
    expect(f32ToF16Bits(-2)).toBe(0xc000);
    expect(f32ToF16Bits(65504)).toBe(0x7bff);
    expect(f32ToF16Bits(65519.99)).toBe(0x7bff);
    expect(f32ToF16Bits(65520)).toBe(0x7c00); // tie between 65504 (odd) and 2^16 -> overflow
    expect(f32ToF16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie -> even mantissa 0
    expect(f32ToF16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie -> even mantissa 2
    expect(f32ToF16Bits(2 ** -25)).toBe(0x0000); // tie between 0 and the smallest subnormal
    expect(f32ToF16Bits(1.5 * 2 ** -25)).toBe(0x0001);
    expect(f32ToF16Bits(-0)).toBe(0x8000);
    expect(f32ToF16Bits(1e-30)).toBe(0);
    expect(f32ToF16Bits(Infinity)).toBe(0x7c00);
    expect(f32ToF16Bits(NaN)).toBe(0x7e00);
    expect(f32ToF16Bits(2 ** -14 - 2 ** -25)).toBe(0x0400); // rounds up out of the subnormals
  });

  it('BF16, E4M3, E5M2 cases', () => {
    expect(f32ToBf16Bits(1)).toBe(0x3f80);
    expect(f32ToBf16Bits(Math.PI)).toBe(0x4049);
    expect(f32ToBf16Bits(1 + 2 ** -8)).toBe(0x3f80); // tie -> even
    expect(f32ToBf16Bits(1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(f32ToBf16Bits(3.4e38)).toBe(0x7f80);
    expect(f32ToE4M3Bits(448)).toBe(0x7e);
    expect(f32ToE4M3Bits(-448)).toBe(0xfe);
    expect(f32ToE4M3Bits(464)).toBe(0x7e); // tie, 448 has the even mantissa
    expect(f32ToE4M3Bits(500)).toBe(0x7f); // no infinity in E4M3fn: NaN
    expect(f32ToE5M2Bits(57344)).toBe(0x7b);
    expect(f32ToE5M2Bits(61440)).toBe(0x7c); // tie with odd 57344 -> infinity
    expect(f32ToE5M2Bits(1.125)).toBe(0x3c); // tie between 1 and 1.25 -> even
  });

  // Independent of the encoder's arithmetic: every finite code must survive decode -> encode,
  // and the exact midpoint between two neighbours must go to the one with an even code.
  const exhaustive = (name: string, bits: number, decode: (c: number) => number, encode: (x: number) => number) =>
    it(`${name}: all codes round-trip and all midpoints tie to even`, () => {
      const half = 2 ** (bits - 1);
      const finite: number[] = [];
      const bad: string[] = [];
      for (let c = 0; c < 2 * half; c++) {
        const v = decode(c);
        if (Number.isNaN(v)) continue;
        if (encode(v) !== c) bad.push(`code ${c.toString(16)} -> ${encode(v).toString(16)}`);
        if (c < half && Number.isFinite(v)) finite.push(c);
      }
      for (let i = 0; i + 1 < finite.length; i++) {
        const a = finite[i]!;
        const b = finite[i + 1]!;
        const mid = (decode(a) + decode(b)) / 2;
        const even = a % 2 === 0 ? a : b;
        if (encode(mid) !== even) bad.push(`midpoint ${mid} -> ${encode(mid).toString(16)}`);
        if (encode(-mid) !== (even | half)) bad.push(`midpoint ${-mid} -> ${encode(-mid).toString(16)}`);
      }
      expect(finite.length).toBeGreaterThan(100);
      expect(bad).toEqual([]);
    });

  exhaustive('F16', 16, f16ToF32, f32ToF16Bits);
  exhaustive('BF16', 16, (c) => decodeToF32('BF16', le16(c), 1)[0]!, f32ToBf16Bits);
  exhaustive('F8_E4M3', 8, (c) => decodeToF32('F8_E4M3', new Uint8Array([c]), 1)[0]!, f32ToE4M3Bits);
  exhaustive('F8_E5M2', 8, (c) => decodeToF32('F8_E5M2', new Uint8Array([c]), 1)[0]!, f32ToE5M2Bits);
});
