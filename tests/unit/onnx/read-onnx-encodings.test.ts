import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-web';
import { readOnnx, readOnnxWith } from '@/lib/formats/read-onnx';
import { memorySource, modelFromSources, singleFileModel } from '@/lib/io/byte-source';
import { f16ToF32 } from '@/lib/formats/dtype';
import { UnsupportedError } from '@/lib/base/errors';
import {
  attrFloat, attrFloats, attrGraph, attrInt, attrInts, attrTensor, cat, f32le, fLen, fStr, fVarint, graph, model, node, tensor,
  valueInfo, type Bytes, type TensorSpec,
} from './proto-encode';

ort.env.wasm.numThreads = 1;

const open = (bytes: Uint8Array, name = 'm.onnx') => readOnnx(singleFileModel(memorySource(bytes, name)));

/** ONNX elem type -> what onnxruntime calls it, for graph outputs. */
const ORT_TYPES: Record<number, number> = { 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 7, 9: 9, 10: 10, 11: 11, 12: 12, 13: 13 };

function ortNumbers(t: ort.Tensor): number[] {
  if (t.type === 'float16') return [...(t.data as Uint16Array)].map(f16ToF32);
  return Array.from(t.data as ArrayLike<number | bigint>, (v) => Math.fround(Number(v)));
}

interface Case {
  label: string;
  dataType: number;
  dims: number[];
  /** The weight as a graph initializer ... */
  init?: Omit<TensorSpec, 'name' | 'dims' | 'dataType'>;
  /** ... or as a Constant node's attribute. */
  constantAttr?: Bytes;
}

const CASES: Case[] = [
  { label: 'float_data, packed', dataType: 1, dims: [2, 3], init: { floatData: [1.5, -2, 3.25, 0, 1e-8, -7e6] } },
  { label: 'float_data, unpacked', dataType: 1, dims: [3], init: { floatData: [0.5, -0.25, 8], unpacked: true } },
  { label: 'raw_data float32', dataType: 1, dims: [2, 2], init: { raw: f32le([1, -1, 0.125, 3e5]) } },
  { label: 'float16 bit patterns in int32_data', dataType: 10, dims: [2, 2], init: { int32Data: [0x3c00, 0xc000, 0x3555, 0x7bff] } },
  { label: 'double_data', dataType: 11, dims: [2], init: { doubleData: [0.1, -1e300] } },
  { label: 'int32_data, negative values', dataType: 6, dims: [3], init: { int32Data: [-7, 123456, -2147483648] } },
  { label: 'int64_data, negative and > 2^32', dataType: 7, dims: [3], init: { int64Data: [-5n, 0n, 2n ** 40n] } },
  { label: 'int64_data, unpacked', dataType: 7, dims: [2], init: { int64Data: [3n, -4n], unpacked: true } },
  { label: 'uint8 in int32_data', dataType: 2, dims: [3], init: { int32Data: [0, 200, 255] } },
  { label: 'int8 in int32_data', dataType: 3, dims: [2], init: { int32Data: [-128, 127] } },
  { label: 'uint16 in int32_data', dataType: 4, dims: [2], init: { int32Data: [65535, 1] } },
  { label: 'int16 in int32_data', dataType: 5, dims: [2], init: { int32Data: [-32768, 5] } },
  { label: 'bool in int32_data', dataType: 9, dims: [3], init: { int32Data: [1, 0, 1] } },
  { label: 'uint32 in uint64_data', dataType: 12, dims: [2], init: { uint64Data: [4294967295, 7] } },
  { label: 'uint64 in uint64_data', dataType: 13, dims: [1], init: { uint64Data: [2n ** 40n] } },
  { label: 'Constant value tensor (raw)', dataType: 1, dims: [2], constantAttr: attrTensor('value', tensor({ dims: [2], dataType: 1, raw: f32le([4, -4]) })) },
  { label: 'Constant value_floats', dataType: 1, dims: [3], constantAttr: attrFloats('value_floats', [0.5, 1.5, -2.5]) },
  { label: 'Constant value_float', dataType: 1, dims: [], constantAttr: attrFloat('value_float', 2.5) },
  { label: 'Constant value_ints', dataType: 7, dims: [2], constantAttr: attrInts('value_ints', [-3, 9]) },
  { label: 'Constant value_int', dataType: 7, dims: [], constantAttr: attrInt('value_int', -42) },
];

/** A model whose only output is Identity(weight), so onnxruntime hands the weight back. */
function identityModel(c: Case): Uint8Array {
  const nodes = [node({ op: 'Identity', name: 'id', inputs: ['w'], outputs: ['y'] })];
  if (c.constantAttr) nodes.unshift(node({ op: 'Constant', name: 'const', outputs: ['w'], attrs: [c.constantAttr] }));
  return model(
    graph({
      name: 'g',
      nodes,
      initializers: c.init ? [tensor({ name: 'w', dims: c.dims, dataType: c.dataType, ...c.init })] : [],
      outputs: [valueInfo('y', c.dims, ORT_TYPES[c.dataType])],
    }),
  );
}

