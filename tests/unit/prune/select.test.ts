import { beforeAll, describe, expect, it } from 'vitest';
import type { QuantMatrix } from '../../../lib/analysis/quant/quant-matrix';
import { countKept, maskGet, maskSet, nmValidity } from '../../../lib/analysis/prune/mask';
import { magnitudeScores } from '../../../lib/analysis/prune/scores';
import { dimapMasks, globalMasks, nmMask, rowTopKMask, topKMask } from '../../../lib/analysis/prune/select';
import { DET, expectedRemoved, MLP, realMatrices } from './real-layers';

/**
 * Selections on real layers, each checked against an independent recomputation: the removed
 * set is rebuilt by a plain comparator sort over (score, index).
 */

let mlp: Map<string, QuantMatrix>;
let det: Map<string, QuantMatrix>;

beforeAll(async () => {
  mlp = await realMatrices(MLP);
  det = await realMatrices(DET, ['conv2d_0.w_0', 'conv2d_138.w_0', 'conv2d_131.w_0']);
});

function removedSet(mask: { rows: number; cols: number; bits: Uint32Array }): Set<number> {
  const s = new Set<number>();
  for (let i = 0; i < mask.rows * mask.cols; i++) if (!maskGet(mask, i)) s.add(i);
  return s;
}

describe('topKMask on real layers', () => {
  it('removes exactly round(s·n) weights, the exact lowest-|w| set', () => {
    for (const [name, m] of [...mlp, ...det]) {
      const scores = magnitudeScores(m);
      for (const s of [0, 0.1, 0.5, 0.77, 1]) {
        const { mask, threshold } = topKMask(scores, m.rows, m.cols, s);
        const k = Math.round(s * m.rows * m.cols);
        expect(m.rows * m.cols - countKept(mask), `${name} @ ${s}`).toBe(k);
        expect(removedSet(mask)).toEqual(expectedRemoved(scores, k));
        if (k > 0) expect(threshold).toBe(Math.max(...[...expectedRemoved(scores, k)].map((i) => scores[i]!)));
      }
    }
  });

  it('breaks ties by removing the lower index first', () => {
    const scores = Float32Array.from([3, 1, 2, 1, 1, 5]);
    const { mask } = topKMask(scores, 2, 3, 0.5); // remove 3: index 1, 3, 4 (all score 1)
    expect(removedSet(mask)).toEqual(new Set([1, 3, 4]));
    const two = topKMask(scores, 2, 3, 2 / 6).mask; // remove 2 of the three 1s: the lower indices
    expect(removedSet(two)).toEqual(new Set([1, 3]));
    const nan = topKMask(Float32Array.from([0.5, NaN, 0.1, 0.2]), 1, 4, 0.25).mask;
    expect(removedSet(nan)).toEqual(new Set([1]));
  });
});

describe('rowTopKMask (Wanda comparison group)', () => {
  it('removes exactly round(s·cols) per row, the lowest of each row', () => {
    const m = mlp.get('fc2')!;
    const scores = magnitudeScores(m);
    const mask = rowTopKMask(scores, m.rows, m.cols, 0.6);
    const k = Math.round(0.6 * m.cols);
    for (let r = 0; r < m.rows; r++) {
      const row = scores.subarray(r * m.cols, (r + 1) * m.cols);
      const want = new Set([...expectedRemoved(row, k)].map((c) => r * m.cols + c));
      const got = new Set([...removedSet(mask)].filter((i) => Math.floor(i / m.cols) === r));
      expect(got).toEqual(want);
    }
  });
});

