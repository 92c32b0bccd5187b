import { describe, expect, it } from 'vitest';
import { memorySource, singleFileModel } from '@/lib/io/byte-source';
import { parseNpyHeader, readNpy } from '@/lib/formats/read-npy';
import { openModel } from '@/lib/formats/registry';
import { FormatError, UnsupportedError } from '@/lib/base/errors';
import { buildNpy, encodeValues, npyHeaderText } from './build-npy';

function open(bytes: Uint8Array, name = 'w.npy') {
  return readNpy(singleFileModel(memorySource(bytes, name)));
}

async function errorOf(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: Error) => e,
  );
}

describe('parseNpyHeader', () => {
  it('parses the header numpy writes, and reports where the data starts', () => {
    const bytes = buildNpy({ descr: '<f4', shape: [2, 3], data: new Uint8Array(24) });
    const h = parseNpyHeader(bytes, 'w.npy');
    expect(h).toMatchObject({ dtype: 'F32', shape: [2, 3], fortranOrder: false, descr: '<f4', bigEndian: false, version: '1.0' });
    expect(h.headerBytes).toBe(bytes.length - 24);
    expect(h.headerBytes % 64).toBe(0);
  });

  it('parses 1-d "(5,)", scalar "()", a double-quoted dict and version 2.0 / 3.0 prefixes', () => {
    expect(parseNpyHeader(buildNpy({ descr: '<i8', shape: [5], data: new Uint8Array(40) }), 'a').shape).toEqual([5]);
    expect(parseNpyHeader(buildNpy({ descr: '<i8', shape: [], data: new Uint8Array(8) }), 'a').shape).toEqual([]);
    const dq = buildNpy({ descr: '', shape: [], data: new Uint8Array(4), headerText: '{"descr": "<f4", "shape": (1, 4), "fortran_order": False}' });
    expect(parseNpyHeader(dq, 'a')).toMatchObject({ dtype: 'F32', shape: [1, 4] });
    expect(parseNpyHeader(buildNpy({ descr: '<f2', shape: [3], data: new Uint8Array(6), version: 2 }), 'a')).toMatchObject({ version: '2.0', dtype: 'F16' });
    expect(parseNpyHeader(buildNpy({ descr: '<u2', shape: [3], data: new Uint8Array(6), version: 3 }), 'a')).toMatchObject({ version: '3.0', dtype: 'U16' });
  });
});

