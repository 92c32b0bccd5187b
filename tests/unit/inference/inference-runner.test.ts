/**
 * The inference worker's runner behind the real WorkerPool client, through an in-process
 * WorkerLike (messages structured-cloned like postMessage), on the committed MNIST demo files.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CancelledError, FormatError, NotFoundError } from '@/lib/base/errors';
import { readSafetensors } from '@/lib/formats/read-safetensors';
import { writeOnnx } from '@/lib/formats/onnx/write-onnx';
import { memorySource, singleFileModel } from '@/lib/io/byte-source';
import { loadEvalSet, type EvalSet } from '@/lib/inference/eval-set';
import { createInferencePool, type InferencePool } from '@/lib/jobs/inference-client';
import { createInferenceRunner } from '@/lib/jobs/inference-runner';
import type { InferenceWorkerIn, InferenceWorkerOut, ModelMetrics, TensorOverride } from '@/lib/jobs/inference-types';
import type { ModelRef } from '@/lib/jobs/job-types';
import type { WorkerLike } from '@/lib/jobs/worker-pool';
import { accuracy, mlpForward, mlpFromTensors, softmaxCrossEntropy } from '@/lib/math/mlp';

const DIR = path.resolve(__dirname, '../../../public/models/mnist');
const bytesOf = (f: string) => new Uint8Array(readFileSync(path.join(DIR, f)));
const ref = (id: string, name: string, bytes: Uint8Array = bytesOf(name)): ModelRef => ({
  modelId: id,
  spec: { kind: 'files', primary: name, files: [{ path: name, file: new File([bytes as Uint8Array<ArrayBuffer>], name) }] },
});

const GRAPH = ref('graph', 'mlp.onnx');
const EVAL = ref('eval', 'mnist-eval.safetensors');
const SEED1 = ref('seed1', 'mlp-seed1.safetensors');

function inProcessWorker(): WorkerLike {
  const listeners: ((ev: MessageEvent<InferenceWorkerOut>) => void)[] = [];
  const runner = createInferenceRunner((msg) => {
    const copy = structuredClone(msg);
    queueMicrotask(() => listeners.forEach((l) => l({ data: copy } as MessageEvent<InferenceWorkerOut>)));
  });
  return {
    postMessage: (msg: InferenceWorkerIn) => void runner.handle(structuredClone(msg)),
    addEventListener: (type: string, fn: unknown) => {
      if (type === 'message') listeners.push(fn as (ev: MessageEvent<InferenceWorkerOut>) => void);
    },
    terminate: () => undefined,
  } as unknown as WorkerLike;
}

async function tensorsOf(file: string): Promise<{ overrides: TensorOverride[]; meta: Record<string, unknown> }> {
  const src = await readSafetensors(singleFileModel(memorySource(bytesOf(file), file)));
  const overrides: TensorOverride[] = [];
  for (const t of src.tensors) overrides.push({ name: t.name, shape: t.shape, data: await src.read(t.name) });
  return { overrides, meta: src.metadata };
}

/** TS reference: loss and accuracy of an MLP given by its tensors. */
function reference(overrides: TensorOverride[], set: EvalSet): { loss: number; accuracy: number } {
  const mlp = mlpFromTensors((n) => overrides.find((o) => o.name === n)?.data, [784, 128, 128, 10]);
  const logits = mlpForward(mlp, set.inputs, set.n);
  return { loss: softmaxCrossEntropy(Float64Array.from(logits), set.labels, set.n, 10).loss, accuracy: accuracy(logits, set.labels, 10) };
}

let pool: InferencePool;
let set: EvalSet;
let seed1: Awaited<ReturnType<typeof tensorsOf>>;
let seed2: Awaited<ReturnType<typeof tensorsOf>>;

beforeAll(async () => {
  pool = createInferencePool(inProcessWorker);
  set = await loadEvalSet(await readSafetensors(singleFileModel(memorySource(bytesOf('mnist-eval.safetensors'), 'mnist-eval.safetensors'))));
  seed1 = await tensorsOf('mlp-seed1.safetensors');
  seed2 = await tensorsOf('mlp-seed2.safetensors');
});