describe('readOnnx typed-field encodings, checked against onnxruntime-web', () => {
  for (const c of CASES) {
    it(`reads ${c.label} as onnxruntime does`, async () => {
      const bytes = identityModel(c);
      const session = await ort.InferenceSession.create(bytes);
      const ortOut = (await session.run({})).y!;
      await session.release();
      const m = await open(bytes);
      expect(m.tensors.map((t) => [t.name, t.shape])).toEqual([['w', c.dims]]);
      expect(m.tensors[0]!.consumer).toEqual({ op: 'Identity', input: 0 });
      expect([...(await m.read('w'))]).toEqual(ortNumbers(ortOut));
      // The same answer when every field straddles a 5-byte window edge.
      const tiny = await readOnnxWith(singleFileModel(memorySource(bytes, 'm.onnx')), { windowBytes: 5 });
      expect([...(await tiny.read('w'))]).toEqual(ortNumbers(ortOut));
    });
  }
});

describe('readOnnx encodings onnxruntime-web cannot hand back', () => {
  it('decodes bfloat16 and float8 bit patterns stored in int32_data', async () => {
    const m = await open(
      model(
        graph({
          initializers: [
            tensor({ name: 'bf', dims: [3], dataType: 16, int32Data: [0x3f80, 0xc040, 0x4049] }), // 1, -3, 3.140625
            tensor({ name: 'e4m3', dims: [3], dataType: 17, int32Data: [0x38, 0xc0, 0x7e] }), // 1, -2, 448
            tensor({ name: 'e5m2', dims: [2], dataType: 19, raw: [0x3c, 0x7c] }), // 1, +inf
          ],
        }),
      ),
    );
    expect(m.tensors.map((t) => t.dtype)).toEqual(['BF16', 'F8_E4M3', 'F8_E5M2']);
    expect([...(await m.read('bf'))]).toEqual([1, -3, 3.140625]);
    expect([...(await m.read('e4m3'))]).toEqual([1, -2, 448]);
    expect([...(await m.read('e5m2'))]).toEqual([1, Infinity]);
  });

  it('lists tensors it cannot decode without failing: strings, int4, complex, unknown types, segments', async () => {
    const m = await open(
      model(
        graph({
          initializers: [
            tensor({ name: 'str', dims: [1], dataType: 8, extra: fLen(6, [0x68, 0x69]) }),
            tensor({ name: 'i4', dims: [3], dataType: 22, raw: [0x21, 0x03] }),
            tensor({ name: 'c64', dims: [1], dataType: 14, floatData: [1, 2] }),
            tensor({ name: 'future', dims: [2], dataType: 99, raw: [1, 2, 3] }),
            tensor({ name: 'seg', dims: [2], dataType: 1, extra: fLen(3, cat(fVarint(1, 0), fVarint(2, 2))) }),
            tensor({ name: 'ok', dims: [1], dataType: 1, raw: f32le([7]) }),
          ],
        }),
      ),
    );
    expect(m.tensors.map((t) => [t.name, t.dtype, t.decodable])).toEqual([
      ['str', 'STRING', false],
      ['i4', 'INT4', false],
      ['c64', 'COMPLEX64', false],
      ['future', 'ONNX_TYPE_99', false],
      ['seg', 'F32', false],
      ['ok', 'F32', true],
    ]);
    expect(m.tensors[1]!.byteLength).toBe(2);
    await expect(m.read('i4')).rejects.toBeInstanceOf(UnsupportedError);
    await expect(m.read('future')).rejects.toThrow(/m\.onnx: tensor "future" \(ONNX_TYPE_99\) cannot be decoded: ONNX type ONNX_TYPE_99 is not decoded/);
    expect(m.tensors.find((t) => t.name === 'seg')!.note).toBe('segmented tensor, not decoded');
    expect([...(await m.read('ok'))]).toEqual([7]);
  });

  it('lists sparse initializers with their dense shape, as not decoded', async () => {
    const values = tensor({ name: 'sp', dims: [2], dataType: 1, raw: f32le([5, 6]) });
    const indices = tensor({ dims: [2], dataType: 7, int64Data: [1, 7] });
    const sparse = cat(fLen(1, values), fLen(2, indices), fVarint(3, 4), fVarint(3, 3));
    const m = await open(model(cat(fStr(2, 'g'), fLen(15, sparse))));
    expect(m.tensors).toEqual([{ name: 'sp', shape: [4, 3], dtype: 'F32', byteLength: sparse.length, decodable: false, note: 'sparse initializer; sparse, not decoded' }]);
    await expect(m.read('sp')).rejects.toThrow(/"sp" \(F32\) cannot be decoded: sparse initializer/);
  });

  it('reads external data through the model folder, bounds-checked', async () => {
    const weights = new Uint8Array(8 + 12);
    weights.set(new Uint8Array(f32le([1.25, -2, 9])), 8);
    const bytes = model(
      graph({ initializers: [tensor({ name: 'ext', dims: [3], dataType: 1, external: { location: 'data/w.bin', offset: '8', length: '12' } })] }),
    );
    const primary = memorySource(bytes, 'dir/model.onnx');
    const m = await readOnnx(modelFromSources([primary, memorySource(weights, 'dir/data/w.bin')], primary));
    expect(m.tensors[0]).toMatchObject({ name: 'ext', shape: [3], byteLength: 12, file: 'data/w.bin' });
    expect([...(await m.read('ext'))]).toEqual([1.25, -2, 9]);
    expect(m.totalBytes).toBe(bytes.length + weights.length);
  });
});

