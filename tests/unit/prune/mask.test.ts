import { describe, expect, it } from 'vitest';
import {
  applyMask, countKept, emptyMask, fullMask, hamming, jaccard, maskDiff, maskFromKeep, maskGet, maskSet, maskStats, nmValidity,
} from '../../../lib/analysis/prune/mask';

describe('mask bitsets', () => {
  it('sets, gets and counts bits across word boundaries', () => {
    const m = maskFromKeep(3, 23, (i) => i % 3 === 0 || i === 31 || i === 32 || i === 68);
    let expected = 0;
    for (let i = 0; i < 69; i++) {
      const want = i % 3 === 0 || i === 31 || i === 32 || i === 68;
      expect(maskGet(m, i)).toBe(want);
      if (want) expected++;
    }
    expect(m.bits.length).toBe(3);
    expect(countKept(m)).toBe(expected);
    maskSet(m, 0, false);
    expect(countKept(m)).toBe(expected - 1);
    expect(countKept(fullMask(5, 13))).toBe(65);
    expect(countKept(emptyMask(5, 13))).toBe(0);
  });

  it('maskStats gives per-row and per-column removed fractions', () => {
    // 2 × 4, keep pattern row0: 1 1 0 0, row1: 1 0 0 1
    const keep = [1, 1, 0, 0, 1, 0, 0, 1];
    const s = maskStats(maskFromKeep(2, 4, (i) => keep[i] === 1));
    expect(s.weights).toBe(8);
    expect(s.kept).toBe(4);
    expect(s.sparsity).toBe(0.5);
    expect(Array.from(s.rowSparsity)).toEqual([0.5, 0.5]);
    expect(Array.from(s.colSparsity)).toEqual([0, 0.5, 1, 0.5]);
  });

  it('Jaccard, Hamming and the difference counts on hand-made masks', () => {
    const a = maskFromKeep(2, 5, (i) => [0, 1, 2, 3, 7].includes(i));
    const b = maskFromKeep(2, 5, (i) => [2, 3, 4, 7, 9].includes(i));
    expect(maskDiff(a, b)).toEqual({ both: 3, onlyA: 2, onlyB: 2, neither: 3 });
    expect(jaccard(a, b)).toBeCloseTo(3 / 7, 12);
    expect(hamming(a, b)).toBe(4);
    expect(jaccard(a, a)).toBe(1);
    expect(hamming(a, a)).toBe(0);
    expect(jaccard(emptyMask(2, 5), emptyMask(2, 5))).toBe(1);
    expect(() => jaccard(a, emptyMask(5, 2))).toThrow(/different shapes/);
  });

  it('applyMask zeroes exactly the removed weights', () => {
    const w = Float32Array.from([1, -2, 3, -4, 5, -6]);
    const out = applyMask(w, maskFromKeep(2, 3, (i) => i % 2 === 1));
    expect(Array.from(out)).toEqual([0, -2, 0, -4, 0, -6]);
    expect(Array.from(w)).toEqual([1, -2, 3, -4, 5, -6]);
  });

  it('nmValidity counts groups keeping more than n, partial last groups included', () => {
    // 2 × 10 with 2:4: groups per row = 3 (4, 4, partial 2)
    const ok = maskFromKeep(2, 10, (i) => [0, 1, 4, 7, 8, 9, 10, 13, 14, 15, 18].includes(i));
    expect(nmValidity(ok, 2, 4)).toEqual({ valid: true, violatingGroups: 0, groups: 6 });
    const broken = maskFromKeep(2, 10, (i) => [0, 1, 2, 4, 10, 13, 14, 15, 16].includes(i));
    // row 0 group 0 keeps 0, 1, 2; row 1 group 1 (indices 14..17) keeps 14, 15, 16
    expect(nmValidity(broken, 2, 4)).toEqual({ valid: false, violatingGroups: 2, groups: 6 });
    expect(() => nmValidity(ok, 5, 4)).toThrow(/N:M/);
  });
});
