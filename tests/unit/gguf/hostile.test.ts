import { describe, expect, it } from 'vitest';
import { MAX_GGUF_ARRAY_DEPTH, MAX_TENSOR_RANK } from '@/lib/base/limits';
import { memorySource, singleFileModel, type ByteSource } from '@/lib/io/byte-source';
import { readGguf } from '@/lib/formats/read-gguf';
import { ChunkedReader } from '@/lib/formats/gguf/chunked-reader';
import { ByteWriter, buildGguf, VALUE_TYPE, type TensorSpec } from './gguf-writer';

/** A source that records every read, to show hostile counts never turn into big reads. */
function recording(bytes: Uint8Array, name = 'evil.gguf'): { src: ByteSource; reads: number[] } {
  const inner = memorySource(bytes, name);
  const reads: number[] = [];
  return { src: { name, size: inner.size, read: (o, l, s) => (reads.push(l), inner.read(o, l, s)) }, reads };
}

async function open(bytes: Uint8Array, name = 'evil.gguf') {
  return readGguf(singleFileModel(memorySource(bytes, name)));
}

/** Magic, version, tensor count, kv count; the caller appends the rest. */
function header(tensors: number | bigint, kvs: number | bigint, version = 3): ByteWriter {
  return new ByteWriter().bytes(new TextEncoder().encode('GGUF')).u32(version).u64(tensors).u64(kvs);
}

/** Trailing zeros, so that a lie is reached past the up-front minimum-size check. */
const tail = (w: ByteWriter) => w.bytes(new Uint8Array(64)).finish();

const f32 = (n: number) => new Uint8Array(n * 4);
const tensor = (name: string, ne: number[], extra: Partial<TensorSpec> = {}): TensorSpec => ({ name, ne, type: 0, data: f32(ne.reduce((a, b) => a * b, 1)), ...extra });

