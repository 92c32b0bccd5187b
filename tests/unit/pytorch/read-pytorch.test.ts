import { describe, expect, it } from 'vitest';
import { memorySource, singleFileModel } from '@/lib/io/byte-source';
import { readZipModel } from '@/lib/formats/read-zip-model';
import { openModel } from '@/lib/formats/registry';
import { FormatError, UnsupportedError } from '@/lib/base/errors';
import { buildZip } from '../zip/build-zip';
import { PickleWriter, torchStateDictPickle } from './build-pickle';

/**
 * torch.save archive layout (torch/serialization.py _save + caffe2/serialize/inline_container.cc
 * in pytorch/pytorch): every record sits under one folder named after the file's stem
 * ("archive" when saving to a buffer): data.pkl, .format_version ("1"), .storage_alignment
 * ("64"), byteorder ("little"), data/<key> per storage, version ("3"), .data/serialization_id.
 */
function torchZip(pickle: Uint8Array, storages: Record<string, Uint8Array>, opts: { root?: string; byteorder?: string; extra?: Record<string, Uint8Array> } = {}): Uint8Array {
  const root = opts.root ?? 'archive';
  const enc = new TextEncoder();
  const members = [
    { name: `${root}/data.pkl`, data: pickle },
    { name: `${root}/.format_version`, data: enc.encode('1') },
    { name: `${root}/.storage_alignment`, data: enc.encode('64') },
    { name: `${root}/byteorder`, data: enc.encode(opts.byteorder ?? 'little') },
    ...Object.keys(storages)
      .sort()
      .map((k) => ({ name: `${root}/data/${k}`, data: storages[k]! })),
    ...Object.entries(opts.extra ?? {}).map(([name, data]) => ({ name: `${root}/${name}`, data })),
    { name: `${root}/version`, data: enc.encode('3\n') },
    { name: `${root}/.data/serialization_id`, data: enc.encode('0123456789012345678901234567890123456789') },
  ];
  return buildZip(members, { torchStyle: true }).bytes;
}

const f32 = (xs: number[]) => new Uint8Array(new Float32Array(xs).buffer);
const open = (bytes: Uint8Array, name = 'model.pt') => readZipModel(singleFileModel(memorySource(bytes, name)));
const errorOf = (p: Promise<unknown>) => p.then(
  () => {
    throw new Error('expected a rejection');
  },
  (e: Error) => e,
);

/** _rebuild_tensor_v2((storage pid), offset, size, stride, False, OrderedDict()) with no memo use. */
function rebuildTensor(w: PickleWriter, storageType: string, key: string, numel: number, offset: number, size: number[], stride: number[]) {
  const ints = (xs: number[]) => {
    w.mark();
    xs.forEach((x) => w.binint(x));
    w.tuple();
  };
  w.global('torch._utils', '_rebuild_tensor_v2').mark();
  w.mark().binunicode('storage').global('torch', storageType).binunicode(key).binunicode('cpu').binint(numel).tuple().binpersid();
  w.binint(offset);
  ints(size);
  ints(stride);
  w.newFalse().global('collections', 'OrderedDict').emptyTuple().reduce().tuple().reduce();
}

