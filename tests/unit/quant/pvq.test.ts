import { describe, expect, it } from 'vitest';
import { UnsupportedError } from '../../../lib/base/errors';
import { Rng } from '../../../lib/base/rng';
import { openModel, pickPrimary } from '../../../lib/formats/registry';
import { openNodeModel } from '../../../lib/io/node/node-file-source';
import { quantError } from '../../../lib/analysis/quant/quant-metrics';
import {
  MAX_PVQ_D, MAX_PVQ_PULSES, pvqCount, pvqDecodeIndex, pvqDequantize, pvqEncodeIndex, pvqGainLevel, pvqQuantize, pvqSearch,
} from '../../../lib/analysis/quant/pvq';

/** Every y ∈ ℤ^d with Σ|y_i| = K, by brute force. */
function allPoints(d: number, k: number): number[][] {
  if (d === 1) return k === 0 ? [[0]] : [[k], [-k]];
  const out: number[][] = [];
  for (let v = 0 - k; v <= k; v++) for (const rest of allPoints(d - 1, k - Math.abs(v))) out.push([v, ...rest]);
  return out;
}

/** N(d, K) as BigInt from the closed form Σ_i 2^i C(d, i) C(K − 1, i − 1) (independent of the recurrence). */
function countClosedForm(d: number, k: number): bigint {
  const C = (n: number, r: number): bigint => {
    if (r < 0 || r > n) return 0n;
    let c = 1n;
    for (let i = 0; i < r; i++) c = (c * BigInt(n - i)) / BigInt(i + 1);
    return c;
  };
  if (k === 0) return 1n;
  let s = 0n;
  for (let i = 1; i <= Math.min(d, k); i++) s += (1n << BigInt(i)) * C(d, i) * C(k - 1, i - 1);
  return s;
}

/** cos of the angle between x and y, in float64. */
function cosine(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let xy = 0;
  let xx = 0;
  let yy = 0;
  for (let i = 0; i < x.length; i++) {
    xy += x[i]! * y[i]!;
    xx += x[i]! * x[i]!;
    yy += y[i]! * y[i]!;
  }
  return xy / Math.sqrt(xx * yy);
}

describe('pyramid size N(d, K)', () => {
  it('equals a brute-force count for d ≤ 5, K ≤ 7', () => {
    for (let d = 1; d <= 5; d++) for (let k = 1; k <= 7; k++) expect(pvqCount(d, k)).toBe(allPoints(d, k).length);
    expect(pvqCount(2, 1)).toBe(4);
    expect(pvqCount(3, 2)).toBe(18);
  });

  it('equals the BigInt closed form over the whole supported range (d ≤ 8, K ≤ 64), all exact below 2^53', () => {
    for (let d = 1; d <= MAX_PVQ_D; d++) {
      for (let k = 0; k <= MAX_PVQ_PULSES; k++) {
        const exact = countClosedForm(d, k);
        expect(exact < 2n ** 53n).toBe(true);
        expect(BigInt(pvqCount(d, k))).toBe(exact);
      }
    }
    // The largest pyramid the quantizer offers holds about 2^38 points.
    expect(Math.log2(pvqCount(8, 64))).toBeGreaterThan(37);
  });
});

