import { describe, expect, it } from 'vitest';
import { writeSafetensors } from '@/lib/formats/write-safetensors';
import { readSafetensors } from '@/lib/formats/read-safetensors';
import { openModel } from '@/lib/formats/registry';
import { memorySource, singleFileModel } from '@/lib/io/byte-source';
import { countingSource, modelOf } from './raw-file';

// Values each dtype represents exactly, so decode(encode(v)) === v is the right expectation.
const CASES: { dtype: string; values: number[] }[] = [
  { dtype: 'F64', values: [Math.PI, -1e300, 5e-324, 0, -0.5, 123456789.123] },
  { dtype: 'F32', values: [Math.fround(Math.PI), -3.4028234663852886e38, 1.401298464324817e-45, 0, 1.5, -7] },
  { dtype: 'F16', values: [1, -2, 65504, 2 ** -24, 0.333251953125, -0.0009765625] },
  { dtype: 'BF16', values: [1, -2, 3.140625, 2 ** -133, 3.3895313892515355e38, -0.0078125] },
  { dtype: 'F8_E4M3', values: [448, -448, 1, 2 ** -9, 0.875, -3.5] },
  { dtype: 'F8_E5M2', values: [57344, -57344, 1, 2 ** -16, 0.75, -3] },
  { dtype: 'I8', values: [-128, 127, 0, -1, 5, 100] },
  { dtype: 'U8', values: [0, 255, 1, 128, 7, 200] },
  { dtype: 'I16', values: [-32768, 32767, 0, -1, 300, -300] },
  { dtype: 'U16', values: [0, 65535, 1, 40000, 7, 300] },
  { dtype: 'I32', values: [-(2 ** 31), 2 ** 31 - 128, 0, -1, 16777216, -5] },
  { dtype: 'U32', values: [0, 4294967040, 1, 2 ** 31, 7, 16777216] },
  { dtype: 'I64', values: [-(2 ** 40), 2 ** 40, 0, -1, 9007199254740992, -5] },
  { dtype: 'U64', values: [0, 2 ** 53, 1, 2 ** 40, 7, 65536] },
  { dtype: 'BOOL', values: [0, 1, 1, 0, 0, 1] },
];

describe('writeSafetensors -> readSafetensors', () => {
  const tensors = CASES.map((c, i) => ({
    name: `t${i}.${c.dtype}`,
    shape: [2, 3],
    dtype: c.dtype,
    data: c.dtype === 'F64' || c.dtype.endsWith('64') ? new Float64Array(c.values) : new Float32Array(c.values),
  }));
  const file = writeSafetensors(tensors, { format: 'pt', note: 'round trip' });

  it('lays the file out as the reference writer does', () => {
    const n = Number(new DataView(file.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + n)));
    expect(Object.keys(header)[0]).toBe('__metadata__');
    let expected = 0;
    for (const t of tensors) {
      const [b, e] = header[t.name].data_offsets;
      expect(b).toBe(expected);
      expected = e;
    }
    expect(8 + n + expected).toBe(file.byteLength);
  });

  it('reads every dtype back exactly', async () => {
    const src = await readSafetensors(modelOf(file));
    expect(src.format).toBe('safetensors');
    expect(src.totalBytes).toBe(file.byteLength);
    expect(src.metadata).toEqual({ format: 'pt', note: 'round trip' });
    expect(src.tensors.map((t) => t.name)).toEqual(tensors.map((t) => t.name));
    for (const [i, c] of CASES.entries()) {
      const info = src.tensors[i]!;
      expect(info).toMatchObject({ dtype: c.dtype, shape: [2, 3], decodable: true, file: 'model.safetensors' });
      const got = Array.from(await src.read(info.name));
      // Expected values go through float32 since read() returns Float32Array.
      expect(got, c.dtype).toEqual(c.values.map((v) => Math.fround(v)));
    }
  });

  it('rounds F16/BF16 to nearest even when values are not representable', async () => {
    const vals = new Float32Array([1 + 2 ** -11, 1 + 3 * 2 ** -11, 0.1, 70000]);
    const f = writeSafetensors([
      { name: 'h', shape: [4], dtype: 'F16', data: vals },
      { name: 'b', shape: [4], dtype: 'BF16', data: vals },
    ]);
    const src = await readSafetensors(modelOf(f));
    expect(Array.from(await src.read('h'))).toEqual([1, 1 + 2 ** -9, 0.0999755859375, Infinity]);
    expect(Array.from(await src.read('b'))).toEqual([1, 1, 0.10009765625, 70144]);
  });

  it('opening reads only the length and header; read() reads only that tensor', async () => {
    const big = writeSafetensors([
      { name: 'a', shape: [1000, 100], dtype: 'F32', data: new Float32Array(100_000).map((_, i) => i) },
      { name: 'b', shape: [10], dtype: 'F16', data: new Float32Array(10).fill(0.5) },
    ]);
    const counted = countingSource(memorySource(big, 'big.safetensors'));
    const src = await openModel(singleFileModel(counted));
    const n = Number(new DataView(big.buffer).getBigUint64(0, true));
    // openModel sniffs 16 bytes; the reader reads 8 + n.
    expect(counted.bytesRead()).toBeLessThanOrEqual(16 + 8 + n);
    expect(counted.reads.every(([o, l]) => o + l <= 8 + n)).toBe(true);
    counted.reads.length = 0;
    expect(Array.from(await src.read('b'))).toEqual(new Array(10).fill(0.5));
    expect(counted.reads).toEqual([[8 + n + 400_000, 20]]);
    const a = await src.read('a');
    expect(a[99_999]).toBe(99_999);
  });

  it('handles scalars and empty tensors', async () => {
    const f = writeSafetensors([
      { name: 'scalar', shape: [], dtype: 'F32', data: new Float32Array([2.5]) },
      { name: 'empty', shape: [3, 0], dtype: 'F32', data: new Float32Array(0) },
      { name: 'after', shape: [1], dtype: 'I32', data: new Float32Array([-9]) },
    ]);
    const src = await readSafetensors(modelOf(f));
    expect(Array.from(await src.read('scalar'))).toEqual([2.5]);
    expect((await src.read('empty')).length).toBe(0);
    expect(Array.from(await src.read('after'))).toEqual([-9]);
    await expect(src.read('nope')).rejects.toMatchObject({ kind: 'NotFoundError', message: expect.stringContaining('"nope"') });
  });

  it('an aborted signal cancels open and read', async () => {
    const f = writeSafetensors([{ name: 'x', shape: [2], dtype: 'F32', data: new Float32Array([1, 2]) }]);
    const ac = new AbortController();
    ac.abort();
    await expect(readSafetensors(modelOf(f), ac.signal)).rejects.toMatchObject({ kind: 'CancelledError' });
    const src = await readSafetensors(modelOf(f));
    await expect(src.read('x', ac.signal)).rejects.toMatchObject({ kind: 'CancelledError' });
  });

  it('the writer refuses values a dtype cannot hold', () => {
    expect(() => writeSafetensors([{ name: 'x', shape: [1], dtype: 'U8', data: new Float32Array([256]) }])).toThrow(/"x".*U8/);
    expect(() => writeSafetensors([{ name: 'x', shape: [2], dtype: 'F32', data: new Float32Array(3) }])).toThrow(/2 elements/);
  });
});
