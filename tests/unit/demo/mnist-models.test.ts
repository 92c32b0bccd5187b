/**
 * The committed MNIST demo models (public/models/mnist, made by scripts/train-mnist.ts): the ONNX
 * graph run by onnxruntime-web with each model's weights as inputs must agree with the TypeScript
 * forward pass, and both must reproduce the accuracy recorded in each file's metadata.
 */
import { readFileSync, statSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-web';
import { memorySource, singleFileModel } from '@/lib/io/byte-source';
import { readSafetensors } from '@/lib/formats/read-safetensors';
import { readOnnx } from '@/lib/formats/read-onnx';
import type { TensorSource } from '@/lib/formats/types';
import { accuracy, mlpForward, mlpFromTensors, type Mlp } from '@/lib/math/mlp';

ort.env.wasm.numThreads = 1;

const DIR = path.resolve(__dirname, '../../../public/models/mnist');
const MODELS = ['mlp-seed1', 'mlp-seed2', 'mlp-base', 'mlp-ft-low', 'mlp-ft-high'] as const;
const SIZES = [784, 128, 128, 10];
const N_EVAL = 2000;

function bytesOf(file: string): Uint8Array {
  return new Uint8Array(readFileSync(path.join(DIR, file)));
}
async function openSafetensors(file: string): Promise<TensorSource> {
  return readSafetensors(singleFileModel(memorySource(bytesOf(file), file)));
}

interface Loaded {
  source: TensorSource;
  mlp: Mlp;
  weights: Map<string, Float32Array>;
}

let x: Float32Array;
let labels: Uint8Array;
let session: ort.InferenceSession;
const models = new Map<string, Loaded>();
/** ORT and TypeScript logits per model, computed once. */
const ortLogits = new Map<string, Float32Array>();
const tsLogits = new Map<string, Float32Array>();

beforeAll(async () => {
  const evalSet = await openSafetensors('mnist-eval.safetensors');
  const pixels = await evalSet.read('inputs');
  x = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) x[i] = pixels[i]! / 255;
  labels = Uint8Array.from(await evalSet.read('labels'));
  session = await ort.InferenceSession.create(bytesOf('mlp.onnx'));
  for (const name of MODELS) {
    const source = await openSafetensors(`${name}.safetensors`);
    const weights = new Map<string, Float32Array>();
    for (const t of source.tensors) weights.set(t.name, await source.read(t.name));
    const mlp = mlpFromTensors((n) => weights.get(n), SIZES);
    models.set(name, { source, weights, mlp });
    tsLogits.set(name, mlpForward(mlp, x, N_EVAL));
    const feeds: Record<string, ort.Tensor> = { x: new ort.Tensor('float32', x, [N_EVAL, 784]) };
    for (const t of source.tensors) feeds[t.name] = new ort.Tensor('float32', weights.get(t.name)!, t.shape);
    const out = await session.run(feeds);
    ortLogits.set(name, out.logits!.data as Float32Array);
  }
});

const model = (name: string): Loaded => models.get(name)!;
const meta = (name: string, key: string): number => Number(model(name).source.metadata[key]);
const isLow = (d: number): boolean => d <= 4;
const isHigh = (d: number): boolean => d >= 5;