describe('readPytorch: torch.save state dicts', () => {
  const weight = [0.5, -1, 2, 3.25, -4.5, 6];
  const bias = [0.125, -0.25];
  const pickle = torchStateDictPickle(
    [
      { name: 'fc1.weight', storage: '0', storageType: 'FloatStorage', numel: 6, offset: 0, size: [2, 3], stride: [3, 1] },
      { name: 'fc1.bias', storage: '1', storageType: 'FloatStorage', numel: 2, offset: 0, size: [2], stride: [1] },
    ],
    ['', 'fc1'],
  );

  it('starts with the bytes torch.save writes for an OrderedDict state dict', () => {
    const expected = '\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01(X\n\x00\x00\x00fc1.weightq\x02ctorch._utils\n_rebuild_tensor_v2\nq\x03((X\x07\x00\x00\x00storageq\x04ctorch\nFloatStorage\nq\x05X\x01\x00\x00\x000q\x06X\x03\x00\x00\x00cpuq\x07K\x06tq\x08QK\x00K\x02K\x03\x86q\tK\x03K\x01\x86q\n\x89h\x00)Rq\x0btq\x0cRq\r';
    expect(Array.from(pickle.subarray(0, expected.length), (b) => String.fromCharCode(b)).join('')).toBe(expected);
  });

  it('writes byte for byte what CPython\'s pickler writes for the same state dict', () => {
    // Output of TorchLikePickler (tests/fixtures/numpy/make-fixtures.py: the standard Pickler with
    // torch.save's persistent_id and Tensor.__reduce_ex__) at protocol 2 for this OrderedDict.
    const cpython =
      '800263636f6c6c656374696f6e730a4f726465726564446963740a71002952710128580a0000006663312e776569676874710263746f7263682e5f7574696c730a5f72656275696c645f74656e736f725f76320a71032828580700000073746f72616765710463746f7263680a466c6f617453746f726167650a71055801000000307106580300000063707571074b06747108514b004b024b038671094b034b0186710a8968002952710b74710c52710d58080000006663312e62696173710e6803282868046805580100000031710f68074b02747110514b004b028571114b0185711289680029527113747114527115757d711658090000005f6d65746164617461711768002952711828580000000071197d711a580700000076657273696f6e711b4b01735803000000666331711c7d711d681b4b01737573622e';
    expect(Buffer.from(pickle).toString('hex')).toBe(cpython);
  });

  it('lists and reads the tensors of a protocol-2 OrderedDict state dict', async () => {
    const src = await open(torchZip(pickle, { '0': f32(weight), '1': f32(bias) }), 'net.pt');
    expect(src.format).toBe('pytorch');
    expect(src.tensors.map((t) => [t.name, t.shape, t.dtype, t.byteLength, t.file])).toEqual([
      ['fc1.weight', [2, 3], 'F32', 24, 'archive/data/0'],
      ['fc1.bias', [2], 'F32', 8, 'archive/data/1'],
    ]);
    expect(src.metadata).toMatchObject({ archive: 'archive', byteorder: 'little', version: '3', storages: 2 });
    expect([...(await src.read('fc1.weight'))]).toEqual(weight);
    expect([...(await src.read('fc1.bias'))]).toEqual(bias);
  });

  it('reads only the bytes of the requested tensor', async () => {
    const bytes = torchZip(pickle, { '0': f32(weight), '1': f32(bias) });
    const inner = memorySource(bytes, 'lazy.pt');
    const reads: number[] = [];
    const src = await readZipModel(singleFileModel({ name: inner.name, size: inner.size, read: (o, n, sg) => (reads.push(n), inner.read(o, n, sg)) }));
    reads.length = 0;
    await src.read('fc1.bias');
    // the storage's local header (30 bytes, then name + padding), then exactly 2 floats
    expect(reads.at(-1)).toBe(8);
    expect(reads.reduce((a, b) => a + b, 0)).toBeLessThan(8 + 30 + 64 + 64);
  });

  it('is reached through openModel for .pt, .pth and .bin names', async () => {
    const bytes = torchZip(pickle, { '0': f32(weight), '1': f32(bias) }, { root: 'pytorch_model' });
    for (const name of ['a.pt', 'b.pth', 'pytorch_model.bin']) {
      const src = await openModel(singleFileModel(memorySource(bytes, name)));
      expect(src.format).toBe('pytorch');
      expect([...(await src.read('fc1.bias'))]).toEqual(bias);
    }
  });

  it('flattens a nested checkpoint {model, optimizer, epoch} with "." and skips non-tensor leaves', async () => {
    const w = new PickleWriter().proto(2);
    w.emptyDict().mark();
    w.binunicode('model').global('collections', 'OrderedDict').emptyTuple().reduce().mark();
    w.binunicode('fc1.weight');
    rebuildTensor(w, 'FloatStorage', '0', 6, 0, [2, 3], [3, 1]);
    w.binunicode('fc1.bias');
    rebuildTensor(w, 'FloatStorage', '1', 2, 0, [2], [1]);
    w.setitems();
    w.binunicode('optimizer').emptyDict().mark();
    w.binunicode('state').emptyDict().binint1(0).emptyDict().binunicode('exp_avg');
    rebuildTensor(w, 'FloatStorage', '2', 2, 0, [2], [1]);
    w.setitem().setitem();
    w.binunicode('param_groups').emptyList().emptyDict().mark().binunicode('lr').binfloat(0.001).binunicode('params').emptyList().binint1(0).append().setitems().append();
    w.setitems();
    w.binunicode('epoch').binint1(5);
    w.binunicode('config').binunicode('relu');
    w.binunicode('dtype').global('torch', 'float32');
    w.setitems().stop();
    const src = await open(torchZip(w.bytes(), { '0': f32(weight), '1': f32(bias), '2': f32([9, -9]) }));
    expect(src.tensors.map((t) => t.name)).toEqual(['model.fc1.weight', 'model.fc1.bias', 'optimizer.state.0.exp_avg']);
    expect([...(await src.read('optimizer.state.0.exp_avg'))]).toEqual([9, -9]);
    expect([...(await src.read('model.fc1.weight'))]).toEqual(weight);
  });

  it('materializes views: a transposed tensor and an offset slice sharing one storage', async () => {
    // storage: 0..11 as a 3x4 matrix M; T = M.t() is 4x3 with stride (1, 4); S = M[1:, 1:3] is 2x2, offset 5, stride (4, 1).
    const storage = Array.from({ length: 12 }, (_, i) => i);
    const w = new PickleWriter().proto(2).global('collections', 'OrderedDict').emptyTuple().reduce().mark();
    w.binunicode('m');
    rebuildTensor(w, 'FloatStorage', '0', 12, 0, [3, 4], [4, 1]);
    w.binunicode('t');
    rebuildTensor(w, 'FloatStorage', '0', 12, 0, [4, 3], [1, 4]);
    w.binunicode('s');
    rebuildTensor(w, 'FloatStorage', '0', 12, 5, [2, 2], [4, 1]);
    w.binunicode('row');
    rebuildTensor(w, 'FloatStorage', '0', 12, 8, [4], [1]);
    w.setitems().stop();
    const src = await open(torchZip(w.bytes(), { '0': f32(storage) }));
    const M = (r: number, c: number) => storage[r * 4 + c]!;
    const expectT: number[] = [];
    for (let r = 0; r < 4; r++) for (let c = 0; c < 3; c++) expectT.push(M(c, r));
    expect([...(await src.read('t'))]).toEqual(expectT);
    expect(src.tensors.find((t) => t.name === 't')!.note).toMatch(/strided view/);
    expect([...(await src.read('s'))]).toEqual([M(1, 1), M(1, 2), M(2, 1), M(2, 2)]);
    expect([...(await src.read('row'))]).toEqual([8, 9, 10, 11]);
    expect([...(await src.read('m'))]).toEqual(storage);
  });

  it('decodes Half, BFloat16, Long and Bool storages, and unwraps _rebuild_parameter', async () => {
    const half = new Uint8Array(new Uint16Array([0x3c00, 0xc100]).buffer); // 1, -2.5
    const bf16 = new Uint8Array(new Uint16Array([0x3f80, 0xc040]).buffer); // 1, -3
    const long = new Uint8Array(new BigInt64Array([-7n, 123456789n]).buffer);
    const bool = Uint8Array.from([1, 0, 1]);
    const w = new PickleWriter().proto(2).emptyDict().mark();
    w.binunicode('h');
    rebuildTensor(w, 'HalfStorage', 'h', 2, 0, [2], [1]);
    w.binunicode('b');
    rebuildTensor(w, 'BFloat16Storage', 'b', 2, 0, [2], [1]);
    w.binunicode('l');
    rebuildTensor(w, 'LongStorage', 'l', 2, 0, [2], [1]);
    w.binunicode('p').global('torch._utils', '_rebuild_parameter');
    rebuildTensor(w, 'BoolStorage', 'q', 3, 0, [3], [1]);
    w.newTrue().global('collections', 'OrderedDict').emptyTuple().reduce().tuple3().reduce();
    w.setitems().stop();
    const src = await open(torchZip(w.bytes(), { h: half, b: bf16, l: long, q: bool }));
    expect(src.tensors.map((t) => [t.name, t.dtype])).toEqual([['h', 'F16'], ['b', 'BF16'], ['l', 'I64'], ['p', 'BOOL']]);
    expect([...(await src.read('h'))]).toEqual([1, -2.5]);
    expect([...(await src.read('b'))]).toEqual([1, -3]);
    expect([...(await src.read('l'))]).toEqual([-7, Math.fround(123456789)]); // float32 output
    expect([...(await src.read('p'))]).toEqual([1, 0, 1]);
  });

  it('reads a protocol-4 stream (FRAME, SHORT_BINUNICODE, MEMOIZE, STACK_GLOBAL, BINGET)', async () => {
    const w = new PickleWriter().proto(4).frame(0);
    w.shortBinunicode('collections').memoize().shortBinunicode('OrderedDict').memoize().stackGlobal().memoize(); // memo 0,1,2
    w.emptyTuple().reduce().memoize().mark(); // memo 3
    w.shortBinunicode('w').memoize();
    w.shortBinunicode('torch._utils').memoize().shortBinunicode('_rebuild_tensor_v2').memoize().stackGlobal().memoize();
    w.mark().mark().shortBinunicode('storage').memoize().shortBinunicode('torch').memoize().shortBinunicode('FloatStorage').memoize().stackGlobal().memoize();
    w.shortBinunicode('0').memoize().shortBinunicode('cpu').memoize().binint1(4).tuple().memoize().binpersid();
    w.binint1(0).binint1(2).binint1(2).tuple2().memoize().binint1(2).binint1(1).tuple2().memoize().newFalse();
    w.binget(2).emptyTuple().reduce().memoize().tuple().memoize().reduce().memoize();
    w.setitems().stop();
    const src = await open(torchZip(w.bytes(), { '0': f32([1, 2, 3, 4]) }));
    expect(src.tensors[0]).toMatchObject({ name: 'w', shape: [2, 2] });
    expect([...(await src.read('w'))]).toEqual([1, 2, 3, 4]);
  });

  it('byte-swaps storages of an archive whose byteorder record says big', async () => {
    const big = new Uint8Array(8);
    new DataView(big.buffer).setFloat32(0, 1.5, false);
    new DataView(big.buffer).setFloat32(4, -8, false);
    const p = torchStateDictPickle([{ name: 'x', storage: '0', storageType: 'FloatStorage', numel: 2, offset: 0, size: [2], stride: [1] }]);
    const src = await open(torchZip(p, { '0': big }, { byteorder: 'big' }));
    expect([...(await src.read('x'))]).toEqual([1.5, -8]);
  });
});

