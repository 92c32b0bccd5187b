import { describe, expect, it } from 'vitest';
import { Rng } from '../../../lib/base/rng';
import { quantizeRtn, roundHalfEven } from '../../../lib/analysis/quant/rtn';
import { quantError } from '../../../lib/analysis/quant/quant-metrics';

const ROW = new Float32Array([-1, -0.5, 0, 0.5, 1]);

function gaussian(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal();
  return out;
}

function expectClose(actual: Float32Array, expected: number[]): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(actual[i]).toBeCloseTo(expected[i]!, 6);
}

describe('roundHalfEven', () => {
  it('rounds ties to even like torch.round', () => {
    expect([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 2.4, 2.6, -2.6].map(roundHalfEven)).toEqual([
      -2, -2, -0, 0, 2, 2, 2, 3, -3,
    ]);
  });
});

describe('quantizeRtn on a hand-derived row [-1, -0.5, 0, 0.5, 1]', () => {
  // Symmetric: scale = 1/qmax, q = round_half_even(w·qmax), qmax = 2^(b−1) − 1.
  it('symmetric 2/3/4 bits', () => {
    // b=2: qmax 1, w·qmax = -1,-0.5,0,0.5,1 → -1,0,0,0,1.
    const r2 = quantizeRtn(ROW, 1, 5, { bits: 2, symmetric: true, group: 'channel' });
    expect(r2.scales[0]).toBe(1);
    expect(r2.zeros).toBeNull();
    expect(Array.from(r2.codes)).toEqual([0, 1, 1, 1, 2]);
    expectClose(r2.dequantized, [-1, 0, 0, 0, 1]);
    // b=3: qmax 3, -3,-1.5,0,1.5,3 → -3,-2,0,2,3; scale 1/3.
    const r3 = quantizeRtn(ROW, 1, 5, { bits: 3, symmetric: true, group: 'channel' });
    expect(r3.scales[0]).toBeCloseTo(1 / 3, 7);
    expect(Array.from(r3.codes)).toEqual([0, 1, 3, 5, 6]);
    expectClose(r3.dequantized, [-1, -2 / 3, 0, 2 / 3, 1]);
    // b=4: qmax 7, -7,-3.5,0,3.5,7 → -7,-4,0,4,7; scale 1/7.
    const r4 = quantizeRtn(ROW, 1, 5, { bits: 4, symmetric: true, group: 'channel' });
    expect(r4.scales[0]).toBeCloseTo(1 / 7, 7);
    expect(Array.from(r4.codes)).toEqual([0, 3, 7, 11, 14]);
    expectClose(r4.dequantized, [-1, -4 / 7, 0, 4 / 7, 1]);
  });

  // Asymmetric (GPTQ): scale = 2/maxq, zero = round(1·maxq/2), q = clamp(round(w·maxq/2) + zero).
  it('asymmetric 2/3/4 bits', () => {
    // b=2: maxq 3, w·1.5 = -1.5,-0.75,0,0.75,1.5 → -2,-1,0,1,2; zero round(1.5)=2 → q 0,1,2,3,4→3.
    const r2 = quantizeRtn(ROW, 1, 5, { bits: 2, symmetric: false, group: 'channel' });
    expect(r2.scales[0]).toBeCloseTo(2 / 3, 7);
    expect(Array.from(r2.zeros!)).toEqual([2]);
    expect(Array.from(r2.codes)).toEqual([0, 1, 2, 3, 3]);
    expectClose(r2.dequantized, [-4 / 3, -2 / 3, 0, 2 / 3, 2 / 3]);
    // b=3: maxq 7, w·3.5 = -3.5,-1.75,0,1.75,3.5 → -4,-2,0,2,4; zero round(3.5)=4 → q 0,2,4,6,8→7.
    const r3 = quantizeRtn(ROW, 1, 5, { bits: 3, symmetric: false, group: 'channel' });
    expect(r3.scales[0]).toBeCloseTo(2 / 7, 7);
    expect(Array.from(r3.zeros!)).toEqual([4]);
    expect(Array.from(r3.codes)).toEqual([0, 2, 4, 6, 7]);
    expectClose(r3.dequantized, [-8 / 7, -4 / 7, 0, 4 / 7, 6 / 7]);
    // b=4: maxq 15, w·7.5 → -8,-4,0,4,8; zero round(7.5)=8 → q 0,4,8,12,16→15.
    const r4 = quantizeRtn(ROW, 1, 5, { bits: 4, symmetric: false, group: 'channel' });
    expect(r4.scales[0]).toBeCloseTo(2 / 15, 7);
    expect(Array.from(r4.zeros!)).toEqual([8]);
    expect(Array.from(r4.codes)).toEqual([0, 4, 8, 12, 15]);
    expectClose(r4.dequantized, [-16 / 15, -8 / 15, 0, 8 / 15, 14 / 15]);
  });

  it('a positive-only row widens its range to include 0 (GPTQ)', () => {
    // [1, 2, 3, 4] at 2 bits: range [0, 4], scale 4/3, zero 0, w·3/4 = .75,1.5,2.25,3 → 1,2,2,3.
    const r = quantizeRtn(new Float32Array([1, 2, 3, 4]), 1, 4, { bits: 2, symmetric: false, group: 'channel' });
    expect(Array.from(r.zeros!)).toEqual([0]);
    expect(Array.from(r.codes)).toEqual([1, 2, 2, 3]);
    expectClose(r.dequantized, [4 / 3, 8 / 3, 8 / 3, 4]);
  });
});

