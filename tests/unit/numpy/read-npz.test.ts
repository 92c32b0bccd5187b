import { describe, expect, it } from 'vitest';
import { memorySource, singleFileModel, type ByteSource } from '@/lib/io/byte-source';
import { readZipModel } from '@/lib/formats/read-zip-model';
import { openModel } from '@/lib/formats/registry';
import { buildZip } from '../zip/build-zip';
import { buildNpy, encodeValues } from './build-npy';

function recordingSource(bytes: Uint8Array, name: string): ByteSource & { reads: [number, number][] } {
  const inner = memorySource(bytes, name);
  const reads: [number, number][] = [];
  return { name, size: inner.size, reads, read: (o, n, s) => (reads.push([o, n]), inner.read(o, n, s)) };
}

const ramp = (n: number, scale: number) => Array.from({ length: n }, (_, i) => (i - n / 2) * scale);

describe('readNpz (np.savez: stored members)', () => {
  const w = ramp(64 * 32, 0.25);
  const b = [1, 2, 3];
  const built = buildZip([
    { name: 'layer1.weight.npy', data: buildNpy({ descr: '<f4', shape: [64, 32], data: encodeValues('f4', w) }) },
    { name: 'layer1.bias.npy', data: buildNpy({ descr: '<f8', shape: [3], data: encodeValues('f8', b) }) },
  ]);

  it('names each member.npy as tensor "member" and reads values', async () => {
    const src = await readZipModel(singleFileModel(memorySource(built.bytes, 'model.npz')));
    expect(src.format).toBe('npz');
    expect(src.tensors.map((t) => [t.name, t.shape, t.dtype, t.byteLength])).toEqual([
      ['layer1.weight', [64, 32], 'F32', 64 * 32 * 4],
      ['layer1.bias', [3], 'F64', 24],
    ]);
    expect([...(await src.read('layer1.weight'))]).toEqual(w);
    expect([...(await src.read('layer1.bias'))]).toEqual(b);
  });

  it('reads a stored member by range, not the whole archive', async () => {
    const rec = recordingSource(built.bytes, 'model.npz');
    const src = await readZipModel(singleFileModel(rec));
    rec.reads.length = 0;
    await src.read('layer1.bias');
    const total = rec.reads.reduce((s, [, n]) => s + n, 0);
    expect(total).toBe(24); // local header already resolved at open; just the 3 doubles
  });

  it('is reached through openModel for a .npz name', async () => {
    const src = await openModel(singleFileModel(memorySource(built.bytes, 'model.npz')));
    expect(src.format).toBe('npz');
  });
});

describe('readNpz (np.savez_compressed: deflated members)', () => {
  it('inflates members one at a time on read and decodes them', async () => {
    const a = ramp(1000, 1);
    const i = Array.from({ length: 500 }, (_, k) => (k % 7) - 3);
    const z = buildZip([
      { name: 'a.npy', method: 8, data: buildNpy({ descr: '<f4', shape: [10, 100], data: encodeValues('f4', a) }) },
      { name: 'ids.npy', method: 8, data: buildNpy({ descr: '<i8', shape: [500], data: encodeValues('i8', i), fortran: true }) },
    ]);
    const src = await readZipModel(singleFileModel(memorySource(z.bytes, 'c.npz')));
    expect(src.metadata).toMatchObject({ arrays: 2, compressed: 2 });
    expect(src.tensors.map((t) => t.shape)).toEqual([[10, 100], [500]]);
    expect([...(await src.read('a'))]).toEqual(a);
    expect([...(await src.read('ids'))]).toEqual(i);
  });

  it('refuses a deflated member that inflates to more than its declared size', async () => {
    // Header and directory agree on 256 floats, but the deflate stream holds 100 extra bytes.
    const npy = buildNpy({ descr: '<f4', shape: [256], data: new Uint8Array(1024 + 100) });
    const z = buildZip([{ name: 'x.npy', method: 8, data: npy, cdUncompressedSize: npy.length - 100 }]);
    // Small members inflate in one step, so this is caught while reading the header at open.
    const err = await readZipModel(singleFileModel(memorySource(z.bytes, 'more.npz')))
      .then((src) => src.read('x'))
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'size-mismatch' });
    expect((err as Error).message).toBe(`more.npz: member "x.npy" inflates to more than the ${npy.length - 100} bytes its zip directory declares`);
  });

  it('refuses, on read, a deflated member that inflates to less than its declared size', async () => {
    const npy = buildNpy({ descr: '<f4', shape: [256], data: new Uint8Array(1024 - 100) });
    const z = buildZip([{ name: 'x.npy', method: 8, data: npy, cdUncompressedSize: npy.length + 100 }]);
    const src = await readZipModel(singleFileModel(memorySource(z.bytes, 'less.npz')));
    const err = await src.read('x').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'size-mismatch' });
    expect((err as Error).message).toBe(`less.npz: member "x.npy" inflates to ${npy.length} bytes, its zip directory declares ${npy.length + 100}`);
  });

  it('refuses a member whose npy data is shorter than its shape', async () => {
    const npy = buildNpy({ descr: '<f4', shape: [8, 8], data: new Uint8Array(200) });
    const z = buildZip([{ name: 'w.npy', method: 8, data: npy }]);
    const err = await readZipModel(singleFileModel(memorySource(z.bytes, 'm.npz'))).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'truncated' });
    expect((err as Error).message).toBe('m.npz/w.npy: tensor "w" needs 256 bytes of data (shape [8, 8] x <f4), file has 200');
  });

  it('refuses a zip that is neither npz nor PyTorch', async () => {
    const z = buildZip([{ name: 'readme.txt', data: new TextEncoder().encode('hi') }]);
    const err = await readZipModel(singleFileModel(memorySource(z.bytes, 'other.zip'))).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'unknown-format' });
    expect((err as Error).message).toMatch(/other\.zip: a zip archive with neither .* \(readme\.txt\)/);
  });
});

describe('readNpz: cancellation', () => {
  it('stops a read when its signal has fired', async () => {
    const z = buildZip([{ name: 'x.npy', method: 8, data: buildNpy({ descr: '<f4', shape: [4], data: encodeValues('f4', [1, 2, 3, 4]) }) }]);
    const src = await readZipModel(singleFileModel(memorySource(z.bytes, 'c.npz')));
    const ac = new AbortController();
    ac.abort();
    await expect(src.read('x', ac.signal)).rejects.toMatchObject({ kind: 'CancelledError' });
  });
});
