import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-web';
import { UnsupportedError } from '@/lib/base/errors';
import { writeOnnx, type OnnxModelSpec } from '@/lib/formats/onnx/write-onnx';
import { readOnnx } from '@/lib/formats/read-onnx';
import { memorySource, singleFileModel } from '@/lib/io/byte-source';

ort.env.wasm.numThreads = 1;

/** Independent protobuf walker for the test: field number → raw values (varints as numbers, LEN as bytes). */
function fields(bytes: Uint8Array): Map<number, (number | Uint8Array)[]> {
  const out = new Map<number, (number | Uint8Array)[]>();
  let p = 0;
  const varint = (): number => {
    let v = 0;
    let mul = 1;
    for (;;) {
      const b = bytes[p++]!;
      v += (b & 0x7f) * mul;
      mul *= 128;
      if (b < 0x80) return v;
    }
  };
  while (p < bytes.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    let value: number | Uint8Array;
    if (wire === 0) value = varint();
    else if (wire === 2) {
      const n = varint();
      value = bytes.subarray(p, p + n);
      p += n;
    } else if (wire === 5) {
      value = new DataView(bytes.buffer, bytes.byteOffset + p, 4).getFloat32(0, true);
      p += 4;
    } else throw new Error(`unexpected wire type ${wire}`);
    out.set(field, [...(out.get(field) ?? []), value]);
  }
  return out;
}
const text = (v: number | Uint8Array | undefined): string => new TextDecoder().decode(v as Uint8Array);

const gemmSpec: OnnxModelSpec = {
  graphName: 'tiny_gemm',
  nodes: [
    {
      opType: 'Gemm',
      name: 'fc',
      inputs: ['x', 'w', 'b'],
      outputs: ['y'],
      attributes: { transB: { kind: 'int', value: 1 }, alpha: { kind: 'float', value: 0.5 } },
    },
  ],
  inputs: [
    { name: 'x', dtype: 'F32', shape: ['batch', 2] },
    { name: 'w', dtype: 'F32', shape: [3, 2] },
  ],
  outputs: [{ name: 'y', dtype: 'F32', shape: ['batch', 3] }],
  initializers: [{ name: 'b', dtype: 'F32', dims: [3], data: new Float32Array([10, 20, 30]) }],
  metadata: { purpose: 'test' },
  producerName: 'weightlens-test',
};