describe('quantizeRtn invariants on Gaussian weights', () => {
  const rows = 16;
  const cols = 300; // 128 + 128 + 44: a partial last group
  const w = gaussian(rows * cols, 7);

  for (const symmetric of [true, false]) {
    for (const bits of [2, 3, 4, 8]) {
      it(`${symmetric ? 'symmetric' : 'asymmetric'} ${bits}-bit: codes in range, error ≤ scale/2`, () => {
        const r = quantizeRtn(w, rows, cols, { bits, symmetric, group: 128 });
        expect(r.groupsPerRow).toBe(3);
        expect(r.scales.length).toBe(rows * 3);
        const maxCode = symmetric ? 2 * (2 ** (bits - 1) - 1) : 2 ** bits - 1;
        for (let row = 0; row < rows; row++) {
          for (let c = 0; c < cols; c++) {
            const i = row * cols + c;
            const gIdx = row * 3 + Math.floor(c / 128);
            const scale = r.scales[gIdx]!;
            expect(r.codes[i]).toBeLessThanOrEqual(maxCode);
            expect(Math.abs(r.dequantized[i]! - w[i]!)).toBeLessThanOrEqual((scale / 2) * (1 + 1e-5));
            // Codes + scales + zeros reproduce the dequantized value exactly.
            const offset = symmetric ? 2 ** (bits - 1) - 1 : r.zeros![gIdx]!;
            expect(r.dequantized[i]).toBe(Math.fround(scale * (r.codes[i]! - offset)));
          }
        }
      });
    }
  }

  it('partial last group gets its own scale from its own 44 values', () => {
    const r = quantizeRtn(w, rows, cols, { bits: 4, symmetric: true, group: 128 });
    for (let row = 0; row < rows; row++) {
      let amax = 0;
      for (let c = 256; c < cols; c++) amax = Math.max(amax, Math.abs(w[row * cols + c]!));
      expect(r.scales[row * 3 + 2]).toBe(Math.fround(amax / 7));
    }
  });

  it('per-channel has one scale per row, group-wise ceil(cols/g) per row', () => {
    const ch = quantizeRtn(w, rows, cols, { bits: 4, symmetric: false, group: 'channel' });
    expect(ch.groupsPerRow).toBe(1);
    expect(ch.scales.length).toBe(rows);
    expect(ch.zeros!.length).toBe(rows);
    const g64 = quantizeRtn(w, rows, cols, { bits: 4, symmetric: false, group: 64 });
    expect(g64.groupsPerRow).toBe(5);
    expect(g64.scales.length).toBe(rows * 5);
    // Default group is 128.
    expect(quantizeRtn(w, rows, cols, { bits: 4, symmetric: false }).groupsPerRow).toBe(3);
  });

  it('error decreases monotonically with bits', () => {
    for (const symmetric of [true, false]) {
      let prev = Infinity;
      for (let bits = 2; bits <= 8; bits++) {
        const mse = quantError(w, quantizeRtn(w, rows, cols, { bits, symmetric, group: 128 }).dequantized).mse;
        expect(mse).toBeLessThan(prev);
        prev = mse;
      }
    }
  });
});

