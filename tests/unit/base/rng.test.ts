import { describe, expect, it } from 'vitest';
import { Rng } from '../../../lib/base/rng';

describe('Rng', () => {
  it('is reproducible from its seed and differs across seeds', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const sa = Array.from({ length: 100 }, () => a.nextU32());
    const sb = Array.from({ length: 100 }, () => b.nextU32());
    const sc = Array.from({ length: 100 }, () => c.nextU32());
    expect(sa).toEqual(sb);
    expect(sa).not.toEqual(sc);
  });

  it('gives uniform [0,1) with the right mean and variance', () => {
    const r = new Rng(7);
    const n = 200_000;
    let s = 0;
    let s2 = 0;
    let lo = 1;
    let hi = 0;
    for (let i = 0; i < n; i++) {
      const x = r.next();
      s += x;
      s2 += x * x;
      lo = Math.min(lo, x);
      hi = Math.max(hi, x);
    }
    const mean = s / n;
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThan(1);
    // Standard error of the mean is sqrt(1/12/n) ~ 6.5e-4: 5 sigma.
    expect(Math.abs(mean - 0.5)).toBeLessThan(3.3e-3);
    expect(Math.abs(s2 / n - mean * mean - 1 / 12)).toBeLessThan(2e-3);
  });

  it('gives standard normals (mean 0, variance 1, symmetric tails)', () => {
    const r = new Rng(1);
    const n = 200_000;
    let s = 0;
    let s2 = 0;
    let beyond2 = 0;
    for (let i = 0; i < n; i++) {
      const x = r.normal();
      s += x;
      s2 += x * x;
      if (Math.abs(x) > 2) beyond2++;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.012);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.02);
    // P(|Z| > 2) = 0.0455
    expect(Math.abs(beyond2 / n - 0.0455)).toBeLessThan(0.003);
  });

  it('shuffles into a permutation', () => {
    const r = new Rng(3);
    const a = Array.from({ length: 1000 }, (_, i) => i);
    r.shuffle(a);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(a.filter((x, i) => x === i).length).toBeLessThan(20);
  });
});