describe('writeOnnx', () => {
  it('writes a Gemm graph that onnxruntime-web loads and runs with known numbers', async () => {
    const session = await ort.InferenceSession.create(writeOnnx(gemmSpec));
    // The initializer is not a graph input: only x and w are fed.
    expect(session.inputNames).toEqual(['x', 'w']);
    expect(session.outputNames).toEqual(['y']);
    // y = 0.5 · x Wᵀ + b, batch of 2 through the symbolic dim.
    const x = new ort.Tensor('float32', new Float32Array([1, 2, 3, 4]), [2, 2]);
    const w = new ort.Tensor('float32', new Float32Array([1, 0, 0, 1, 2, -1]), [3, 2]);
    const { y } = await session.run({ x, w });
    expect(y!.dims).toEqual([2, 3]);
    expect(Array.from(y!.data as Float32Array)).toEqual([10.5, 21, 30, 11.5, 22, 31]);
    await session.release();
  });

  it('encodes negative ints, int lists and int64 initializers the runtime understands', async () => {
    // Transpose(perm=[1,0]) → Reshape(to [-1] via an I64 initializer) → Softmax(axis=-1).
    const bytes = writeOnnx({
      graphName: 'ints',
      nodes: [
        { opType: 'Transpose', inputs: ['x'], outputs: ['t'], attributes: { perm: { kind: 'ints', value: [1, 0] } } },
        { opType: 'Reshape', inputs: ['t', 'shape'], outputs: ['r'] },
        { opType: 'Softmax', inputs: ['r'], outputs: ['y'], attributes: { axis: { kind: 'int', value: -1 } } },
      ],
      inputs: [{ name: 'x', dtype: 'F32', shape: [2, 2] }],
      outputs: [{ name: 'y', dtype: 'F32', shape: [1, 4] }],
      initializers: [{ name: 'shape', dtype: 'I64', dims: [2], data: new BigInt64Array([1n, -1n]) }],
    });
    const session = await ort.InferenceSession.create(bytes);
    const x = new ort.Tensor('float32', new Float32Array([0, Math.log(2), Math.log(3), Math.log(4)]), [2, 2]);
    const { y } = await session.run({ x });
    expect(y!.dims).toEqual([1, 4]);
    // transposed order: e^0, e^ln3, e^ln2, e^ln4 = 1, 3, 2, 4 over 10
    const got = Array.from(y!.data as Float32Array);
    [0.1, 0.3, 0.2, 0.4].forEach((want, i) => expect(got[i]).toBeCloseTo(want, 6));
    await session.release();
  });

  it('writes the ModelProto header fields where onnx.proto puts them', () => {
    const model = fields(writeOnnx({ ...gemmSpec, opset: 13, irVersion: 7 }));
    expect(model.get(1)).toEqual([7]); // ir_version
    expect(text(model.get(2)?.[0])).toBe('weightlens-test'); // producer_name
    const opset = fields(model.get(8)![0] as Uint8Array);
    expect(opset.get(1)).toBeUndefined(); // default domain
    expect(opset.get(2)).toEqual([13]);
    const meta = fields(model.get(14)![0] as Uint8Array);
    expect(text(meta.get(1)?.[0])).toBe('purpose');
    expect(text(meta.get(2)?.[0])).toBe('test');
    const graph = fields(model.get(7)![0] as Uint8Array);
    expect(text(graph.get(2)?.[0])).toBe('tiny_gemm');
    expect(graph.get(1)).toHaveLength(1); // one node
    expect(graph.get(11)).toHaveLength(2); // inputs x, w
    const init = fields(graph.get(5)![0] as Uint8Array);
    expect(init.get(1)).toEqual([3]); // dims
    expect(init.get(2)).toEqual([1]); // FLOAT
    expect(text(init.get(8)?.[0])).toBe('b');
    expect(Array.from(new Float32Array((init.get(9)![0] as Uint8Array).slice().buffer))).toEqual([10, 20, 30]);
    // x: TypeProto.tensor_type.shape.dim[0].dim_param = "batch"
    const xType = fields(fields(fields(graph.get(11)![0] as Uint8Array).get(2)![0] as Uint8Array).get(1)![0] as Uint8Array);
    expect(xType.get(1)).toEqual([1]);
    const dims = fields(xType.get(2)![0] as Uint8Array).get(1)!.map((d) => fields(d as Uint8Array));
    expect(text(dims[0]!.get(2)?.[0])).toBe('batch');
    expect(dims[1]!.get(1)).toEqual([2]);
  });

  it('round-trips initializers through readOnnx (names, shapes, dtypes, values, consumer op)', async () => {
    const w = new Float32Array([1.5, -2, 0.25, 4, 5, -6]);
    const bytes = writeOnnx({
      ...gemmSpec,
      inputs: [gemmSpec.inputs[0]!],
      initializers: [
        { name: 'w', dtype: 'F32', dims: [3, 2], data: w },
        { name: 'b', dtype: 'F32', dims: [3], data: new Float32Array([10, 20, 30]) },
        { name: 'steps', dtype: 'I64', dims: [2], data: new BigInt64Array([7n, -3n]) },
      ],
    });
    const src = await readOnnx(singleFileModel(memorySource(bytes, 'tiny.onnx')));
    const byName = new Map(src.tensors.map((t) => [t.name, t]));
    expect(byName.get('w')).toMatchObject({ shape: [3, 2], dtype: 'F32', byteLength: 24 });
    expect(byName.get('w')?.consumer?.op).toBe('Gemm');
    expect(byName.get('b')).toMatchObject({ shape: [3], dtype: 'F32' });
    expect(byName.get('steps')).toMatchObject({ shape: [2], dtype: 'I64', byteLength: 16 });
    expect(Array.from(await src.read('w'))).toEqual(Array.from(w));
    expect(Array.from(await src.read('steps'))).toEqual([7, -3]);
  });

  it('is deterministic and rejects initializers whose bytes do not match their dims or dtype', () => {
    expect(writeOnnx(gemmSpec)).toEqual(writeOnnx(gemmSpec));
    const bad = { name: 'b', dtype: 'F32', dims: [4], data: new Float32Array(3) };
    expect(() => writeOnnx({ ...gemmSpec, initializers: [bad] })).toThrow(/"b" has 12 bytes, dims \[4\] × F32 need 16/);
    const odd = { name: 'q', dtype: 'Q4_K', dims: [1], data: new Uint8Array(1) };
    expect(() => writeOnnx({ ...gemmSpec, initializers: [odd] })).toThrow(UnsupportedError);
  });
});