describe('quantizeRtn edge cases', () => {
  it('an all-zero group gets scale 0 and dequantizes to 0', () => {
    const w = new Float32Array([0, 0, 0, 0, 1, -2, 3, 0.5]);
    for (const symmetric of [true, false]) {
      const r = quantizeRtn(w, 1, 8, { bits: 4, symmetric, group: 4 });
      expect(r.scales[0]).toBe(0);
      expect(r.scales[1]).toBeGreaterThan(0);
      expect(Array.from(r.dequantized.subarray(0, 4))).toEqual([0, 0, 0, 0]);
      if (!symmetric) expect(r.zeros![0]).toBe(0);
    }
  });

  it('rejects unsupported bits, bad shapes, bad groups and non-finite weights', () => {
    const w = new Float32Array(6);
    expect(() => quantizeRtn(w, 2, 3, { bits: 1, symmetric: true })).toThrow(/bits/);
    expect(() => quantizeRtn(w, 2, 3, { bits: 9, symmetric: true })).toThrow(/bits/);
    expect(() => quantizeRtn(w, 2, 4, { bits: 4, symmetric: true })).toThrow(/shape 2×4/);
    expect(() => quantizeRtn(w, 2, 3, { bits: 4, symmetric: true, group: 0 })).toThrow(/group/);
    expect(() => quantizeRtn(new Float32Array([1, NaN]), 1, 2, { bits: 4, symmetric: true })).toThrow(/NaN/);
  });
});

describe('SQNR and bits per weight', () => {
  it('b-bit RTN of a uniform signal gives SQNR ≈ 6.02·b dB', () => {
    const rng = new Rng(11);
    const n = 100_000;
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = 2 * rng.next() - 1;
    for (let bits = 4; bits <= 8; bits++) {
      const r = quantizeRtn(x, 1, n, { bits, symmetric: false, group: 'channel' });
      // Independent SQNR in float64 from the definition 10·log10(Σx² / Σ(x − x̂)²).
      let s = 0;
      let e = 0;
      for (let i = 0; i < n; i++) {
        s += x[i]! * x[i]!;
        e += (x[i]! - r.dequantized[i]!) ** 2;
      }
      const sqnr = 10 * Math.log10(s / e);
      expect(quantError(x, r.dequantized).sqnrDb).toBeCloseTo(sqnr, 9);
      // A (2^b − 1)-step grid over the full range: theory 20·log10(2^b − 1), i.e. 6.02·b less
      // 0.56 dB at b = 4 and under 0.3 dB from b = 5 on.
      expect(Math.abs(sqnr - 20 * Math.log10(2 ** bits - 1))).toBeLessThan(0.1);
      expect(Math.abs(sqnr - 6.02 * bits)).toBeLessThan(bits === 4 ? 0.6 : 0.5);
    }
  });

  it('bits-per-weight parts sum to the total and match b + (16 + 16)/g', () => {
    const w = gaussian(8 * 256, 3);
    const asym = quantizeRtn(w, 8, 256, { bits: 4, symmetric: false, group: 128 });
    expect(asym.bitsPerWeight.index).toBe(4);
    expect(asym.bitsPerWeight.scale).toBeCloseTo(16 / 128, 12);
    expect(asym.bitsPerWeight.zero).toBeCloseTo(16 / 128, 12);
    expect(asym.bitsPerWeight.total).toBeCloseTo(4 + 32 / 128, 12);
    const sym = quantizeRtn(w, 8, 256, { bits: 3, symmetric: true, group: 64 });
    expect(sym.bitsPerWeight.zero).toBe(0);
    expect(sym.bitsPerWeight.total).toBeCloseTo(3 + 16 / 64, 12);
    const ch = quantizeRtn(w, 8, 256, { bits: 8, symmetric: false, group: 'channel' });
    expect(ch.bitsPerWeight.total).toBeCloseTo(8 + 32 / 256, 12);
    // Partial last group: 300 columns in groups of 128 → 3 groups per row, 16·3/300 scale bits.
    const p = quantizeRtn(gaussian(2 * 300, 4), 2, 300, { bits: 4, symmetric: false, group: 128 });
    expect(p.bitsPerWeight.scale).toBeCloseTo((16 * 3) / 300, 12);
    for (const r of [asym, sym, ch, p]) {
      const b = r.bitsPerWeight;
      expect(b.index + b.scale + b.zero).toBeCloseTo(b.total, 12);
    }
  });
});
