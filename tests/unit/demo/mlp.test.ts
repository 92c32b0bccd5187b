import { describe, expect, it } from 'vitest';
import { Rng } from '@/lib/base/rng';
import { Adam, accuracy, argmaxRows, cloneMlp, initMlp, mlpForward, mlpFromTensors, mlpLossAndGrad, mlpParamNames, mlpToTensors, softmaxCrossEntropy } from '@/lib/math/mlp';

/** Dense textbook forward pass, written independently of lib/math/mlp.ts. */
function naiveForward(ws: Float32Array[], bs: Float32Array[], sizes: number[], x: Float32Array, batch: number): number[][] {
  const out: number[][] = [];
  for (let b = 0; b < batch; b++) {
    let h = Array.from(x.subarray(b * sizes[0]!, (b + 1) * sizes[0]!));
    for (let l = 0; l + 1 < sizes.length; l++) {
      const next: number[] = [];
      for (let o = 0; o < sizes[l + 1]!; o++) {
        let s = bs[l]![o]!;
        for (let i = 0; i < sizes[l]!; i++) s += ws[l]![o * sizes[l]! + i]! * h[i]!;
        next.push(l + 2 < sizes.length ? Math.max(0, s) : s);
      }
      h = next;
    }
    out.push(h);
  }
  return out;
}

describe('lib/math/mlp', () => {
  it('initialises like nn.Linear: U(-1/sqrt(in), 1/sqrt(in)), same seed same values', () => {
    const a = initMlp([50, 20, 3], new Rng(5));
    const b = initMlp([50, 20, 3], new Rng(5));
    expect(mlpParamNames(a)).toEqual(['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
    expect(a.layers[0]!.weight).toEqual(b.layers[0]!.weight);
    const bound = 1 / Math.sqrt(50);
    const w = a.layers[0]!.weight;
    expect(Math.max(...w)).toBeLessThanOrEqual(bound);
    expect(Math.min(...w)).toBeGreaterThanOrEqual(-bound);
    // uniform on [-bound, bound] has variance bound²/3
    const v = w.reduce((s, x) => s + x * x, 0) / w.length;
    expect(v).toBeCloseTo((bound * bound) / 3, 3);
  });

  it('forward equals a dense naive forward (zero-skipping changes nothing)', () => {
    const rng = new Rng(11);
    const sizes = [30, 16, 12, 5];
    const mlp = initMlp(sizes, rng);
    const batch = 7;
    // Half the inputs zero, like MNIST pixels.
    const x = new Float32Array(batch * 30).map(() => (rng.next() < 0.5 ? 0 : rng.next()));
    const got = mlpForward(mlp, x, batch);
    const want = naiveForward(mlp.layers.map((l) => l.weight), mlp.layers.map((l) => l.bias), sizes, x, batch);
    for (let b = 0; b < batch; b++) for (let c = 0; c < 5; c++) expect(got[b * 5 + c]).toBeCloseTo(want[b]![c]!, 5);
  });

  it('softmax cross-entropy matches hand-computed values', () => {
    // logits [0, ln 3] -> p = [1/4, 3/4]; label 1 -> loss = ln(4/3)
    const { loss, grad } = softmaxCrossEntropy(Float64Array.from([0, Math.log(3)]), [1], 1, 2);
    expect(loss).toBeCloseTo(Math.log(4 / 3), 12);
    expect(grad[0]).toBeCloseTo(0.25, 12);
    expect(grad[1]).toBeCloseTo(-0.25, 12);
    // a huge logit does not overflow
    expect(softmaxCrossEntropy(Float64Array.from([1000, 0]), [0], 1, 2).loss).toBeCloseTo(0, 12);
  });

  it('gradients agree with central finite differences', () => {
    const rng = new Rng(7);
    const mlp = initMlp([6, 5, 4, 3], rng);
    const batch = 4;
    const x = new Float32Array(batch * 6).map(() => Math.max(0, rng.normal()));
    const y = [0, 2, 1, 2];
    const { grads } = mlpLossAndGrad(mlp, x, y, batch);
    const h = 1e-3;
    let checked = 0;
    for (let l = 0; l < 3; l++) {
      for (const kind of ['weight', 'bias'] as const) {
        const n = mlp.layers[l]![kind].length;
        for (let i = 0; i < n; i++) {
          const plus = cloneMlp(mlp);
          const minus = cloneMlp(mlp);
          plus.layers[l]![kind][i]! += h;
          minus.layers[l]![kind][i]! -= h;
          const fd = (mlpLossAndGrad(plus, x, y, batch).loss - mlpLossAndGrad(minus, x, y, batch).loss) / (2 * h);
          expect(Math.abs(fd - grads[kind][l]![i]!)).toBeLessThan(2e-4);
          checked++;
        }
      }
    }
    expect(checked).toBe(6 * 5 + 5 + 5 * 4 + 4 + 4 * 3 + 3);
  });

  it('Adam fits a separable toy problem', () => {
    const rng = new Rng(3);
    const mlp = initMlp([2, 8, 2], rng);
    const n = 64;
    const x = new Float32Array(n * 2);
    const y = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = i % 2;
      x[2 * i] = (y[i] ? 1 : -1) + 0.3 * rng.normal();
      x[2 * i + 1] = rng.normal();
    }
    const adam = new Adam(mlp, 0.05);
    const first = mlpLossAndGrad(mlp, x, y, n).loss;
    for (let s = 0; s < 100; s++) adam.step(mlpLossAndGrad(mlp, x, y, n).grads);
    expect(mlpLossAndGrad(mlp, x, y, n).loss).toBeLessThan(first / 4);
    expect(accuracy(mlpForward(mlp, x, n), y, 2)).toBeGreaterThan(0.95);
  });

  it('argmax picks the first maximum; accuracy can be restricted to some labels', () => {
    expect(Array.from(argmaxRows([1, 3, 3, 0, -1, -2], 2, 3))).toEqual([1, 0]);
    const logits = [1, 0, 0, 1, 1, 0]; // predictions 0, 1, 0
    expect(accuracy(logits, [0, 1, 1], 2)).toBeCloseTo(2 / 3);
    expect(accuracy(logits, [0, 1, 1], 2, (d) => d === 1)).toBe(0.5);
  });

  it('round-trips through named tensors', () => {
    const mlp = initMlp([4, 3, 2], new Rng(1));
    const byName = new Map(mlpToTensors(mlp).map((t) => [t.name, t.data]));
    expect(mlpToTensors(mlp).map((t) => t.shape)).toEqual([[3, 4], [3], [2, 3], [2]]);
    const back = mlpFromTensors((n) => byName.get(n), [4, 3, 2]);
    expect(back.layers[1]!.weight).toEqual(mlp.layers[1]!.weight);
    expect(() => mlpFromTensors((n) => byName.get(n), [4, 5, 2])).toThrow(/fc1.weight needs 5×4/);
  });
});