describe('hostile GGUF input', () => {
  it('a file cut anywhere fails with a typed error, never a crash', async () => {
    const good = buildGguf({
      kv: [['general.name', { type: 'string', value: 'cut me' }], ['arr', { type: 'array', itemType: 'string', items: [{ type: 'string', value: 'a' }] }]],
      tensors: [tensor('a', [8, 2]), tensor('b', [32])],
    });
    await expect(open(good)).resolves.toBeDefined();
    for (let cut = 0; cut < good.length; cut += 3) {
      const err = await open(good.subarray(0, cut)).then(() => undefined, (e: unknown) => e);
      expect(err, `cut at ${cut}`).toMatchObject({ kind: 'FormatError' });
      // Cut inside the padding or data, a tensor starts past the end: bad-offsets; else truncated.
      expect(['truncated', 'bad-offsets']).toContain((err as { code: string }).code);
      expect((err as Error).message).toMatch(/^evil\.gguf: /);
    }
  });

  it('bad magic', async () => {
    const bytes = buildGguf({});
    bytes[0] = 0x47; bytes[1] = 0x47; bytes[2] = 0x4d; bytes[3] = 0x4c; // "GGML"
    await expect(open(bytes)).rejects.toMatchObject({ kind: 'FormatError', code: 'bad-magic', message: expect.stringContaining('evil.gguf') });
  });

  it('version 1 is refused as unsupported', async () => {
    await expect(open(buildGguf({ version: 1 }))).rejects.toMatchObject({ kind: 'UnsupportedError', code: 'gguf-version', message: expect.stringMatching(/evil\.gguf: GGUF version 1/) });
  });

  it('a big-endian file is named as such', async () => {
    const bytes = header(0, 0).finish();
    new DataView(bytes.buffer).setUint32(4, 3, false);
    await expect(open(bytes)).rejects.toMatchObject({ kind: 'UnsupportedError', code: 'gguf-big-endian' });
  });

  it('kv count of 2^40 with no bytes behind it', async () => {
    const { src, reads } = recording(header(0, 2n ** 40n).finish());
    await expect(readGguf(singleFileModel(src))).rejects.toMatchObject({ kind: 'LimitError', code: 'gguf-kv-count' });
    expect(Math.max(...reads)).toBeLessThanOrEqual(src.size);
  });

  it('tensor count of 2^40 with no bytes behind it', async () => {
    await expect(open(header(2n ** 40n, 0).finish())).rejects.toMatchObject({ kind: 'LimitError', code: 'tensor-count' });
  });

  it('counts within the limits that the file cannot hold fail before any loop', async () => {
    const { src, reads } = recording(header(900_000, 900_000).finish());
    await expect(readGguf(singleFileModel(src))).rejects.toMatchObject({ kind: 'FormatError', code: 'truncated' });
    expect(reads.length).toBe(1);
  });

  it('string length of 2^40', async () => {
    const bytes = tail(header(0, 1).u64(2n ** 40n)); // the key's length
    await expect(open(bytes)).rejects.toMatchObject({ kind: 'LimitError', code: 'gguf-string' });
  });

  it('string length under the limit but past the end of the file', async () => {
    const { src, reads } = recording(header(0, 1).str('k').u32(VALUE_TYPE.string).u64(60 * 2 ** 20).str('short').finish());
    await expect(readGguf(singleFileModel(src))).rejects.toMatchObject({ kind: 'FormatError', code: 'truncated' });
    expect(Math.max(...reads)).toBeLessThanOrEqual(src.size);
  });

  it('array length of 2^40', async () => {
    const bytes = tail(header(0, 1).str('arr').u32(VALUE_TYPE.array).u32(VALUE_TYPE.u8).u64(2n ** 40n));
    await expect(open(bytes)).rejects.toMatchObject({ kind: 'LimitError', code: 'gguf-array' });
  });

  it('array length under the limit but more items than the file can hold', async () => {
    const { src, reads } = recording(header(0, 1).str('arr').u32(VALUE_TYPE.array).u32(VALUE_TYPE.string).u64(40_000_000).str('a').str('b').finish());
    await expect(readGguf(singleFileModel(src))).rejects.toMatchObject({ kind: 'FormatError', code: 'truncated' });
    expect(reads.length).toBe(1);
  });

  it('arrays nested deeper than the limit', async () => {
    const w = header(0, 1).str('deep').u32(VALUE_TYPE.array);
    for (let i = 0; i < MAX_GGUF_ARRAY_DEPTH + 5; i++) w.u32(VALUE_TYPE.array).u64(1);
    w.u32(VALUE_TYPE.u8).u64(0);
    await expect(open(w.finish())).rejects.toMatchObject({ kind: 'LimitError', code: 'gguf-array-depth' });
  });

  it('an unknown metadata value type', async () => {
    const bytes = tail(header(0, 1).str('k').u32(13));
    await expect(open(bytes)).rejects.toMatchObject({ kind: 'FormatError', code: 'bad-header', message: expect.stringContaining('unknown value type 13') });
  });

  it('a duplicate metadata key', async () => {
    const v = { type: 'u8', value: 1 } as const;
    await expect(open(buildGguf({ kv: [['k', v], ['k', v]] }))).rejects.toMatchObject({ kind: 'FormatError', code: 'bad-header' });
  });

  it('an alignment that is not a power of two', async () => {
    const zero = tail(header(0, 1).str('general.alignment').u32(VALUE_TYPE.u32).u32(0));
    await expect(open(zero)).rejects.toMatchObject({ kind: 'FormatError', code: 'bad-header' });
    const bytes = tail(header(0, 1).str('general.alignment').u32(VALUE_TYPE.u32).u32(48));
    await expect(open(bytes)).rejects.toMatchObject({ kind: 'FormatError', code: 'bad-header', message: expect.stringContaining('general.alignment') });
  });

  it('rank over the limit', async () => {
    const bytes = tail(header(1, 0).str('t').u32(MAX_TENSOR_RANK + 1));
    await expect(open(bytes)).rejects.toMatchObject({ kind: 'LimitError', code: 'rank' });
  });

  it('rank of 2^31 with no dims behind it', async () => {
    await expect(open(tail(header(1, 0).str('t').u32(2 ** 31)))).rejects.toMatchObject({ kind: 'LimitError', code: 'rank' });
  });

  it('a duplicate tensor name', async () => {
    await expect(open(buildGguf({ tensors: [tensor('w', [4]), tensor('w', [4])] }))).rejects.toMatchObject({ kind: 'FormatError', code: 'bad-header', message: expect.stringContaining('"w" appears twice') });
  });

  it('a tensor offset past the end of the file', async () => {
    const bytes = tail(header(1, 0).str('w').u32(1).u64(4).u32(0).u64(2n ** 40n));
    await expect(open(bytes)).rejects.toMatchObject({ kind: 'FormatError', code: 'bad-offsets', message: expect.stringMatching(/tensor "w" starts at byte .* past the end/) });
  });

  it('a tensor that runs past the end of the file', async () => {
    const bytes = buildGguf({ tensors: [tensor('a', [4]), tensor('b', [1024], { data: f32(4) })] });
    await expect(open(bytes)).rejects.toMatchObject({ kind: 'FormatError', code: 'truncated', message: expect.stringMatching(/tensor "b" ends at byte \d+, file has \d+/) });
  });

  it('overlapping tensors', async () => {
    const bytes = buildGguf({ tensors: [tensor('a', [16], { offset: 0 }), tensor('b', [16], { offset: 32 })] });
    await expect(open(bytes)).rejects.toMatchObject({ kind: 'FormatError', code: 'overlap', message: expect.stringMatching(/"a" .* and "b" .* overlap/) });
  });

  it('a misaligned tensor offset', async () => {
    const bytes = buildGguf({ tensors: [tensor('a', [4], { offset: 0 }), tensor('b', [4], { offset: 40 })] });
    await expect(open(bytes)).rejects.toMatchObject({ kind: 'FormatError', code: 'bad-offsets', message: expect.stringContaining('not a multiple of the alignment 32') });
  });

  it('dims whose product overflows', async () => {
    const bytes = buildGguf({ tensors: [{ name: 'huge', ne: [2 ** 30, 2 ** 30, 2 ** 30], type: 0, data: f32(1) }] });
    await expect(open(bytes)).rejects.toMatchObject({ kind: 'FormatError', code: 'bad-shape', message: expect.stringContaining('"huge"') });
  });

  it('a zero dim does not hide an overflowing product', async () => {
    const bytes = buildGguf({ tensors: [{ name: 'z', ne: [0, 2 ** 40, 2 ** 40], type: 0, data: f32(0) }] });
    await expect(open(bytes)).rejects.toMatchObject({ kind: 'FormatError', code: 'bad-shape' });
  });

  it('a dim of 2^63', async () => {
    const bytes = buildGguf({ tensors: [{ name: 'd', ne: [2n ** 63n], type: 0, data: f32(1) }] });
    await expect(open(bytes)).rejects.toMatchObject({ kind: 'FormatError', code: 'bad-shape' });
  });

  it('a row length that is not a whole number of blocks', async () => {
    const bytes = buildGguf({ tensors: [{ name: 'q', ne: [48, 2], type: 2, data: new Uint8Array(54) }] });
    await expect(open(bytes)).rejects.toMatchObject({ kind: 'FormatError', code: 'bad-shape', message: expect.stringContaining('not a multiple of the Q4_0 block of 32') });
  });

  it('the header reader stops at its byte limit', async () => {
    const r = new ChunkedReader(memorySource(new Uint8Array(4096), 'big.gguf'), 1000);
    await r.bytes(900, 'first');
    await expect(r.bytes(200, 'second')).rejects.toMatchObject({ kind: 'LimitError', code: 'header-too-large' });
  });
});