describe('pyramid index enumeration', () => {
  it('is a bijection onto 0..N−1, exhaustively for d ≤ 5, K ≤ 6 (and d = 8, K = 3)', () => {
    const cases: [number, number][] = [[8, 3]];
    for (let d = 1; d <= 5; d++) for (let k = 1; k <= 6; k++) cases.push([d, k]);
    for (const [d, k] of cases) {
      const pts = allPoints(d, k);
      const n = pvqCount(d, k);
      const seen = new Uint8Array(n);
      for (const y of pts) {
        const idx = pvqEncodeIndex(y);
        expect(Number.isInteger(idx) && idx >= 0 && idx < n).toBe(true);
        expect(seen[idx]).toBe(0);
        seen[idx] = 1;
        expect(Array.from(pvqDecodeIndex(idx, d, k))).toEqual(y);
      }
      expect(seen.every((v) => v === 1)).toBe(true);
    }
  });

  it('round-trips random points and random indices of the largest pyramids (N up to ~2^38)', () => {
    const rng = new Rng(7);
    for (const [d, k] of [[8, 64], [8, 40], [7, 64], [6, 33], [4, 64]] as const) {
      const n = pvqCount(d, k);
      for (let t = 0; t < 300; t++) {
        // A random point: K pulses dropped on random coordinates, random signs.
        const y = new Array<number>(d).fill(0);
        for (let p = 0; p < k; p++) y[rng.int(d)]!++;
        for (let i = 0; i < d; i++) if (rng.next() < 0.5) y[i] = -y[i]!;
        const idx = pvqEncodeIndex(y);
        expect(idx).toBeGreaterThanOrEqual(0);
        expect(idx).toBeLessThan(n);
        expect(Array.from(pvqDecodeIndex(idx, d, k)).map((v) => v + 0)).toEqual(y.map((v) => v + 0));
        // A random index (53 random bits folded into 0..N−1).
        const r = Math.floor(rng.next() * n);
        const yr = pvqDecodeIndex(r, d, k);
        expect(yr.reduce((s, v) => s + Math.abs(v), 0)).toBe(k);
        expect(pvqEncodeIndex(yr)).toBe(r);
      }
      // The ends of the range.
      expect(pvqEncodeIndex(pvqDecodeIndex(0, d, k))).toBe(0);
      expect(pvqEncodeIndex(pvqDecodeIndex(n - 1, d, k))).toBe(n - 1);
    }
  });

  it('rejects indices outside the pyramid and vectors it does not support', () => {
    expect(() => pvqDecodeIndex(pvqCount(3, 2), 3, 2)).toThrow(/index 18 outside 0\.\.17/);
    expect(() => pvqDecodeIndex(-1, 3, 2)).toThrow(UnsupportedError);
    expect(() => pvqEncodeIndex([0.5, 1])).toThrow(/not an integer/);
    expect(() => pvqEncodeIndex([0, 0])).toThrow(/pulses K = 0/);
    expect(() => pvqEncodeIndex(new Array(9).fill(1))).toThrow(/d = 9/);
  });
});

describe('pyramid search', () => {
  it('finds the point of largest cosine to x, as a brute-force search over the whole pyramid (d ≤ 6, K ≤ 10)', () => {
    const rng = new Rng(2026);
    const y = new Int32Array(8);
    let cases = 0;
    for (let d = 1; d <= 6; d++) {
      for (let k = 1; k <= 10; k++) {
        if (pvqCount(d, k) > 60_000) continue;
        const pts = allPoints(d, k);
        const yd = y.subarray(0, d);
        for (let t = 0; t < 40; t++) {
          const x = Float32Array.from({ length: d }, () => rng.normal() * (rng.next() < 0.2 ? 0.01 : 1));
          let best = -Infinity;
          for (const p of pts) best = Math.max(best, cosine(x, p));
          pvqSearch(x, k, yd);
          expect(yd.reduce((s, v) => s + Math.abs(v), 0)).toBe(k);
          expect(cosine(x, yd)).toBeGreaterThanOrEqual(best * (1 - 1e-12));
          cases++;
        }
      }
    }
    expect(cases).toBeGreaterThan(1500);
  });

  it('finds the best point where CELT’s greedy search alone does not (x = (0.88, 0.34, 0.89, 0.38), K = 4)', () => {
    // Greedy pulse-by-pulse placement ends at (1, 1, 1, 1), cos 0.9448; the best point is (2, 0, 2, 0), cos 0.9526.
    const x = Float32Array.of(0.8813064, 0.3384842, 0.8936569, 0.379193);
    const y = new Int32Array(4);
    pvqSearch(x, 4, y);
    expect(Array.from(y)).toEqual([2, 0, 2, 0]);
    expect(cosine(x, [2, 0, 2, 0])).toBeGreaterThan(cosine(x, [1, 1, 1, 1]));
  });
});

