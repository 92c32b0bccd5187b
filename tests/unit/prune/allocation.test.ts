import { describe, expect, it } from 'vitest';
import { alphaPruningRatios, MAX_LAYER_SPARSITY, uniformRatios } from '../../../lib/analysis/prune/allocation';

const weightedMean = (r: number[], p: number[]): number => r.reduce((a, x, i) => a + x * p[i]!, 0) / p.reduce((a, b) => a + b, 0);

describe('alphaPruningRatios', () => {
  const params = [100, 100, 200, 100];
  const alphas = [2, 3, 4, 6];

  it('gives the hand-computed ratios for known α (ε = 0.3, target 0.5)', () => {
    // Linear map into [0.7, 1.3]: 0.7, 0.85, 1.0, 1.3; Σ p·m = 485, scaler = 0.5·500/485.
    const c = 250 / 485;
    const r = alphaPruningRatios(params.map((p, i) => ({ params: p, alpha: alphas[i]! })), 0.5, 0.3);
    [0.7 * c, 0.85 * c, 1.0 * c, 1.3 * c].forEach((want, i) => expect(r[i]!).toBeCloseTo(want, 12));
    expect(weightedMean(r, params)).toBeCloseTo(0.5, 12);
  });

  it('prunes the most heavy-tailed (smallest α) layer least: ratios increase with α', () => {
    const a = [5.1, 2.2, 3.7, 4.4, 2.9, 6.3];
    const p = [10, 20, 30, 40, 50, 60];
    const r = alphaPruningRatios(p.map((x, i) => ({ params: x, alpha: a[i]! })), 0.6, 0.2);
    const order = a.map((_, i) => i).sort((x, y) => a[x]! - a[y]!);
    for (let j = 1; j < order.length; j++) expect(r[order[j]!]!).toBeGreaterThan(r[order[j - 1]!]!);
    expect(weightedMean(r, p)).toBeCloseTo(0.6, 12);
    // The map's end points: max/min ratio = (1 + ε)/(1 − ε).
    expect(Math.max(...r) / Math.min(...r)).toBeCloseTo(1.2 / 0.8, 12);
  });

  it('clamps below 1 and re-solves the scaler so the mean stays exact', () => {
    // Target 0.9: unclamped the α = 6 layer would get 1.3·450/485 > 1. After clamping to 0.99 the
    // others share 351 of the 450 removed: (70 + 85 + 200)·c = 351.
    const r = alphaPruningRatios(params.map((p, i) => ({ params: p, alpha: alphas[i]! })), 0.9, 0.3);
    const c = 351 / 355; // 0.98873 < 0.99, so the third layer stays unclamped
    [0.7 * c, 0.85 * c, c, MAX_LAYER_SPARSITY].forEach((want, i) => expect(r[i]!).toBeCloseTo(want, 9));
    expect(weightedMean(r, params)).toBeCloseTo(0.9, 9);
  });

  it('gives the target to layers without α and when all α are equal', () => {
    const r = alphaPruningRatios([{ params: 10, alpha: null }, { params: 10, alpha: 2 }, { params: 10, alpha: 4 }], 0.5, 0.3);
    expect(r[0]).toBe(0.5);
    expect(r[1]!).toBeCloseTo(0.5 * 0.7, 12); // scaler = 0.5·20 / (0.7·10 + 1.3·10) = 0.5
    expect(r[2]!).toBeCloseTo(0.5 * 1.3, 12);
    expect(alphaPruningRatios([{ params: 3, alpha: 3 }, { params: 5, alpha: 3 }], 0.4, 0.3)).toEqual([0.4, 0.4]);
    expect(uniformRatios(3, 0.25)).toEqual([0.25, 0.25, 0.25]);
  });

  it('rejects out-of-range targets and ε', () => {
    expect(() => alphaPruningRatios([], 1.2, 0.3)).toThrow(/target sparsity 1.2/);
    expect(() => alphaPruningRatios([], 0.5, 1)).toThrow(/ε = 1/);
  });
});