describe('readPytorch: hostile pickles', () => {
  /** A pickle that would call module.name('id') if a real unpickler loaded it. */
  function callViaGlobal(module: string, name: string): Uint8Array {
    return new PickleWriter().proto(2).global(module, name).binunicode('id').tuple1().reduce().stop().bytes();
  }
  function callViaStackGlobal(module: string, name: string): Uint8Array {
    return new PickleWriter().proto(4).shortBinunicode(module).shortBinunicode(name).stackGlobal().shortBinunicode('id').tuple1().reduce().stop().bytes();
  }

  for (const [module, name] of [
    ['os', 'system'],
    ['posix', 'system'],
    ['builtins', 'eval'],
    ['__builtin__', 'getattr'],
    ['subprocess', 'Popen'],
    ['torch', 'load'],
    ['torch._utils', '_rebuild_device_tensor_from_numpy'],
  ] as const) {
    it(`refuses ${module}.${name} via GLOBAL`, async () => {
      const e = await errorOf(open(torchZip(callViaGlobal(module, name), {}), 'evil.pt'));
      expect(e).toBeInstanceOf(FormatError);
      expect(e).toMatchObject({ code: 'forbidden-pickle' });
      expect(e.message).toContain(`evil.pt/archive/data.pkl: pickle imports ${module}.${name} at byte 2`);
    });
  }

  it('refuses os.system via STACK_GLOBAL', async () => {
    const e = await errorOf(open(torchZip(callViaStackGlobal('os', 'system'), {}), 'evil4.pt'));
    expect(e).toMatchObject({ code: 'forbidden-pickle' });
    expect(e.message).toContain('evil4.pt/archive/data.pkl: pickle imports os.system at byte 14');
  });

  it('refuses an unknown opcode, naming the byte and its offset', async () => {
    const p = new PickleWriter().proto(2).emptyDict().raw(0xff).stop().bytes();
    const e = await errorOf(open(torchZip(p, {}), 'op.pt'));
    expect(e).toMatchObject({ code: 'forbidden-pickle' });
    expect(e.message).toBe('op.pt/archive/data.pkl: pickle opcode 0xff (unknown) at byte 3 is not allowed');
  });

  it('refuses INST, which imports and calls without GLOBAL', async () => {
    const p = new PickleWriter().proto(2).mark().raw(...new TextEncoder().encode('ios\nsystem\n')).stop().bytes();
    const e = await errorOf(open(torchZip(p, {}), 'inst.pt'));
    expect(e).toMatchObject({ code: 'forbidden-pickle' });
    expect(e.message).toContain("opcode 0x69 'i' (INST) at byte 3");
  });

  it('refuses a persistent id naming a storage file the archive lacks', async () => {
    const p = torchStateDictPickle([{ name: 'w', storage: '7', storageType: 'FloatStorage', numel: 2, offset: 0, size: [2], stride: [1] }]);
    const e = await errorOf(open(torchZip(p, { '0': f32([1, 2]) }), 'miss.pt'));
    expect(e).toMatchObject({ code: 'missing-file' });
    expect(e.message).toBe('miss.pt: data.pkl refers to storage "7" but the archive has no archive/data/7');
  });

  it('refuses a tensor whose size x stride reaches past its storage', async () => {
    const p = torchStateDictPickle([{ name: 'w', storage: '0', storageType: 'FloatStorage', numel: 6, offset: 0, size: [3, 3], stride: [3, 1] }]);
    const e = await errorOf(open(torchZip(p, { '0': f32([1, 2, 3, 4, 5, 6]) }), 'small.pt'));
    expect(e).toMatchObject({ code: 'bad-offsets' });
    expect(e.message).toBe('small.pt: tensor "w" (offset 0, size [3, 3], stride [3, 1]) reaches element 8 of storage "0", which has 6');
  });

  it('refuses a storage file smaller than the element count data.pkl declares', async () => {
    const p = torchStateDictPickle([{ name: 'w', storage: '0', storageType: 'FloatStorage', numel: 6, offset: 0, size: [6], stride: [1] }]);
    const e = await errorOf(open(torchZip(p, { '0': f32([1, 2, 3]) }), 'short.pt'));
    expect(e).toMatchObject({ code: 'size-mismatch' });
    expect(e.message).toBe('short.pt: storage archive/data/0 holds 12 bytes, data.pkl declares 6 x F32 = 24');
  });

  it('refuses a truncated pickle with no STOP', async () => {
    const full = torchStateDictPickle([{ name: 'w', storage: '0', storageType: 'FloatStorage', numel: 2, offset: 0, size: [2], stride: [1] }]);
    const noStop = full.subarray(0, full.length - 1);
    const e = await errorOf(open(torchZip(noStop, { '0': f32([1, 2]) }), 'trunc.pt'));
    expect(e).toMatchObject({ code: 'truncated' });
    expect(e.message).toBe(`trunc.pt/archive/data.pkl: pickle ends at byte ${noStop.length} without a STOP opcode`);
    // Cut inside an opcode's argument too.
    const mid = full.subarray(0, 40);
    const e2 = await errorOf(open(torchZip(mid, { '0': f32([1, 2]) }), 'trunc2.pt'));
    expect(e2).toMatchObject({ code: 'truncated' });
  });

  it('refuses a call on a storage class or dtype (data, not functions)', async () => {
    const p = new PickleWriter().proto(2).global('torch', 'FloatStorage').binint1(10).tuple1().reduce().stop().bytes();
    const e = await errorOf(open(torchZip(p, {}), 'call.pt'));
    expect(e).toMatchObject({ code: 'bad-pickle' });
  });

  it('refuses a TorchScript archive as unsupported', async () => {
    const p = new PickleWriter().proto(2).emptyDict().stop().bytes();
    const e = await errorOf(open(torchZip(p, {}, { extra: { 'code/__torch__.py': new TextEncoder().encode('x') } }), 'ts.pt'));
    expect(e).toBeInstanceOf(UnsupportedError);
    expect(e.message).toMatch(/ts\.pt: a TorchScript archive/);
  });
});