describe('readNpy: values', () => {
  it('reads a C-ordered float32 matrix exactly', async () => {
    const vals = [1.5, -2.25, 3, 0, 1e-7, -65504];
    const src = await open(buildNpy({ descr: '<f4', shape: [2, 3], data: encodeValues('f4', vals) }), 'dir/weights.npy');
    expect(src.format).toBe('npy');
    expect(src.tensors).toEqual([expect.objectContaining({ name: 'weights', shape: [2, 3], dtype: 'F32', byteLength: 24 })]);
    expect([...(await src.read('weights'))]).toEqual(vals.map((v) => Math.fround(v)));
  });

  const cases: [string, Parameters<typeof encodeValues>[0], string, number[]][] = [
    ['<f8', 'f8', 'F64', [0.1, -1e300, 3.5]],
    ['<i8', 'i8', 'I64', [-9007199254740991, 0, 42]],
    ['<i4', 'i4', 'I32', [-2147483648, 2147483647, -1]],
    ['<i2', 'i2', 'I16', [-32768, 32767, 7]],
    ['|i1', 'i1', 'I8', [-128, 127, -3]],
    ['|u1', 'u1', 'U8', [0, 255, 128]],
    ['<u2', 'u2', 'U16', [0, 65535, 1000]],
    ['<u4', 'u4', 'U32', [0, 4294967295, 12345]],
    ['<u8', 'u8', 'U64', [0, 2 ** 53, 77]],
    ['|b1', 'b1', 'BOOL', [1, 0, 1]],
  ];
  for (const [descr, kind, dtype, vals] of cases) {
    it(`decodes ${descr} (${dtype})`, async () => {
      const src = await open(buildNpy({ descr, shape: [3], data: encodeValues(kind, vals) }));
      expect(src.tensors[0]!.dtype).toBe(dtype);
      expect([...(await src.read('w'))]).toEqual(vals.map((v) => Math.fround(v)));
    });
  }

  it('decodes <f2 half floats from their bit patterns', async () => {
    // 1, -2, 0.5, 65504 (max half), 2^-24 (smallest subnormal), +inf
    const bits = [0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x7c00];
    const data = new Uint8Array(new Uint16Array(bits).buffer);
    const src = await open(buildNpy({ descr: '<f2', shape: [6], data }));
    expect([...(await src.read('w'))]).toEqual([1, -2, 0.5, 65504, 2 ** -24, Infinity]);
  });

  it('decodes big-endian >f4, >i2 and >f8', async () => {
    const f = [1.25, -3.5, 1024];
    expect([...(await (await open(buildNpy({ descr: '>f4', shape: [3], data: encodeValues('f4', f, false) }))).read('w'))]).toEqual(f);
    const i = [-2, 300, 32767];
    const bi = await open(buildNpy({ descr: '>i2', shape: [3], data: encodeValues('i2', i, false) }));
    expect(bi.tensors[0]!.note).toMatch(/big-endian/);
    expect([...(await bi.read('w'))]).toEqual(i);
    const d = [0.5, -0.25, 8];
    expect([...(await (await open(buildNpy({ descr: '>f8', shape: [3], data: encodeValues('f8', d, false) }))).read('w'))]).toEqual(d);
  });

  it('transposes fortran_order data to C order', async () => {
    const [A, B, C] = [2, 3, 4];
    const value = (i: number, j: number, k: number) => 100 * i + 10 * j + k;
    const fortran = new Array<number>(A * B * C);
    const expected = new Array<number>(A * B * C);
    for (let i = 0; i < A; i++)
      for (let j = 0; j < B; j++)
        for (let k = 0; k < C; k++) {
          fortran[i + A * j + A * B * k] = value(i, j, k); // column-major: first index fastest
          expected[(i * B + j) * C + k] = value(i, j, k);
        }
    const src = await open(buildNpy({ descr: '<f4', shape: [A, B, C], fortran: true, data: encodeValues('f4', fortran) }));
    expect(src.tensors[0]!.shape).toEqual([2, 3, 4]);
    expect([...(await src.read('w'))]).toEqual(expected);

    // 2-d: the Fortran bytes of [[1, 2, 3], [4, 5, 6]] are 1 4 2 5 3 6.
    const m = await open(buildNpy({ descr: '<f8', shape: [2, 3], fortran: true, data: encodeValues('f8', [1, 4, 2, 5, 3, 6]) }));
    expect([...(await m.read('w'))]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('reads a 0-d scalar and an empty (0, 3) array', async () => {
    const s = await open(buildNpy({ descr: '<f4', shape: [], data: encodeValues('f4', [7.5]) }));
    expect(s.tensors[0]).toMatchObject({ shape: [], byteLength: 4 });
    expect([...(await s.read('w'))]).toEqual([7.5]);
    const e = await open(buildNpy({ descr: '<f4', shape: [0, 3], data: new Uint8Array(0) }));
    expect((await e.read('w')).length).toBe(0);
  });

  it('is reached through openModel', async () => {
    const src = await openModel(singleFileModel(memorySource(buildNpy({ descr: '<i4', shape: [2], data: encodeValues('i4', [5, -6]) }), 'x.npy')));
    expect(src.format).toBe('npy');
    expect([...(await src.read('x'))]).toEqual([5, -6]);
  });
});

describe('readNpy: hostile files', () => {
  it('refuses bad magic', async () => {
    const b = buildNpy({ descr: '<f4', shape: [1], data: new Uint8Array(4) });
    b[1] = 0x4d; // "MUMPY"
    const e = await errorOf(open(b, 'bad.npy'));
    expect(e).toBeInstanceOf(FormatError);
    expect(e).toMatchObject({ code: 'bad-magic' });
    expect(e.message).toMatch(/^bad\.npy: not a NumPy \.npy file/);
  });

  const badHeaders: [string, string][] = [
    ['code instead of a dict', "__import__('os').system('echo hi')"],
    ['an unterminated string', "{'descr': '<f4, 'fortran_order': False, 'shape': (1,), }"],
    ['a missing key', "{'descr': '<f4', 'shape': (1,), }"],
    ['an extra key', "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}"],
    ['a call inside a value', "{'descr': '<f4', 'fortran_order': bool(1), 'shape': (1,), }"],
    ['a negative dimension', "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }"],
    ['a non-bool fortran_order', "{'descr': '<f4', 'fortran_order': 0, 'shape': (1,), }"],
    ['trailing text', "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } x"],
  ];
  for (const [what, headerText] of badHeaders) {
    it(`refuses a header dict with ${what}`, async () => {
      const e = await errorOf(open(buildNpy({ descr: '', shape: [], data: new Uint8Array(4), headerText }), 'hdr.npy'));
      expect(e).toBeInstanceOf(FormatError);
      expect(e).toMatchObject({ code: 'bad-header' });
      expect(e.message).toMatch(/^hdr\.npy: \.npy /);
    });
  }

  it('refuses data shorter than the shape needs', async () => {
    const e = await errorOf(open(buildNpy({ descr: '<f4', shape: [4, 4], data: new Uint8Array(60) }), 'short.npy'));
    expect(e).toMatchObject({ code: 'truncated' });
    expect(e.message).toBe('short.npy: tensor "short" needs 64 bytes of data (shape [4, 4] x <f4), file has 60');
  });

  it('refuses data longer than the shape', async () => {
    const e = await errorOf(open(buildNpy({ descr: '<f4', shape: [2], data: new Uint8Array(12) }), 'long.npy'));
    expect(e).toMatchObject({ code: 'size-mismatch' });
  });

  it('refuses a header length past the end of the file', async () => {
    const b = buildNpy({ descr: '<f4', shape: [1], data: new Uint8Array(4) });
    new DataView(b.buffer).setUint16(8, 60000, true);
    expect(await errorOf(open(b, 't.npy'))).toMatchObject({ code: 'truncated' });
  });

  it('refuses object, complex and structured dtypes as unsupported', async () => {
    for (const headerText of [npyHeaderText('|O', false, [1]), npyHeaderText('<c8', false, [1]), "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }"]) {
      const e = await errorOf(open(buildNpy({ descr: '', shape: [], data: new Uint8Array(8), headerText })));
      expect(e).toBeInstanceOf(UnsupportedError);
    }
  });

  it('refuses an unknown format version', async () => {
    const b = buildNpy({ descr: '<f4', shape: [1], data: new Uint8Array(4) });
    b[6] = 9;
    expect(await errorOf(open(b))).toBeInstanceOf(UnsupportedError);
  });
});