describe('inference runner via WorkerPool', () => {
  it('describe-graph lists inputs, outputs and the Gemm weights', async () => {
    const { data } = await pool.run({ kind: 'describe-graph', model: GRAPH });
    expect(data.inputs.map((v) => v.name)).toEqual(['x', 'fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias', 'fc3.weight', 'fc3.bias']);
    expect(data.outputs.map((v) => v.name)).toEqual(['logits']);
    expect(data.linear.map((l) => l.weight)).toEqual(['fc1.weight', 'fc2.weight', 'fc3.weight']);
  });

  it('evaluate: mlp-seed1 from its file reaches the accuracy in its metadata; overrides give the TS figures', async () => {
    const partials: ModelMetrics[] = [];
    const progress: number[] = [];
    // A merge-curve-like request: the file, then two interpolation points sent as overrides.
    const mix = (a: number): TensorOverride[] =>
      seed1.overrides.map((o, i) => ({ ...o, data: o.data.map((v, j) => (1 - a) * v + a * seed2.overrides[i]!.data[j]!) }));
    const { data, backend } = await pool.run(
      {
        kind: 'evaluate',
        model: GRAPH,
        evalSet: EVAL,
        models: [
          { label: 'seed1', base: SEED1 },
          { label: 'α = 0.5', overrides: mix(0.5) },
          { label: 'seed2', base: ref('seed2', 'mlp-seed2.safetensors') },
        ],
      },
      { onPartial: (d) => partials.push(d as ModelMetrics), onProgress: (p) => progress.push(p.done / p.total) },
    );
    expect(backend).toBe('cpu');
    expect(data.provider).toBe('wasm');
    expect(data.models.map((m) => m.label)).toEqual(['seed1', 'α = 0.5', 'seed2']);
    expect(partials).toEqual(data.models);
    expect(progress[progress.length - 1]).toBe(1);
    for (let i = 1; i < progress.length; i++) expect(progress[i]!).toBeGreaterThanOrEqual(progress[i - 1]!);

    const s1 = data.models[0]!;
    expect(s1.n).toBe(2000);
    // The metadata records the accuracy as a decimal string (e.g. "0.9470"): same to its precision.
    expect(s1.accuracy.toFixed(4)).toBe(Number(seed1.meta.eval_accuracy).toFixed(4));
    const refs = [reference(seed1.overrides, set), reference(mix(0.5), set), reference(seed2.overrides, set)];
    data.models.forEach((m, i) => {
      expect(Math.abs(m.loss - refs[i]!.loss), m.label).toBeLessThan(1e-5);
      expect(m.accuracy, m.label).toBe(refs[i]!.accuracy);
    });
    // Naive interpolation of two independently trained nets: a loss barrier in the middle.
    expect(data.models[1]!.loss).toBeGreaterThan(Math.max(data.models[0]!.loss, data.models[2]!.loss));
  });

  it('activation-norms returns per-feature norms for each weight, on a calibration subset', async () => {
    const { data } = await pool.run({ kind: 'activation-norms', model: GRAPH, evalSet: EVAL, weights: { label: 'seed1', base: SEED1 }, maxSamples: 128, only: ['fc1.weight'] });
    expect(data.samples).toBe(128);
    expect(data.norms.map((n) => [n.weight, n.activation, n.inAxis, n.values.length])).toEqual([['fc1.weight', 'x', 1, 784]]);
    const col = 300;
    let s = 0;
    for (let b = 0; b < 128; b++) s += set.inputs[b * 784 + col]! ** 2;
    expect(data.norms[0]!.values[col]).toBeCloseTo(Math.sqrt(s), 5);
    const all = await pool.run({ kind: 'activation-norms', model: GRAPH, evalSet: EVAL, weights: { label: 'seed1', base: SEED1 } });
    expect(all.data.norms.map((n) => [n.weight, n.activation, n.values.length])).toEqual([
      ['fc1.weight', 'x', 784],
      ['fc2.weight', 'relu1.out', 128],
      ['fc3.weight', 'relu2.out', 128],
    ]);
    await expect(pool.run({ kind: 'activation-norms', model: GRAPH, evalSet: EVAL, weights: { label: 'seed1', base: SEED1 }, only: ['fc1.bias'] })).rejects.toBeInstanceOf(NotFoundError);
  });

  it('a graph with initializers: the weights that a file provides become inputs, the rest stay', async () => {
    // 784 → 10 linear classifier whose weight is an initializer; the scale constant stays baked in.
    const w = seed1.overrides[0]!; // fc1.weight [128, 784] is the wrong shape; build a [10, 784] one
    const W = new Float32Array(10 * 784);
    for (let i = 0; i < W.length; i++) W[i] = w.data[i]!;
    const graph = writeOnnx({
      graphName: 'lin',
      nodes: [
        { opType: 'Gemm', inputs: ['x', 'lin.weight'], outputs: ['z'], name: 'lin', attributes: { transB: { kind: 'int', value: 1 } } },
        { opType: 'Mul', inputs: ['z', 'temp'], outputs: ['logits'], name: 'scale' },
      ],
      inputs: [{ name: 'x', dtype: 'F32', shape: ['batch', 784] }],
      outputs: [{ name: 'logits', dtype: 'F32', shape: ['batch', 10] }],
      initializers: [
        { name: 'lin.weight', dtype: 'F32', dims: [10, 784], data: new Float32Array(10 * 784) },
        { name: 'temp', dtype: 'F32', dims: [1], data: Float32Array.of(2) },
      ],
    });
    const G = ref('lin', 'lin.onnx', graph);
    const { data } = await pool.run({ kind: 'evaluate', model: G, evalSet: EVAL, maxSamples: 50, models: [{ label: 'w', overrides: [{ name: 'lin.weight', shape: [10, 784], data: W }] }] });
    // Reference: logits = 2·x Wᵀ over the first 50 images.
    const logits = new Float64Array(50 * 10);
    for (let b = 0; b < 50; b++)
      for (let o = 0; o < 10; o++) {
        let s = 0;
        for (let i = 0; i < 784; i++) s += set.inputs[b * 784 + i]! * W[o * 784 + i]!;
        logits[b * 10 + o] = 2 * s;
      }
    const labels = set.labels.subarray(0, 50);
    expect(data.models[0]!.n).toBe(50);
    expect(Math.abs(data.models[0]!.loss - softmaxCrossEntropy(logits, labels, 50, 10).loss)).toBeLessThan(1e-5);
    expect(data.models[0]!.accuracy).toBe(accuracy(logits, labels, 10));
    await pool.close('lin');
  });

  it('cancels a running evaluation, and reports errors naming the file', async () => {
    const ctrl = new AbortController();
    const job = pool.run(
      { kind: 'evaluate', model: GRAPH, evalSet: EVAL, batch: 100, models: Array.from({ length: 20 }, (_, i) => ({ label: `m${i}`, base: SEED1 })) },
      { signal: ctrl.signal, onProgress: (p) => p.done >= 1 && ctrl.abort() },
    );
    await expect(job).rejects.toBeInstanceOf(CancelledError);
    // The worker still serves the next job after a cancel.
    const ok = await pool.run({ kind: 'evaluate', model: GRAPH, evalSet: EVAL, maxSamples: 10, models: [{ label: 'seed1', base: SEED1 }] });
    expect(ok.data.models[0]!.n).toBe(10);

    const badEval = ref('bad-eval', 'mlp-seed2.safetensors');
    await expect(pool.run({ kind: 'evaluate', model: GRAPH, evalSet: badEval, models: [{ label: 'seed1', base: SEED1 }] })).rejects.toThrow(/mlp-seed2\.safetensors: an evaluation set needs a tensor named "inputs"/);
    await expect(pool.run({ kind: 'evaluate', model: GRAPH, evalSet: EVAL, models: [{ label: 'half', overrides: seed1.overrides.slice(0, 3) }] })).rejects.toBeInstanceOf(FormatError);
    await pool.close('bad-eval');
  });
});