describe('readOnnx graph structure', () => {
  it('keeps both branches of an If, renaming the repeated name, each with its own consumer', async () => {
    const branch = (op: string, v: number, attrs: Bytes[] = []) =>
      graph({
        nodes: [node({ op, name: `${op}_0`, inputs: ['x', 'w'], outputs: ['y'], attrs })],
        initializers: [tensor({ name: 'w', dims: [2, 2], dataType: 1, raw: f32le([v, v, v, v]) })],
      });
    const g = graph({
      name: 'main',
      nodes: [
        node({
          op: 'If', name: 'if0', inputs: ['cond'], outputs: ['y'],
          attrs: [attrGraph('then_branch', branch('MatMul', 1)), attrGraph('else_branch', branch('Gemm', 2, [attrInt('transB', 1)]))],
        }),
      ],
    });
    const m = await open(model(g));
    expect(m.tensors.map((t) => [t.name, t.note, t.consumer])).toEqual([
      ['w', 'initializer in If then_branch of node "if0"', { op: 'MatMul', input: 1 }],
      ['w@else_branch', 'initializer in If else_branch of node "if0"; renamed from "w", which an earlier tensor uses', { op: 'Gemm', input: 1, attrs: { transB: 1 } }],
    ]);
    expect([...(await m.read('w'))]).toEqual([1, 1, 1, 1]);
    expect([...(await m.read('w@else_branch'))]).toEqual([2, 2, 2, 2]);
    expect(m.metadata).toMatchObject({ graphName: 'main', nodeCount: 3, subgraphCount: 2, opTypes: { If: 1, MatMul: 1, Gemm: 1 } });
  });

  it('follows Identity nodes to the real consumer, and sees outer-scope use inside a Loop body', async () => {
    const body = graph({ nodes: [node({ op: 'LSTM', name: 'lstm', inputs: ['x', 'W_outer', 'R'], outputs: ['h'], attrs: [attrInt('hidden_size', 4)] })] });
    const g = graph({
      nodes: [
        node({ op: 'Identity', inputs: ['W0'], outputs: ['W0_id'] }),
        node({ op: 'Identity', inputs: ['W0_id'], outputs: ['W0_id2'] }),
        node({ op: 'Conv', inputs: ['x', 'W0_id2'], outputs: ['y'], attrs: [attrInt('group', 2), attrInts('kernel_shape', [3, 3]), attrInts('strides', [2, 2])] }),
        node({ op: 'Loop', name: 'loop', inputs: ['n', 'c'], outputs: ['z'], attrs: [attrGraph('body', body)] }),
      ],
      initializers: [
        tensor({ name: 'W0', dims: [4, 2, 3, 3], dataType: 1, raw: f32le(Array(72).fill(0.5)) }),
        tensor({ name: 'W_outer', dims: [1, 16, 3], dataType: 1, raw: f32le(Array(48).fill(1)) }),
      ],
    });
    const m = await open(model(g));
    expect(m.tensors.map((t) => [t.name, t.consumer])).toEqual([
      ['W0', { op: 'Conv', input: 1, attrs: { group: 2, kernel_shape: [3, 3], strides: [2, 2] } }],
      ['W_outer', { op: 'LSTM', input: 1, attrs: { hidden_size: 4 } }],
    ]);
  });

  it('reads the model metadata', async () => {
    const bytes = new Uint8Array(
      cat(
        fVarint(1, 9), fStr(2, 'exporter'), fStr(3, '2.1'), fStr(4, 'ai.test'), fVarint(5, 3),
        fLen(7, graph({ name: 'net', inputs: [valueInfo('in', [1])], outputs: [valueInfo('out', [1])], nodes: [node({ op: 'Relu', inputs: ['in'], outputs: ['out'] })] })),
        fLen(8, cat(fStr(1, ''), fVarint(2, 18))), fLen(8, cat(fStr(1, 'com.microsoft'), fVarint(2, 1))),
        fLen(14, cat(fStr(1, 'author'), fStr(2, 'someone'))),
      ),
    );
    const m = await open(bytes);
    expect(m.tensors).toEqual([]);
    expect(m.metadata).toEqual({
      irVersion: 9, producerName: 'exporter', producerVersion: '2.1', domain: 'ai.test', modelVersion: 3,
      graphName: 'net', graphInputs: ['in'], graphOutputs: ['out'],
      opsetImport: [{ domain: '', version: 18 }, { domain: 'com.microsoft', version: 1 }],
      metadataProps: { author: 'someone' }, nodeCount: 1, subgraphCount: 0, opTypes: { Relu: 1 },
    });
  });
});
