import { describe, expect, it } from 'vitest';
import { Rng } from '../../../lib/base/rng';
import { codewordUsage, quantError, vqBitsPerWeight } from '../../../lib/analysis/quant/quant-metrics';

describe('quantError', () => {
  it('identical arrays: mse 0, relF 0, SQNR Infinity', () => {
    const a = new Float32Array([1, -2, 3.5, 0]);
    expect(quantError(a, a.slice())).toEqual({ mse: 0, relFrobenius: 0, sqnrDb: Infinity });
  });

  it('matches hand values', () => {
    // original [3, 4] (‖·‖ = 5), reconstruction [3, 3.5]: error [0, 0.5].
    const q = quantError(new Float32Array([3, 4]), new Float32Array([3, 3.5]));
    expect(q.mse).toBeCloseTo(0.125, 15);
    expect(q.relFrobenius).toBeCloseTo(0.1, 15);
    expect(q.sqnrDb).toBeCloseTo(20, 12);
  });

  it('agrees with a float64 recomputation on random data', () => {
    const rng = new Rng(5);
    const n = 10_000;
    const a = new Float32Array(n);
    const b = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      a[i] = rng.normal();
      b[i] = a[i]! + 0.01 * rng.normal();
    }
    const ea = Array.from(a);
    const eb = Array.from(b);
    const err = ea.reduce((s, v, i) => s + (v - eb[i]!) ** 2, 0);
    const sig = ea.reduce((s, v) => s + v * v, 0);
    const q = quantError(a, b);
    expect(q.mse).toBeCloseTo(err / n, 15);
    expect(q.relFrobenius).toBeCloseTo(Math.sqrt(err / sig), 12);
    expect(q.sqnrDb).toBeCloseTo(10 * Math.log10(sig / err), 9);
  });

  it('all-zero original: exact is 0 error, anything else is infinite relative error', () => {
    const z = new Float32Array(3);
    expect(quantError(z, z).sqnrDb).toBe(Infinity);
    const q = quantError(z, new Float32Array([0, 1, 0]));
    expect(q.relFrobenius).toBe(Infinity);
    expect(q.sqnrDb).toBe(-Infinity);
  });

  it('rejects different lengths', () => {
    expect(() => quantError(new Float32Array(2), new Float32Array(3))).toThrow(/2 values.*3/);
  });
});

describe('codewordUsage', () => {
  it('uniform usage has entropy log2(k), perplexity k, no dead codewords', () => {
    const k = 16;
    const assign = new Uint32Array(k * 10);
    for (let i = 0; i < assign.length; i++) assign[i] = i % k;
    const u = codewordUsage(assign, k);
    expect(u.entropyBits).toBeCloseTo(4, 12);
    expect(u.perplexity).toBeCloseTo(16, 10);
    expect(u.dead).toBe(0);
    expect(Array.from(u.counts)).toEqual(new Array(k).fill(10));
  });

  it('a single used codeword: entropy 0, perplexity 1, k−1 dead', () => {
    const u = codewordUsage(new Uint32Array(50).fill(3), 8);
    expect(u.entropyBits).toBe(0);
    expect(u.perplexity).toBe(1);
    expect(u.dead).toBe(7);
    expect(u.counts[3]).toBe(50);
  });

  it('hand case: counts [2,1,1,0] → H = 1.5 bits, sorted descending', () => {
    const u = codewordUsage(new Uint32Array([0, 1, 0, 2]), 4);
    expect(Array.from(u.counts)).toEqual([2, 1, 1, 0]);
    // H = −(½·log2 ½ + 2·¼·log2 ¼) = 0.5 + 1 = 1.5.
    expect(u.entropyBits).toBeCloseTo(1.5, 14);
    expect(u.perplexity).toBeCloseTo(2 ** 1.5, 12);
    expect(u.dead).toBe(1);
    expect(Array.from(codewordUsage(new Uint32Array([3, 1, 3, 3, 1, 0]), 5).sortedCounts)).toEqual([3, 2, 1, 0, 0]);
  });

  it('rejects an assignment outside the codebook', () => {
    expect(() => codewordUsage(new Uint32Array([0, 4]), 4)).toThrow(/codeword 4, codebook has 4/);
  });
});

describe('vqBitsPerWeight', () => {
  it('k=256, d=4, one fp16 codebook on a 3072×768 layer', () => {
    const weights = 3072 * 768;
    const b = vqBitsPerWeight({ k: 256, d: 4, weights, codebookBits: 16, codebooks: 1 });
    expect(b.index).toBe(2);
    expect(b.codebook).toBeCloseTo((256 * 4 * 16) / weights, 15);
    expect(b.index + b.codebook).toBeCloseTo(b.total, 15);
  });

  it('codebooks per group of rows and fp32 entries scale the codebook part', () => {
    const one = vqBitsPerWeight({ k: 16, d: 2, weights: 4096, codebookBits: 16, codebooks: 1 });
    const many = vqBitsPerWeight({ k: 16, d: 2, weights: 4096, codebookBits: 32, codebooks: 8 });
    expect(one.index).toBe(2);
    expect(one.codebook).toBe(0.125); // 16·2·16/4096
    expect(many.codebook).toBe(2); // 16·2·32·8/4096
    expect(many.total).toBe(4);
  });

  it('rejects non-positive sizes', () => {
    expect(() => vqBitsPerWeight({ k: 0, d: 2, weights: 10, codebookBits: 16, codebooks: 1 })).toThrow(/k = 0/);
  });
});