describe('nmMask', () => {
  it('2:4 and 1:3 masks are valid and keep the n largest of each group; breaking one group is detected', () => {
    for (const [name, m] of [['fc1', mlp.get('fc1')!], ['conv2d_0.w_0', det.get('conv2d_0.w_0')!]] as const) {
      const scores = magnitudeScores(m);
      for (const [n, mm] of [[2, 4], [1, 3]] as const) {
        const mask = nmMask(scores, m.rows, m.cols, n, mm);
        const v = nmValidity(mask, n, mm);
        expect(v.valid, `${name} ${n}:${mm}`).toBe(true);
        expect(v.groups).toBe(m.rows * Math.ceil(m.cols / mm));
        // Independent: each group's kept set is its top-n by (score desc, index desc).
        let expectKept = 0;
        let mismatches = 0;
        for (let r = 0; r < m.rows; r++) {
          for (let g = 0; g * mm < m.cols; g++) {
            const idx = Array.from({ length: Math.min(mm, m.cols - g * mm) }, (_, j) => r * m.cols + g * mm + j);
            const removed = new Set(idx.sort((a, b) => scores[a]! - scores[b]! || a - b).slice(0, Math.max(0, idx.length - n)));
            for (const i of idx) if (maskGet(mask, i) === removed.has(i)) mismatches++;
            expectKept += Math.min(n, idx.length);
          }
        }
        expect(mismatches).toBe(0);
        expect(countKept(mask)).toBe(expectKept);
        // Keep one more weight in the first group: now exactly one group is invalid.
        const first = Array.from({ length: mm }, (_, j) => j).find((j) => !maskGet(mask, j))!;
        maskSet(mask, first, true);
        expect(nmValidity(mask, n, mm)).toMatchObject({ valid: false, violatingGroups: 1 });
      }
    }
    // conv2d_0 has 27 columns: 2:4 leaves a partial group of 3 that keeps 2.
    expect(det.get('conv2d_0.w_0')!.cols % 4).toBe(3);
  });
});

describe('globalMasks', () => {
  it('is the top-k over the pooled scores, excluded layers dense', () => {
    const names = ['fc1', 'fc2', 'fc3'];
    const layers = names.map((n) => ({ ...mlp.get(n)!, scores: magnitudeScores(mlp.get(n)!), excluded: n === 'fc3' }));
    const { masks } = globalMasks(layers, 0.7);
    const pooled = [...layers[0]!.scores, ...layers[1]!.scores];
    const k = Math.round(0.7 * pooled.length);
    const want = expectedRemoved(pooled, k);
    const off = layers[0]!.scores.length;
    expect(removedSet(masks[0]!)).toEqual(new Set([...want].filter((i) => i < off)));
    expect(removedSet(masks[1]!)).toEqual(new Set([...want].filter((i) => i >= off).map((i) => i - off)));
    expect(countKept(masks[2]!)).toBe(10 * 128);
    // Layers get different sparsities: the pooled threshold is not per-layer.
    const s0 = 1 - countKept(masks[0]!) / off;
    const s1 = 1 - countKept(masks[1]!) / layers[1]!.scores.length;
    expect(Math.abs(s0 - s1)).toBeGreaterThan(0.01);
  });
});

describe('dimapMasks', () => {
  it('pools within module types so each type reaches exactly the target', () => {
    const layers = [...det].map(([name, m]) => ({ name, rows: m.rows, cols: m.cols, scores: magnitudeScores(m) }));
    const types = [{ name: 'first', pattern: '^conv2d_0\\.' }];
    const { masks, types: t } = dimapMasks(layers, types, 0.4);
    expect(t).toEqual(layers.map((l) => (l.name === 'conv2d_0.w_0' ? 0 : 1)));
    for (const type of [0, 1]) {
      const members = layers.map((l, i) => i).filter((i) => t[i] === type);
      const n = members.reduce((a, i) => a + layers[i]!.scores.length, 0);
      const removed = members.reduce((a, i) => a + layers[i]!.scores.length - countKept(masks[i]!), 0);
      expect(removed).toBe(Math.round(0.4 * n));
    }
    expect(() => dimapMasks(layers, [{ name: 'bad', pattern: '(' }], 0.4)).toThrow(/module type "bad"/);
  });
});

describe('input checks', () => {
  it('rejects bad sparsity and mismatched lengths', () => {
    expect(() => topKMask(new Float32Array(4), 2, 2, 1.5)).toThrow(/sparsity 1.5/);
    expect(() => topKMask(new Float32Array(3), 2, 2, 0.5)).toThrow(/3 scores for a 2 × 2/);
  });
});
