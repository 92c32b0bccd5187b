import { describe, expect, it } from 'vitest';
import { readSafetensors, type SafetensorsOptions } from '@/lib/formats/read-safetensors';
import { MAX_SAFETENSORS_HEADER_BYTES } from '@/lib/base/limits';
import { memorySource, singleFileModel } from '@/lib/io/byte-source';
import { modelOf, rawSafetensors } from './raw-file';

const F = 'bad.safetensors';

function open(bytes: Uint8Array, options?: SafetensorsOptions) {
  return readSafetensors(modelOf(bytes, F), undefined, options);
}

/** The error must be typed, carry the code, and its message name the file and the given parts. */
async function expectFail(p: Promise<unknown>, kind: string, code: string, ...parts: string[]) {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'expected a rejection').toBeInstanceOf(Error);
  expect(err).toMatchObject({ kind, code });
  const msg = (err as Error).message;
  expect(msg).toContain(F);
  for (const part of parts) expect(msg).toContain(part);
}

const t = (dtype: string, shape: unknown, offsets: unknown) => ({ dtype, shape, data_offsets: offsets });

describe('hostile safetensors files', () => {
  it('file shorter than the 8-byte length', async () => {
    await expectFail(open(new Uint8Array([1, 0, 0])), 'FormatError', 'truncated', '3 bytes');
  });

  it('data section shorter than the last tensor', async () => {
    const bytes = rawSafetensors({ a: t('F32', [2], [0, 8]), w: t('F32', [4], [8, 24]) }, 20);
    await expectFail(open(bytes), 'FormatError', 'truncated', '"w"', 'ends at byte 24', 'has 20 bytes');
  });

  it('header length past the end of the file', async () => {
    const bytes = rawSafetensors('{}', 0, 500n);
    await expectFail(open(bytes), 'FormatError', 'truncated', 'header declares 500 bytes');
  });

  it('offsets outside the data section', async () => {
    const bytes = rawSafetensors({ w: t('U8', [4], [1000, 1004]) }, 8);
    await expectFail(open(bytes), 'FormatError', 'bad-offsets', '"w"', 'starts at byte 1000');
  });

  it('offsets reversed (end before begin)', async () => {
    const bytes = rawSafetensors({ w: t('U8', [4], [8, 4]) }, 8);
    await expectFail(open(bytes), 'FormatError', 'bad-offsets', '"w"', 'end before begin');
  });

  it('overlapping tensors', async () => {
    const bytes = rawSafetensors({ a: t('F32', [2], [0, 8]), b: t('F32', [2], [4, 12]) }, 12);
    await expectFail(open(bytes), 'FormatError', 'overlap', '"a"', '"b"');
  });

  it('gaps and trailing bytes: noted by default, rejected when strict', async () => {
    const bytes = rawSafetensors({ a: t('U8', [2], [0, 2]), b: t('U8', [2], [6, 8]) }, 11);
    const src = await open(bytes);
    expect(src.tensors.find((x) => x.name === 'b')?.note).toContain('4-byte gap');
    expect(src.metadata['weightlens:warnings']).toEqual([expect.stringContaining('4-byte gap'), expect.stringContaining('3 bytes after the last tensor')]);
    await expectFail(open(bytes, { strict: true }), 'FormatError', 'bad-offsets', '4-byte gap before tensor "b"');
  });

  it('shape x dtype differs from the byte length', async () => {
    const bytes = rawSafetensors({ w: t('F32', [3], [0, 8]) }, 8);
    await expectFail(open(bytes), 'FormatError', 'size-mismatch', '"w"', 'needs 12 bytes', 'give 8');
  });

  it('unknown dtype', async () => {
    const bytes = rawSafetensors({ w: t('Q7_X', [4], [0, 4]) }, 4);
    await expectFail(open(bytes), 'FormatError', 'unknown-dtype', '"w"', 'Q7_X');
  });

  it('dtype newer than the decoder is listed, and read() says it cannot decode it', async () => {
    const src = await open(rawSafetensors({ s: t('F8_E8M0', [4], [0, 4]) }, 4));
    expect(src.tensors[0]).toMatchObject({ name: 's', decodable: false, byteLength: 4 });
    await expect(src.read('s')).rejects.toMatchObject({ kind: 'UnsupportedError', message: expect.stringContaining('F8_E8M0') });
  });

  it('header over MAX_SAFETENSORS_HEADER_BYTES (declared, not allocated)', async () => {
    const bytes = rawSafetensors('{}', 0, BigInt(MAX_SAFETENSORS_HEADER_BYTES + 1));
    await expectFail(open(bytes), 'LimitError', 'header-too-large', 'limit');
    await expectFail(open(rawSafetensors('{}', 0, 2n ** 64n - 1n)), 'LimitError', 'header-too-large');
  });

  it('invalid JSON', async () => {
    await expectFail(open(rawSafetensors('{"w": {"dtype": "F32",')), 'FormatError', 'invalid-json');
  });

  it('header not valid UTF-8', async () => {
    const bytes = rawSafetensors('{"xx": 1}');
    bytes[10] = 0xff;
    await expectFail(open(bytes), 'FormatError', 'bad-header', 'UTF-8');
  });

  it('JSON that is not an object', async () => {
    await expectFail(open(rawSafetensors('[1, 2]')), 'FormatError', 'bad-header', 'an array');
  });

  it('tensor entry missing fields', async () => {
    await expectFail(open(rawSafetensors({ w: { dtype: 'F32', shape: [1] } }, 4)), 'FormatError', 'bad-header', '"w"', 'data_offsets');
    await expectFail(open(rawSafetensors({ w: 'F32' })), 'FormatError', 'bad-header', '"w"', 'not an object');
  });

  it('__metadata__ that is not an object', async () => {
    await expectFail(open(rawSafetensors({ __metadata__: 'x' })), 'FormatError', 'bad-header', '__metadata__');
  });

  it('non-integer shapes', async () => {
    await expectFail(open(rawSafetensors({ w: t('F32', [1.5], [0, 4]) }, 4)), 'FormatError', 'bad-shape', '"w"', '1.5');
    await expectFail(open(rawSafetensors({ w: t('F32', ['2'], [0, 8]) }, 8)), 'FormatError', 'bad-shape', '"w"');
  });

  it('negative dims', async () => {
    await expectFail(open(rawSafetensors({ w: t('F32', [2, -2], [0, 16]) }, 16)), 'FormatError', 'bad-shape', '"w"', '-2');
  });

  it('shape whose element count overflows', async () => {
    await expectFail(open(rawSafetensors({ w: t('U8', [2 ** 30, 2 ** 30, 2 ** 30], [0, 8]) }, 8)), 'FormatError', 'bad-shape', '"w"', 'overflows');
  });

  it('non-integer offsets', async () => {
    await expectFail(open(rawSafetensors({ w: t('U8', [1], [0.5, 1.5]) }, 2)), 'FormatError', 'bad-offsets', '"w"');
  });

  it('absurd tensor count (lowered limit; checked before entries are parsed)', async () => {
    const header: Record<string, unknown> = {};
    // Entries are garbage on purpose: the count check must fire before any entry is looked at.
    for (let i = 0; i < 11; i++) header[`t${i}`] = 'garbage';
    await expectFail(open(rawSafetensors(header), { maxTensorCount: 10 }), 'LimitError', 'tensor-count', '11 tensors');
  });

  it('absurd rank', async () => {
    await expectFail(open(rawSafetensors({ w: t('U8', new Array(9).fill(1), [0, 1]) }, 1)), 'LimitError', 'rank', '"w"', 'rank 9');
  });

  it('tensor too large to decode at once is listed but read() refuses it', async () => {
    // 2^31 elements of U8 would need a 2 GB Float32Array: refused before reading anything.
    const bytes = rawSafetensors({ big: t('U8', [2 ** 16, 2 ** 15], [0, 2 ** 31]) });
    // A source that claims the 2 GB of data exist; only the header is ever read from it.
    const inner = memorySource(bytes, F);
    const src = await readSafetensors(singleFileModel({ name: F, size: bytes.byteLength + 2 ** 31, read: (o, l, s) => inner.read(o, l, s) }));
    expect(src.tensors[0]).toMatchObject({ decodable: false, byteLength: 2 ** 31 });
    await expect(src.read('big')).rejects.toMatchObject({ kind: 'LimitError', message: expect.stringContaining('"big"') });
  });
});
