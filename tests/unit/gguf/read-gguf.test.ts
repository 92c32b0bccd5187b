import { describe, expect, it } from 'vitest';
import { memorySource, singleFileModel, type ByteSource } from '@/lib/io/byte-source';
import { openModel } from '@/lib/formats/registry';
import { readGguf } from '@/lib/formats/read-gguf';
import { buildGguf, type TensorSpec } from './gguf-writer';

function f32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}
const seq = (n: number, f = (i: number) => i) => Array.from({ length: n }, (_, i) => f(i));

/** A source that records every byte range read. */
function recording(bytes: Uint8Array, name: string): { src: ByteSource; reads: [number, number][] } {
  const inner = memorySource(bytes, name);
  const reads: [number, number][] = [];
  return { src: { name, size: inner.size, read: (o, l, s) => (reads.push([o, l]), inner.read(o, l, s)) }, reads };
}

describe('readGguf', () => {
  it('opens through the registry: openModel(singleFileModel(memorySource(bytes, "x.gguf")))', async () => {
    const bytes = buildGguf({
      kv: [['general.architecture', { type: 'string', value: 'llama' }]],
      tensors: [{ name: 'blk.0.attn_q.weight', ne: [4, 2], type: 0, data: f32Bytes(seq(8, (i) => i / 2)) }],
    });
    const src = await openModel(singleFileModel(memorySource(bytes, 'x.gguf')));
    expect(src.format).toBe('gguf');
    expect(src.name).toBe('x.gguf');
    expect(src.totalBytes).toBe(bytes.length);
    expect(src.metadata['general.architecture']).toBe('llama');
    expect(src.tensors).toEqual([{ name: 'blk.0.attn_q.weight', shape: [2, 4], dtype: 'F32', byteLength: 32, decodable: true }]);
    expect(Array.from(await src.read('blk.0.attn_q.weight'))).toEqual(seq(8, (i) => i / 2));
  });

  it('reads only the header at open, and only the tensor\'s bytes on read', async () => {
    const big = 1 << 20; // 4 MB of float32 after the header
    const bytes = buildGguf({ tensors: [
      { name: 'a', ne: [big], type: 0, data: f32Bytes(seq(big, (i) => i % 7)) },
      { name: 'b', ne: [3], type: 0, data: f32Bytes([1, 2, 3]) },
    ] });
    const { src, reads } = recording(bytes, 'lazy.gguf');
    const model = await readGguf(singleFileModel(src));
    const headerEnd = Math.max(...reads.map(([o, l]) => o + l));
    expect(headerEnd).toBeLessThanOrEqual(256 * 1024);
    reads.length = 0;
    expect(Array.from(await model.read('b'))).toEqual([1, 2, 3]);
    expect(reads).toEqual([[bytes.length - 12, 12]]);
  });

  it('respects general.alignment, and tensors stored out of order', async () => {
    const bytes = buildGguf({
      kv: [['general.alignment', { type: 'u32', value: 256 }]],
      tensors: [
        { name: 'late', ne: [2], type: 0, data: f32Bytes([7, 8]), offset: 512 },
        { name: 'early', ne: [3], type: 0, data: f32Bytes([1, 2, 3]), offset: 0 },
      ],
    });
    const model = await readGguf(singleFileModel(memorySource(bytes, 'align.gguf')));
    expect(model.metadata['general.alignment']).toBe(256);
    expect(Array.from(await model.read('late'))).toEqual([7, 8]);
    expect(Array.from(await model.read('early'))).toEqual([1, 2, 3]);
  });

  it('lists types it does not decode, and read() refuses them naming file, tensor and type', async () => {
    const specs: TensorSpec[] = [
      { name: 'nl', ne: [64, 2], type: 20, data: new Uint8Array(72) }, // IQ4_NL: 18 B / 32
      { name: 'iq2', ne: [256], type: 16, data: new Uint8Array(66) }, // IQ2_XXS
      { name: 'mx', ne: [64], type: 39, data: new Uint8Array(34) }, // MXFP4: 17 B / 32
      { name: 'tq', ne: [256], type: 35, data: new Uint8Array(66) }, // TQ2_0
    ];
    const model = await readGguf(singleFileModel(memorySource(buildGguf({ tensors: specs }), 'quants.gguf')));
    expect(model.tensors.map((t) => [t.name, t.dtype, t.shape, t.byteLength, t.decodable, t.note])).toEqual([
      ['nl', 'IQ4_NL', [2, 64], 72, false, 'not decoded (IQ4_NL)'],
      ['iq2', 'IQ2_XXS', [256], 66, false, 'not decoded (IQ2_XXS)'],
      ['mx', 'MXFP4', [64], 34, false, 'not decoded (MXFP4)'],
      ['tq', 'TQ2_0', [256], 66, false, 'not decoded (TQ2_0)'],
    ]);
    await expect(model.read('nl')).rejects.toMatchObject({
      kind: 'UnsupportedError',
      message: expect.stringMatching(/^quants\.gguf: tensor "nl" has type IQ4_NL, which WeightLens does not decode/),
    });
  });

  it('an unknown type id is listed as "unknown type N", spanning up to the next tensor', async () => {
    const bytes = buildGguf({ tensors: [
      { name: 'mystery', ne: [10], type: 99, data: new Uint8Array(40) },
      { name: 'after', ne: [2], type: 0, data: f32Bytes([5, 6]) },
    ] });
    const model = await readGguf(singleFileModel(memorySource(bytes, 'u.gguf')));
    expect(model.tensors[0]).toEqual({ name: 'mystery', shape: [10], dtype: 'unknown type 99', byteLength: 64, decodable: false, note: 'not decoded (unknown type 99)' });
    await expect(model.read('mystery')).rejects.toMatchObject({ kind: 'UnsupportedError', message: expect.stringContaining('unknown type 99') });
    expect(Array.from(await model.read('after'))).toEqual([5, 6]);
  });

  it('a zero-sized tensor and a rank-0 scalar', async () => {
    const bytes = buildGguf({ tensors: [
      { name: 'empty', ne: [0, 4], type: 0, data: new Uint8Array(0) },
      { name: 'scalar', ne: [], type: 0, data: f32Bytes([2.5]) },
    ] });
    const model = await readGguf(singleFileModel(memorySource(bytes, 'z.gguf')));
    expect(model.tensors.map((t) => [t.shape, t.byteLength])).toEqual([[[4, 0], 0], [[], 4]]);
    expect((await model.read('empty')).length).toBe(0);
    expect(Array.from(await model.read('scalar'))).toEqual([2.5]);
  });

  it('an unknown tensor name and a cancelled read', async () => {
    const bytes = buildGguf({ tensors: [{ name: 'w', ne: [4], type: 0, data: f32Bytes([1, 2, 3, 4]) }] });
    const model = await readGguf(singleFileModel(memorySource(bytes, 'c.gguf')));
    await expect(model.read('nope')).rejects.toMatchObject({ kind: 'NotFoundError', message: 'c.gguf: no tensor named "nope"' });
    const ac = new AbortController();
    ac.abort();
    await expect(model.read('w', ac.signal)).rejects.toMatchObject({ kind: 'CancelledError' });
  });

  it('a quantized tensor larger than one read chunk decodes across chunk borders', async () => {
    // A 16 MiB read chunk holds 493447 whole Q8_0 blocks (34 B each); ~21 MB spans two chunks.
    const blocks = 620_000;
    const data = new Uint8Array(blocks * 34);
    const view = new DataView(data.buffer);
    for (let b = 0; b < blocks; b++) {
      view.setUint16(b * 34, 0x3c00, true); // d = 1
      view.setInt8(b * 34 + 2, (b % 255) - 127);
    }
    const bytes = buildGguf({ tensors: [{ name: 'q', ne: [32 * blocks], type: 8, data }] });
    const model = await readGguf(singleFileModel(memorySource(bytes, 'big.gguf')));
    const x = await model.read('q');
    expect(x.length).toBe(32 * blocks);
    for (const b of [0, 1, 493_447, 493_448, blocks - 1]) {
      expect(x[b * 32]).toBe((b % 255) - 127);
      expect(x[b * 32 + 1]).toBe(0);
    }
  });
});
