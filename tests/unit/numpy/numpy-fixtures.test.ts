import { afterAll, describe, expect, it } from 'vitest';
import * as path from 'node:path';
import { openNodeFile } from '@/lib/io/node/node-file-source';
import { singleFileModel } from '@/lib/io/byte-source';
import { openModel } from '@/lib/formats/registry';

/**
 * Files written by numpy 2.4 itself (tests/fixtures/numpy/make-fixtures.py, listed in
 * tests/fixtures/README.md). Expected values are recomputed here from the same arange formulas.
 * np.savez writes zip64 extra fields in every local header (sizes 0xFFFFFFFF there, real sizes in
 * the central directory), which exercises the zip reader's zip64 path on a real writer's output.
 */
const dir = path.resolve(__dirname, '../../fixtures/numpy');
const opened: { close(): Promise<void> }[] = [];
async function open(name: string) {
  const src = await openNodeFile(path.join(dir, name));
  opened.push(src);
  return openModel(singleFileModel(src));
}
afterAll(async () => {
  for (const s of opened) await s.close();
});

const a = [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5]; // (arange(6) - 2.5).reshape(2, 3)

describe('numpy-written .npy files', () => {
  it('f4-2x3.npy', async () => {
    const src = await open('f4-2x3.npy');
    expect(src.tensors[0]).toMatchObject({ name: 'f4-2x3', shape: [2, 3], dtype: 'F32' });
    expect([...(await src.read('f4-2x3'))]).toEqual(a);
  });

  it('f8-fortran-3x4.npy comes back in C order', async () => {
    const src = await open('f8-fortran-3x4.npy');
    expect(src.metadata).toMatchObject({ fortranOrder: true });
    expect([...(await src.read('f8-fortran-3x4'))]).toEqual(Array.from({ length: 12 }, (_, i) => i / 4));
  });

  it('i4-big-endian.npy', async () => {
    const src = await open('i4-big-endian.npy');
    expect(src.metadata).toMatchObject({ descr: '>i4' });
    expect([...(await src.read('i4-big-endian'))]).toEqual([-3, 70000, 5]);
  });

  it('f2-scalar.npy (0-d) and b1-4.npy', async () => {
    const s = await open('f2-scalar.npy');
    expect(s.tensors[0]!.shape).toEqual([]);
    expect([...(await s.read('f2-scalar'))]).toEqual([0.5]);
    const b = await open('b1-4.npy');
    expect([...(await b.read('b1-4'))]).toEqual([1, 0, 0, 1]);
  });
});

describe('numpy-written .npz files', () => {
  it('savez.npz (stored, zip64 local headers)', async () => {
    const src = await open('savez.npz');
    expect(src.format).toBe('npz');
    expect(src.tensors.map((t) => [t.name, t.shape, t.dtype])).toEqual([
      ['w', [2, 3], 'F32'],
      ['idx', [5], 'I64'],
    ]);
    expect([...(await src.read('w'))]).toEqual(a);
    expect([...(await src.read('idx'))]).toEqual([0, 3, 6, 9, 12]);
  });

  it('savez-compressed.npz (deflated)', async () => {
    const src = await open('savez-compressed.npz');
    expect(src.metadata).toMatchObject({ arrays: 2, compressed: 2 });
    const w = await src.read('w');
    expect(src.tensors[0]!.shape).toEqual([40, 3]);
    expect([...w]).toEqual(Array.from({ length: 120 }, (_, i) => a[i % 6]!));
    expect([...(await src.read('u'))]).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });
});
