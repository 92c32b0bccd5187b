/**
 * The onnxruntime-web wrapper in Node: the wasm provider, errors naming the file, software
 * adapters recognised, and concurrent creates and runs (which onnxruntime refuses unless queued).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FormatError } from '@/lib/base/errors';
import { writeOnnx } from '@/lib/formats/onnx/write-onnx';
import { createSession, isSoftwareAdapter } from '@/lib/inference/ort';

const MNIST = new Uint8Array(readFileSync(path.resolve(__dirname, '../../../public/models/mnist/mlp.onnx')));

describe('createSession', () => {
  it('refuses bytes that are not a graph with a FormatError naming the file', async () => {
    await expect(createSession(new Uint8Array([1, 2, 3, 4, 5]), { file: 'junk.onnx' })).rejects.toBeInstanceOf(FormatError);
    await expect(createSession(new Uint8Array([1, 2, 3, 4, 5]), { file: 'junk.onnx' })).rejects.toThrow(/^junk\.onnx: onnxruntime could not load the graph/);
  });

  it('serves concurrent sessions and runs, each with its own answer', async () => {
    // y = x · k for a per-graph constant k, so mixed-up runs would show.
    const graph = (k: number) =>
      writeOnnx({
        graphName: `mul${k}`,
        nodes: [{ opType: 'Mul', inputs: ['x', 'k'], outputs: ['y'] }],
        inputs: [{ name: 'x', dtype: 'F32', shape: ['n'] }],
        outputs: [{ name: 'y', dtype: 'F32', shape: ['n'] }],
        initializers: [{ name: 'k', dtype: 'F32', dims: [1], data: Float32Array.of(k) }],
      });
    const sessions = await Promise.all([1, 2, 3, 4].map((k) => createSession(graph(k))));
    const x = Float32Array.of(1, 2, 3);
    const outs = await Promise.all(sessions.flatMap((s) => [s.run({ x: { data: x, dims: [3] } }), s.run({ x: { data: x, dims: [3] } })]));
    outs.forEach((o, i) => expect([...o.y!.data]).toEqual([1, 2, 3].map((v) => v * (Math.floor(i / 2) + 1))));
    for (const s of sessions) expect(s.provider).toBe('wasm');
    const mnist = await createSession(MNIST);
    expect([...mnist.outputNames]).toEqual(['logits']);
    await Promise.all([...sessions, mnist].map((s) => s.release()));
  });
});

describe('isSoftwareAdapter', () => {
  it('recognises CPU-emulated adapters only', () => {
    expect(isSoftwareAdapter('google swiftshader')).toBe(true);
    expect(isSoftwareAdapter('mesa llvmpipe')).toBe(true);
    expect(isSoftwareAdapter('Microsoft Basic Render Driver')).toBe(true);
    expect(isSoftwareAdapter('nvidia ampere')).toBe(false);
    expect(isSoftwareAdapter('apple metal-3')).toBe(false);
  });
});