describe('MNIST demo files', () => {
  it('eval set: 2000 U8 images with U8 labels covering every digit, scale in metadata', async () => {
    const evalSet = await openSafetensors('mnist-eval.safetensors');
    const byName = Object.fromEntries(evalSet.tensors.map((t) => [t.name, t]));
    expect(byName.inputs).toMatchObject({ dtype: 'U8', shape: [N_EVAL, 784] });
    expect(byName.labels).toMatchObject({ dtype: 'U8', shape: [N_EVAL] });
    expect(evalSet.metadata.inputs_scale).toBe('1/255');
    const counts = new Array<number>(10).fill(0);
    for (const y of labels) counts[y]!++;
    expect(Math.min(...counts)).toBeGreaterThan(120); // ~200 of each digit
    expect(x.reduce((m, v) => Math.max(m, v), 0)).toBe(1);
  });

  it('mlp.onnx: weights are graph inputs named like the safetensors keys, no initializers', async () => {
    expect(session.inputNames).toEqual(['x', 'fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias', 'fc3.weight', 'fc3.bias']);
    expect(session.outputNames).toEqual(['logits']);
    const listed = await readOnnx(singleFileModel(memorySource(bytesOf('mlp.onnx'), 'mlp.onnx')));
    expect(listed.tensors).toEqual([]);
  });

  it('every model has PyTorch-style F32 tensors and training metadata', () => {
    for (const name of MODELS) {
      const { source } = model(name);
      expect(source.tensors.map((t) => [t.name, t.dtype, t.shape])).toEqual([
        ['fc1.weight', 'F32', [128, 784]],
        ['fc1.bias', 'F32', [128]],
        ['fc2.weight', 'F32', [128, 128]],
        ['fc2.bias', 'F32', [128]],
        ['fc3.weight', 'F32', [10, 128]],
        ['fc3.bias', 'F32', [10]],
      ]);
      for (const key of ['seed', 'digits', 'epochs', 'eval_accuracy', 'script']) expect(source.metadata[key], `${name} ${key}`).toBeDefined();
      expect(source.metadata.script).toBe('scripts/train-mnist.ts');
    }
    expect(model('mlp-ft-low').source.metadata).toMatchObject({ digits: '0,1,2,3,4', init: 'mlp-base.safetensors' });
    expect(model('mlp-ft-high').source.metadata).toMatchObject({ digits: '5,6,7,8,9', init: 'mlp-base.safetensors' });
  });

  it('onnxruntime-web logits agree with the TypeScript forward pass within 1e-4', () => {
    for (const name of MODELS) {
      const ts = tsLogits.get(name)!;
      const rt = ortLogits.get(name)!;
      expect(rt.length).toBe(N_EVAL * 10);
      let worst = 0;
      for (let i = 0; i < ts.length; i++) worst = Math.max(worst, Math.abs(rt[i]! - ts[i]!) / Math.max(1, Math.abs(ts[i]!)));
      expect(worst, name).toBeLessThan(1e-4);
    }
  });

  it('both runtimes reproduce the accuracies recorded in the metadata (±0.5%)', () => {
    for (const name of MODELS) {
      const ts = tsLogits.get(name)!;
      const rt = ortLogits.get(name)!;
      for (const logits of [ts, rt]) {
        expect(Math.abs(accuracy(logits, labels, 10) - meta(name, 'eval_accuracy')), name).toBeLessThanOrEqual(0.005);
        expect(Math.abs(accuracy(logits, labels, 10, isLow) - meta(name, 'eval_accuracy_digits_0_4'))).toBeLessThanOrEqual(0.005);
        expect(Math.abs(accuracy(logits, labels, 10, isHigh) - meta(name, 'eval_accuracy_digits_5_9'))).toBeLessThanOrEqual(0.005);
      }
    }
  });

  it('the two seeds both exceed 90% with different weights', () => {
    for (const name of ['mlp-seed1', 'mlp-seed2']) expect(accuracy(ortLogits.get(name)!, labels, 10)).toBeGreaterThan(0.9);
    const a = model('mlp-seed1').weights.get('fc1.weight')!;
    const b = model('mlp-seed2').weights.get('fc1.weight')!;
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff += Math.abs(a[i]! - b[i]!);
    expect(diff / a.length).toBeGreaterThan(0.01);
  });

  it('each fine-tune beats the other on its own digits by a wide margin', () => {
    const low = ortLogits.get('mlp-ft-low')!;
    const high = ortLogits.get('mlp-ft-high')!;
    const lowOnLow = accuracy(low, labels, 10, isLow);
    const highOnLow = accuracy(high, labels, 10, isLow);
    const highOnHigh = accuracy(high, labels, 10, isHigh);
    const lowOnHigh = accuracy(low, labels, 10, isHigh);
    expect(lowOnLow).toBeGreaterThan(0.9);
    expect(highOnHigh).toBeGreaterThan(0.9);
    expect(lowOnLow - highOnLow).toBeGreaterThan(0.3);
    expect(highOnHigh - lowOnHigh).toBeGreaterThan(0.3);
    // and both improved on their half over the base they started from
    const base = ortLogits.get('mlp-base')!;
    expect(lowOnLow).toBeGreaterThan(accuracy(base, labels, 10, isLow));
    expect(highOnHigh).toBeGreaterThan(accuracy(base, labels, 10, isHigh));
  });

  it('the committed files stay under 10 MB in total', () => {
    const total = readdirSync(DIR).reduce((s, f) => s + statSync(path.join(DIR, f)).size, 0);
    expect(total).toBeLessThan(10 * 2 ** 20);
  });
});
