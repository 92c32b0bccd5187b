/**
 * Loss, accuracy and Wanda activation norms from onnxruntime-web on the committed MNIST demo,
 * checked against the TypeScript forward pass (lib/math/mlp.ts) and a hand computation of the
 * hidden activations; and the evaluation-set loader on real and hand-built files.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CancelledError, FormatError } from '@/lib/base/errors';
import { readSafetensors } from '@/lib/formats/read-safetensors';
import { readZipModel } from '@/lib/formats/read-zip-model';
import { writeSafetensors } from '@/lib/formats/write-safetensors';
import { memorySource, singleFileModel } from '@/lib/io/byte-source';
import { loadEvalSet, parseScale, type EvalSet } from '@/lib/inference/eval-set';
import { activationNorms, evaluateClassifier, type WeightTensor } from '@/lib/inference/evaluate';
import { describeGraph, exposeOutputs, linearInputs } from '@/lib/inference/graph-inputs';
import { createSession, type InferenceSession } from '@/lib/inference/ort';
import { accuracy, mlpForward, mlpFromTensors, softmaxCrossEntropy, type Mlp } from '@/lib/math/mlp';
import { buildNpy, encodeValues } from '../numpy/build-npy';
import { buildZip } from '../zip/build-zip';

const DIR = path.resolve(__dirname, '../../../public/models/mnist');
const bytesOf = (f: string) => new Uint8Array(readFileSync(path.join(DIR, f)));
const open = (f: string) => readSafetensors(singleFileModel(memorySource(bytesOf(f), f)));

let evalSet: EvalSet;
let weights: Map<string, WeightTensor>;
let mlp: Mlp;
let meta: Record<string, unknown>;

beforeAll(async () => {
  evalSet = await loadEvalSet(await open('mnist-eval.safetensors'));
  const src = await open('mlp-seed1.safetensors');
  meta = src.metadata;
  weights = new Map();
  for (const t of src.tensors) weights.set(t.name, { data: await src.read(t.name), shape: t.shape });
  mlp = mlpFromTensors((n) => weights.get(n)?.data, [784, 128, 128, 10]);
});

describe('loadEvalSet', () => {
  it('reads the MNIST eval set: U8 pixels scaled by 1/255, integer labels', async () => {
    expect(evalSet.n).toBe(2000);
    expect(evalSet.sampleShape).toEqual([784]);
    expect(evalSet.scale).toBeCloseTo(1 / 255, 15);
    const raw = await (await open('mnist-eval.safetensors')).read('inputs');
    for (const i of [0, 1000, 300_000, raw.length - 1]) expect(evalSet.inputs[i]).toBe(Math.fround(raw[i]! * (1 / 255)));
    expect(Math.max(...evalSet.labels)).toBe(9);
  });

  it('parses scales', () => {
    expect(parseScale('1/255')).toBeCloseTo(1 / 255, 15);
    expect(parseScale(' 0.5 ')).toBe(0.5);
    expect(parseScale('2e-3')).toBe(0.002);
    expect(parseScale('one/255')).toBeUndefined();
  });

  const st = (tensors: Parameters<typeof writeSafetensors>[0], metadata?: Record<string, string>) =>
    readSafetensors(singleFileModel(memorySource(writeSafetensors(tensors, metadata), 'set.safetensors')));

  it('names the file and the problem for missing tensors, disagreeing shapes, float labels, a bad scale', async () => {
    const x = { name: 'inputs', shape: [3, 2], dtype: 'F32', data: new Float32Array(6) };
    await expect(loadEvalSet(await st([x]))).rejects.toThrow(/set\.safetensors: an evaluation set needs a tensor named "labels" \(has: inputs\)/);
    await expect(loadEvalSet(await st([{ ...x, name: 'x' }, { name: 'labels', shape: [3], dtype: 'U8', data: new Uint8Array(3) }]))).rejects.toThrow(/needs a tensor named "inputs"/);
    await expect(loadEvalSet(await st([x, { name: 'labels', shape: [4], dtype: 'U8', data: new Uint8Array(4) }]))).rejects.toThrow(/set\.safetensors: "labels" has shape \[4\], expected \[3\]/);
    await expect(loadEvalSet(await st([x, { name: 'labels', shape: [3], dtype: 'F32', data: new Float32Array(3) }]))).rejects.toThrow(/must be integers/);
    await expect(loadEvalSet(await st([x, { name: 'labels', shape: [3], dtype: 'U8', data: new Uint8Array(3) }], { inputs_scale: 'lots' }))).rejects.toThrow(FormatError);
  });

  it('reads an npz (np.savez) with I64 labels and an inputs_scale array', async () => {
    const zip = buildZip([
      { name: 'inputs.npy', data: buildNpy({ descr: '|u1', shape: [2, 3], data: encodeValues('u1', [0, 51, 102, 153, 204, 255]) }) },
      { name: 'labels.npy', data: buildNpy({ descr: '<i8', shape: [2], data: encodeValues('i8', [7, 2]) }) },
      { name: 'inputs_scale.npy', data: buildNpy({ descr: '<f8', shape: [], data: encodeValues('f8', [0.2]) }) },
    ]);
    const set = await loadEvalSet(await readZipModel(singleFileModel(memorySource(zip.bytes, 'set.npz'))));
    expect(set.n).toBe(2);
    expect([...set.labels]).toEqual([7, 2]);
    expect([...set.inputs]).toEqual([0, 51, 102, 153, 204, 255].map((v) => Math.fround(Math.fround(v) * 0.2)));
  });
});

describe('evaluateClassifier', () => {
  let session: InferenceSession;
  beforeAll(async () => {
    session = await createSession(bytesOf('mlp.onnx'), { file: 'mlp.onnx' });
  });

  it('matches the TypeScript forward pass (loss within 1e-5, same accuracy) and the recorded accuracy', async () => {
    const seen: number[] = [];
    const got = await evaluateClassifier(session, evalSet, weights, { batch: 300, onProgress: (d) => seen.push(d) });
    const logits = mlpForward(mlp, evalSet.inputs, evalSet.n);
    const ts = softmaxCrossEntropy(Float64Array.from(logits), evalSet.labels, evalSet.n, 10);
    expect(got.n).toBe(2000);
    expect(Math.abs(got.loss - ts.loss)).toBeLessThan(1e-5);
    expect(got.accuracy).toBe(accuracy(logits, evalSet.labels, 10));
    expect(Math.abs(got.accuracy - Number(meta.eval_accuracy))).toBeLessThanOrEqual(0.005);
    expect(seen).toEqual([300, 600, 900, 1200, 1500, 1800, 2000]);
    expect(session.provider).toBe('wasm');
  });

  it('gives the same figures for any batch size, and changed weights change them', async () => {
    const a = await evaluateClassifier(session, evalSet, weights, { batch: 2000 });
    const b = await evaluateClassifier(session, evalSet, weights, { batch: 7 });
    expect(Math.abs(a.loss - b.loss)).toBeLessThan(1e-6);
    expect(a.accuracy).toBe(b.accuracy);
    const zeroed = new Map(weights);
    zeroed.set('fc3.weight', { data: new Float32Array(1280), shape: [10, 128] });
    const z = await evaluateClassifier(session, evalSet, zeroed);
    // Constant logits = fc3.bias for every image: the loss is that of the bias alone.
    const bias = Float64Array.from({ length: 20000 }, (_, i) => weights.get('fc3.bias')!.data[i % 10]!);
    expect(Math.abs(z.loss - softmaxCrossEntropy(bias, evalSet.labels, 2000, 10).loss)).toBeLessThan(1e-5);
  });

  it('stops on abort with CancelledError, and says which graph input has no weights', async () => {
    const ctrl = new AbortController();
    ctrl.abort();
    await expect(evaluateClassifier(session, evalSet, weights, { signal: ctrl.signal })).rejects.toBeInstanceOf(CancelledError);
    const partial = new Map(weights);
    partial.delete('fc2.bias');
    await expect(evaluateClassifier(session, evalSet, partial)).rejects.toThrow(/"x", "fc2.bias" have no weights/);
  });
});

describe('activationNorms', () => {
  it('gives ‖X_j‖₂ per input feature of every Gemm weight, equal to a hand forward pass within 1e-4', async () => {
    const bytes = bytesOf('mlp.onnx');
    const info = describeGraph(bytes);
    const linear = linearInputs(info, new Set(weights.keys()));
    const exposed = exposeOutputs(bytes, linear.map((l) => l.activation).filter((a) => a !== 'x'));
    const session = await createSession(exposed);
    const norms = await activationNorms(session, evalSet, weights, linear, { batch: 512 });
    expect([...norms.keys()]).toEqual(['fc1.weight', 'fc2.weight', 'fc3.weight']);
    expect(norms.get('fc1.weight')!.length).toBe(784);
    expect(norms.get('fc2.weight')!.length).toBe(128);

    // Hand: h1 = relu(x W1ᵀ + b1), h2 = relu(h1 W2ᵀ + b2); norms of columns of x, h1, h2.
    const n = evalSet.n;
    const sq = [new Float64Array(784), new Float64Array(128), new Float64Array(128)];
    let act = Float64Array.from(evalSet.inputs);
    let width = 784;
    for (let l = 0; l < 3; l++) {
      for (let i = 0; i < act.length; i++) sq[l]![i % width]! += act[i]! * act[i]!;
      if (l === 2) break;
      const layer = mlp.layers[l]!;
      const next = new Float64Array(n * layer.outFeatures);
      for (let b = 0; b < n; b++)
        for (let o = 0; o < layer.outFeatures; o++) {
          let s = layer.bias[o]!;
          for (let i = 0; i < width; i++) s += act[b * width + i]! * layer.weight[o * width + i]!;
          next[b * layer.outFeatures + o] = Math.max(0, s);
        }
      act = next;
      width = layer.outFeatures;
    }
    ['fc1.weight', 'fc2.weight', 'fc3.weight'].forEach((name, l) => {
      const got = norms.get(name)!;
      const want = sq[l]!.map(Math.sqrt);
      for (let j = 0; j < want.length; j++) expect(Math.abs(got[j]! - want[j]!), `${name}[${j}]`).toBeLessThanOrEqual(1e-4 * Math.max(want[j]!, 1e-3));
    });
    await session.release();
  });

  it('refuses activations the session does not output', async () => {
    const bytes = bytesOf('mlp.onnx');
    const session = await createSession(bytes);
    const linear = linearInputs(describeGraph(bytes));
    await expect(activationNorms(session, evalSet, weights, linear)).rejects.toThrow(/activation "relu1.out" is not a graph output/);
  });
});
