/**
 * Graph rewrites checked by running them: the MNIST graph (weights already inputs) and a graph
 * built here with initializers (MatMul + Add + Relu + Gemm transB=1 + Reshape with an int64
 * shape initializer). Outputs must not change; exposed values must equal a hand computation.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FormatError } from '@/lib/base/errors';
import { writeOnnx } from '@/lib/formats/onnx/write-onnx';
import { describeGraph, exposeOutputs, initializersToInputs, linearInputs, matchWeights } from '@/lib/inference/graph-inputs';
import { createSession } from '@/lib/inference/ort';

const MNIST = new Uint8Array(readFileSync(path.resolve(__dirname, '../../../public/models/mnist/mlp.onnx')));

// A deterministic 4 → 3 → 2 network; W1 is MatMul-style [in, out], W2 Gemm-style [out, in].
const N = 5;
const X = Float32Array.from({ length: N * 4 }, (_, i) => Math.sin(i * 1.7) * 2);
const W1 = Float32Array.from({ length: 12 }, (_, i) => Math.cos(i * 0.9));
const B1 = Float32Array.of(0.1, -0.2, 0.3);
const W2 = Float32Array.from({ length: 6 }, (_, i) => ((i % 4) - 1.5) * 0.7);
const B2 = Float32Array.of(0.05, -0.05);

function builtGraph(): Uint8Array {
  return writeOnnx({
    graphName: 'tiny',
    nodes: [
      { opType: 'MatMul', inputs: ['x', 'w1'], outputs: ['mm'], name: 'mm1' },
      { opType: 'Add', inputs: ['mm', 'b1'], outputs: ['pre'], name: 'add1' },
      { opType: 'Relu', inputs: ['pre'], outputs: ['h'], name: 'relu1' },
      { opType: 'Gemm', inputs: ['h', 'w2', 'b2'], outputs: ['y'], name: 'fc2', attributes: { transB: { kind: 'int', value: 1 } } },
      { opType: 'Reshape', inputs: ['y', 'shape'], outputs: ['out'], name: 'flat' },
    ],
    inputs: [{ name: 'x', dtype: 'F32', shape: ['batch', 4] }],
    outputs: [{ name: 'out', dtype: 'F32', shape: ['n'] }],
    initializers: [
      { name: 'w1', dtype: 'F32', dims: [4, 3], data: W1 },
      { name: 'b1', dtype: 'F32', dims: [3], data: B1 },
      { name: 'w2', dtype: 'F32', dims: [2, 3], data: W2 },
      { name: 'b2', dtype: 'F32', dims: [2], data: B2 },
      { name: 'shape', dtype: 'I64', dims: [1], data: BigInt64Array.of(-1n) },
    ],
  });
}

/** Hand forward pass in float64. */
function handForward(): { h: Float64Array; out: Float64Array } {
  const h = new Float64Array(N * 3);
  const out = new Float64Array(N * 2);
  for (let n = 0; n < N; n++) {
    for (let j = 0; j < 3; j++) {
      let s = B1[j]!;
      for (let i = 0; i < 4; i++) s += X[n * 4 + i]! * W1[i * 3 + j]!;
      h[n * 3 + j] = Math.max(0, s);
    }
    for (let o = 0; o < 2; o++) {
      let s = B2[o]!;
      for (let j = 0; j < 3; j++) s += h[n * 3 + j]! * W2[o * 3 + j]!;
      out[n * 2 + o] = s;
    }
  }
  return { h, out };
}

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!), `index ${i}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b[i]!)));
}

describe('describeGraph / matchWeights / linearInputs', () => {
  it('lists the MNIST graph inputs, outputs and Gemm weights with their feature axis', () => {
    const g = describeGraph(MNIST, 'mlp.onnx');
    expect(g.inputs.map((v) => [v.name, v.dtype, v.shape])).toEqual([
      ['x', 'F32', ['batch', 784]],
      ['fc1.weight', 'F32', [128, 784]],
      ['fc1.bias', 'F32', [128]],
      ['fc2.weight', 'F32', [128, 128]],
      ['fc2.bias', 'F32', [128]],
      ['fc3.weight', 'F32', [10, 128]],
      ['fc3.bias', 'F32', [10]],
    ]);
    expect(g.outputs.map((v) => v.name)).toEqual(['logits']);
    expect(linearInputs(g).map((l) => [l.weight, l.activation, l.op, l.inAxis])).toEqual([
      ['fc1.weight', 'x', 'Gemm', 1],
      ['fc2.weight', 'relu1.out', 'Gemm', 1],
      ['fc3.weight', 'relu2.out', 'Gemm', 1],
    ]);
    const m = matchWeights(g, [
      { name: 'fc1.weight', shape: [128, 784] },
      { name: 'fc1.bias', shape: [128] },
      { name: 'fc2.weight', shape: [128, 64] },
    ]);
    expect(m.matched).toEqual(['fc1.weight', 'fc1.bias']);
    expect(m.mismatched).toEqual([{ name: 'fc2.weight', graph: [128, 128], weights: [128, 64] }]);
    expect(m.dataInputs.map((v) => v.name)).toEqual(['x', 'fc2.bias', 'fc3.weight', 'fc3.bias']);
  });

  it('finds MatMul ([in, out], axis 0) and Gemm transB=1 ([out, in], axis 1) weights among initializers', () => {
    const g = describeGraph(builtGraph());
    expect(g.initializers.map((v) => [v.name, v.dtype, v.shape])).toEqual([
      ['w1', 'F32', [4, 3]],
      ['b1', 'F32', [3]],
      ['w2', 'F32', [2, 3]],
      ['b2', 'F32', [2]],
      ['shape', 'I64', [1]],
    ]);
    expect(linearInputs(g).map((l) => [l.weight, l.activation, l.op, l.inAxis])).toEqual([
      ['w1', 'x', 'MatMul', 0],
      ['w2', 'h', 'Gemm', 1],
    ]);
  });
});

describe('initializersToInputs', () => {
  it('turns float initializers into inputs (int64 shape stays), and the outputs are unchanged', async () => {
    const original = builtGraph();
    const rewritten = initializersToInputs(original);
    const g = describeGraph(rewritten);
    expect(g.inputs.map((v) => [v.name, v.shape])).toEqual([
      ['x', ['batch', 4]],
      ['w1', [4, 3]],
      ['b1', [3]],
      ['w2', [2, 3]],
      ['b2', [2]],
    ]);
    expect(g.initializers.map((v) => v.name)).toEqual(['shape']);
    expect(rewritten.length).toBeLessThan(original.length);

    const before = await createSession(original);
    const after = await createSession(rewritten);
    expect(after.provider).toBe('wasm');
    expect([...after.inputNames]).toEqual(['x', 'w1', 'b1', 'w2', 'b2']);
    const x = { data: X, dims: [N, 4] };
    const a = await before.run({ x });
    const b = await after.run({ x, w1: { data: W1, dims: [4, 3] }, b1: { data: B1, dims: [3] }, w2: { data: W2, dims: [2, 3] }, b2: { data: B2, dims: [2] } });
    expect([...b.out!.data]).toEqual([...a.out!.data]);
    close(b.out!.data, handForward().out);
    // Another weight set through the same session: the graph really reads the fed values.
    const c = await after.run({ x, w1: { data: W1, dims: [4, 3] }, b1: { data: B1, dims: [3] }, w2: { data: new Float32Array(6), dims: [2, 3] }, b2: { data: B2, dims: [2] } });
    close(c.out!.data, Array.from({ length: N * 2 }, (_, i) => B2[i % 2]!));
    await Promise.all([before.release(), after.release()]);
  });

  it('converts only the named initializers, and names the file for an unknown one', () => {
    const g = describeGraph(initializersToInputs(builtGraph(), { names: ['w2'] }));
    expect(g.inputs.map((v) => v.name)).toEqual(['x', 'w2']);
    expect(g.initializers.map((v) => v.name)).toEqual(['w1', 'b1', 'b2', 'shape']);
    expect(() => initializersToInputs(builtGraph(), { names: ['nope'], file: 'tiny.onnx' })).toThrow(/tiny\.onnx: no initializer named "nope"/);
    expect(() => initializersToInputs(builtGraph(), { names: ['shape'], file: 'tiny.onnx' })).toThrow(/only float initializers/);
  });

  it('leaves a graph without initializers byte-identical in content (MNIST)', () => {
    const out = initializersToInputs(MNIST);
    expect(describeGraph(out)).toEqual(describeGraph(MNIST));
  });

  it('rejects a truncated model with a FormatError naming the file', () => {
    expect(() => describeGraph(MNIST.subarray(0, MNIST.length - 7), 'cut.onnx')).toThrow(FormatError);
    expect(() => describeGraph(MNIST.subarray(0, MNIST.length - 7), 'cut.onnx')).toThrow(/cut\.onnx/);
  });
});

describe('exposeOutputs', () => {
  it('adds intermediate values as outputs equal to the hand computation; the original output is unchanged', async () => {
    const bytes = exposeOutputs(initializersToInputs(builtGraph()), ['h', 'mm', 'out']);
    expect(describeGraph(bytes).outputs.map((v) => v.name)).toEqual(['out', 'h', 'mm']);
    const s = await createSession(bytes);
    const res = await s.run({ x: { data: X, dims: [N, 4] }, w1: { data: W1, dims: [4, 3] }, b1: { data: B1, dims: [3] }, w2: { data: W2, dims: [2, 3] }, b2: { data: B2, dims: [2] } });
    const hand = handForward();
    close(res.h!.data, hand.h);
    expect(res.h!.dims).toEqual([N, 3]);
    close(res.out!.data, hand.out);
    await s.release();
    expect(() => exposeOutputs(builtGraph(), ['ghost'], 'tiny.onnx')).toThrow(/tiny\.onnx: no value named "ghost"/);
  });
});