async function realLayer(): Promise<Float32Array> {
  const input = await openNodeModel('public/models/mnist/mlp-seed1.safetensors', (n) => pickPrimary(n));
  try {
    const src = await openModel(input);
    const t = src.tensors.find((x) => x.shape.length === 2 && x.shape[0]! * x.shape[1]! >= 10_000)!;
    return await src.read(t.name);
  } finally {
    await input.close();
  }
}

describe('pvqQuantize', () => {
  it('reconstructs each sub-vector as ĝ·y/‖y‖ with the stored index and gain code, and pvqDequantize reproduces it bit for bit', async () => {
    const w = await realLayer();
    for (const [d, k, b] of [[4, 4, 8], [2, 7, 3], [8, 20, 1], [1, 3, 16]] as const) {
      const n = w.length / d;
      const r = pvqQuantize(w, n, d, k, b);
      expect(r.indices.length).toBe(n);
      expect(r.gainCodes.length).toBe(n);
      expect(Math.fround(r.gainMin)).toBe(r.gainMin);
      expect(Math.fround(r.gainMax)).toBe(r.gainMax);
      // Independent reconstruction of a few hundred sub-vectors.
      for (let s = 0; s < n; s += Math.max(1, Math.floor(n / 300))) {
        const y = pvqDecodeIndex(r.indices[s]!, d, k);
        const gHat = pvqGainLevel(r.gainCodes[s]!, b, r.gainMin, r.gainMax);
        const norm = Math.sqrt(y.reduce((p, v) => p + v * v, 0));
        for (let t = 0; t < d; t++) expect(r.dequantized[s * d + t]).toBe(Math.fround((gHat * y[t]!) / norm));
        // The direction is the best on the pyramid: at least as close as CELT-style rounding of x.
        const x = w.subarray(s * d, s * d + d);
        const yy = new Int32Array(d);
        pvqSearch(x, k, yy);
        expect(Array.from(y)).toEqual(Array.from(yy));
      }
      const again = pvqDequantize(r.indices, r.gainCodes, d, k, b, r.gainMin, r.gainMax);
      expect(Buffer.from(again.buffer).equals(Buffer.from(r.dequantized.buffer))).toBe(true);
      const viaObject = pvqDequantize(r);
      expect(Buffer.from(viaObject.buffer).equals(Buffer.from(r.dequantized.buffer))).toBe(true);
      expect(r.indexBitsPerWeight).toBeCloseTo(Math.log2(pvqCount(d, k)) / d, 12);
      expect(r.gainBitsPerWeight).toBeCloseTo((b * n + 64) / w.length, 12);
    }
  });

  it('gain codes: 0 only for a zero sub-vector; nonzero gains land in their log-domain bin', () => {
    const rng = new Rng(3);
    const d = 3;
    const n = 500;
    const x = new Float32Array(n * d);
    for (let i = 0; i < x.length; i++) x[i] = rng.normal() * Math.exp(3 * rng.normal());
    x.fill(0, 30, 36); // sub-vectors 10 and 11 are zero
    const b = 5;
    const r = pvqQuantize(x, n, d, 6, b);
    const L = 2 ** b - 1;
    const gains = Array.from({ length: n }, (_, s) => Math.hypot(...x.subarray(s * d, s * d + d)));
    const nz = gains.filter((g) => g > 0);
    expect(r.gainMin).toBe(Math.fround(Math.min(...nz)));
    expect(r.gainMax).toBe(Math.fround(Math.max(...nz)));
    for (let s = 0; s < n; s++) {
      const c = r.gainCodes[s]!;
      if (gains[s] === 0) {
        expect(c).toBe(0);
        for (let t = 0; t < d; t++) expect(r.dequantized[s * d + t]).toBe(0);
        continue;
      }
      expect(c).toBeGreaterThanOrEqual(1);
      expect(c).toBeLessThanOrEqual(L);
      // |ln g − ln ĝ| ≤ half a bin (a little more at the clamped ends, from the float32 range).
      const half = Math.log(r.gainMax / r.gainMin) / L / 2;
      expect(Math.abs(Math.log(gains[s]!) - Math.log(pvqGainLevel(c, b, r.gainMin, r.gainMax)))).toBeLessThanOrEqual(half * (1 + 1e-9) + 1e-7);
    }
  });

  it('an all-zero layer quantizes to zeros with gain range [0, 0]', () => {
    const r = pvqQuantize(new Float32Array(12), 3, 4, 5, 4);
    expect(r.gainMin).toBe(0);
    expect(r.gainMax).toBe(0);
    expect(Array.from(r.gainCodes)).toEqual([0, 0, 0]);
    expect(Array.from(r.dequantized)).toEqual(new Array(12).fill(0));
    expect(Array.from(pvqDequantize(r))).toEqual(new Array(12).fill(0));
  });

  it('error falls as K grows on a real layer (16-bit gains, d = 4)', async () => {
    const w = await realLayer();
    const rel: number[] = [];
    for (const k of [1, 2, 4, 8, 16, 32]) rel.push(quantError(w, pvqQuantize(w, w.length / 4, 4, k, 16).dequantized).relFrobenius);
    for (let i = 1; i < rel.length; i++) expect(rel[i]!).toBeLessThan(rel[i - 1]!);
    // 32 pulses (N(4, 32) ≈ 2^16.5 directions) leave ~3% relative Frobenius error, a tenth of one pulse's.
    expect(rel[rel.length - 1]!).toBeLessThan(0.05);
    expect(rel[rel.length - 1]!).toBeLessThan(rel[0]! / 10);
  });

  it('rejects unsupported d, K, gain bits, shapes and non-finite weights with UnsupportedError', () => {
    const x = new Float32Array(16);
    const cases: [() => unknown, RegExp][] = [
      [() => pvqQuantize(x, 2, 9, 4, 8), /d = 9 must be an integer in 1\.\.8/],
      [() => pvqQuantize(x, 16, 1, 0, 8), /pulses K = 0/],
      [() => pvqQuantize(x, 4, 4, 65, 8), /pulses K = 65 .*2\^53/],
      [() => pvqQuantize(x, 4, 4, 4, 0), /gain bits 0/],
      [() => pvqQuantize(x, 4, 4, 4, 17), /gain bits 17/],
      [() => pvqQuantize(x, 3, 4, 4, 8), /3 sub-vectors of 4 do not match 16 weights/],
      [() => pvqQuantize(Float32Array.of(1, NaN), 1, 2, 4, 8), /weight 1 is NaN/],
      [() => pvqDequantize(new Float64Array(2), new Uint16Array(1), 2, 2, 4, 0.1, 1), /2 indices but 1 gain codes/],
      [() => pvqDequantize(new Float64Array(1), Uint16Array.of(16), 2, 2, 4, 0.1, 1), /gain code 16 of sub-vector 0 exceeds 15/],
      [() => pvqDequantize(new Float64Array(1), new Uint16Array(1), 2, 2, 4, 1, 0.1), /gain range/],
    ];
    for (const [f, msg] of cases) {
      expect(f).toThrow(UnsupportedError);
      expect(f).toThrow(msg);
    }
  });

  it('stops with CancelledError when the signal has fired', () => {
    const ac = new AbortController();
    ac.abort();
    expect(() => pvqQuantize(new Float32Array(64), 16, 4, 4, 8, ac.signal)).toThrow(/cancelled/);
  });
});
