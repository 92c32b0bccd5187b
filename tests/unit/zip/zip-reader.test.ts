import { describe, expect, it } from 'vitest';
import { deflateRawSync } from 'node:zlib';
import { memorySource, type ByteSource } from '@/lib/io/byte-source';
import { openZip } from '@/lib/formats/zip/open-zip';
import { readEntryBytes, readEntryPrefix, readStoredRange } from '@/lib/formats/zip/read-zip-entry';
import { crc32 as ourCrc32 } from '@/lib/formats/zip/crc32';
import { FormatError, LimitError } from '@/lib/base/errors';
import { buildZip, crc32, setU16, setU32 } from './build-zip';

const enc = new TextEncoder();

/** A real byte source that records which ranges were asked for. */
function recordingSource(bytes: Uint8Array, name: string): ByteSource & { reads: [number, number][] } {
  const inner = memorySource(bytes, name);
  const reads: [number, number][] = [];
  return {
    name,
    size: inner.size,
    reads,
    read(offset, length, signal) {
      reads.push([offset, length]);
      return inner.read(offset, length, signal);
    },
  };
}

function patterned(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7 + (i >> 5)) & 0xff;
  return b;
}

async function expectFormatError(p: Promise<unknown>, code: string, pattern: RegExp) {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FormatError);
  expect((err as FormatError).code).toBe(code);
  expect((err as Error).message).toMatch(pattern);
}

describe('crc32', () => {
  it('matches node:zlib on assorted inputs, including chunked', () => {
    for (const n of [0, 1, 7, 255, 4096, 100_003]) {
      const b = patterned(n, n);
      expect(ourCrc32(b)).toBe(crc32(b));
      const cut = n >> 1;
      expect(ourCrc32(b.subarray(cut), ourCrc32(b.subarray(0, cut)))).toBe(crc32(b));
    }
    expect(ourCrc32(enc.encode('123456789'))).toBe(0xcbf43926); // the standard check value
  });
});

describe('openZip / members', () => {
  it('lists members from the central directory without reading their data', async () => {
    const big = patterned(200_000, 1);
    const z = buildZip([
      { name: 'a.bin', data: big },
      { name: 'dir/b.txt', data: enc.encode('hello') },
    ]);
    const src = recordingSource(z.bytes, 'x.zip');
    const zip = await openZip(src);
    expect(zip.entries.map((e) => e.name)).toEqual(['a.bin', 'dir/b.txt']);
    expect(zip.byName.get('a.bin')!.uncompressedSize).toBe(200_000);
    expect(zip.byName.get('dir/b.txt')!.crc32).toBe(crc32(enc.encode('hello')));
    // Only the tail was read: the end-record search window (22 + 65535 bytes) and the directory.
    for (const [off] of src.reads) expect(off).toBeGreaterThanOrEqual(z.bytes.length - (22 + 65535));
    expect(src.reads.reduce((s, [, n]) => s + n, 0)).toBeLessThan(22 + 65535 + z.cdSize + 100);

    src.reads.length = 0;
    const part = await readStoredRange(zip, zip.byName.get('a.bin')!, 150_000, 16);
    expect([...part]).toEqual([...big.subarray(150_000, 150_016)]);
    // The range read touched the local header and the 16 bytes, not the whole member.
    expect(src.reads.reduce((s, [, n]) => s + n, 0)).toBeLessThan(100);
  });

  it('finds the end record behind a comment, and reads a deflated member with its CRC checked', async () => {
    const text = enc.encode('the quick brown fox '.repeat(500));
    const z = buildZip([{ name: 't.txt', data: text, method: 8 }], { comment: 'PK\u0005\u0006 not a record' });
    const zip = await openZip(memorySource(z.bytes, 'c.zip'));
    const e = zip.byName.get('t.txt')!;
    expect(e.method).toBe(8);
    expect(e.compressedSize).toBeLessThan(text.length);
    const out = await readEntryBytes(zip, e, 1e6, 'TEST_LIMIT');
    expect(new TextDecoder().decode(out)).toBe(new TextDecoder().decode(text));
    const head = await readEntryPrefix(zip, e, 9);
    expect(new TextDecoder().decode(head)).toBe('the quick');
  });

  it('reads a PyTorch-style archive: data descriptors, zeroed local sizes, 64-byte aligned data, zip64 end record', async () => {
    const data = patterned(1000, 3);
    const z = buildZip(
      [
        { name: 'archive/data.pkl', data: enc.encode('not really a pickle') },
        { name: 'archive/data/0', data },
      ],
      { torchStyle: true },
    );
    expect(z.dataOffsets.every((o) => o % 64 === 0)).toBe(true);
    const zip = await openZip(memorySource(z.bytes, 'm.pt'));
    const e = zip.byName.get('archive/data/0')!;
    expect(e.flags & 8).toBe(8);
    expect([...(await readStoredRange(zip, e, 500, 8))]).toEqual([...data.subarray(500, 508)]);
    expect((await readEntryBytes(zip, e, 1e6, 'TEST_LIMIT')).length).toBe(1000);
  });

  it('reads sizes and offsets from zip64 extra fields', async () => {
    const data = patterned(3000, 5);
    const z = buildZip([{ name: 'pad', data: new Uint8Array(10) }, { name: 'w', data }], { zip64: true, zip64Extra: true });
    const zip = await openZip(memorySource(z.bytes, 'z64.zip'));
    const e = zip.byName.get('w')!;
    expect(e.uncompressedSize).toBe(3000);
    expect(e.localHeaderOffset).toBe(z.localHeaderOffsets[1]);
    expect([...(await readStoredRange(zip, e, 2990, 10))]).toEqual([...data.subarray(2990)]);
  });
});

describe('hostile zips', () => {
  it('refuses a file whose end-of-central-directory record is missing', async () => {
    const z = buildZip([{ name: 'a', data: enc.encode('abc') }]);
    const cut = z.bytes.subarray(0, z.eocdOffset); // drop the end record
    await expectFormatError(openZip(memorySource(cut, 'cut.zip')), 'bad-zip', /cut\.zip: no zip end-of-central-directory record/);
  });

  it('refuses a central directory offset past the end of the file', async () => {
    const z = buildZip([{ name: 'a', data: enc.encode('abc') }]);
    const b = z.bytes.slice();
    setU32(b, z.eocdOffset + 16, b.length + 1000);
    await expectFormatError(openZip(memorySource(b, 'off.zip')), 'bad-zip', /off\.zip: central directory at .* runs past its end record/);
  });

  it('refuses a member whose local header lies about its size', async () => {
    const z = buildZip([{ name: 'w.npy', data: patterned(100, 1), localSizes: { compressed: 60, uncompressed: 60 } }]);
    const zip = await openZip(memorySource(z.bytes, 'lie.zip'));
    await expectFormatError(
      readStoredRange(zip, zip.byName.get('w.npy')!, 0, 10),
      'bad-zip',
      /lie\.zip: member "w\.npy" local header says 60 bytes \(60 uncompressed\), central directory says 100 \(100\)/,
    );
  });

  it('refuses a deflated member that inflates to more than declared', async () => {
    const real = new Uint8Array(100_000); // zeros: a small bomb
    const z = buildZip([{ name: 'bomb', data: real, method: 8, cdUncompressedSize: 1000 }]);
    const zip = await openZip(memorySource(z.bytes, 'bomb.zip'));
    await expectFormatError(readEntryBytes(zip, zip.byName.get('bomb')!, 1e9, 'TEST_LIMIT'), 'size-mismatch', /bomb\.zip: member "bomb" inflates to more than the 1000 bytes/);
  });

  it('refuses a deflated member that inflates to less than declared', async () => {
    const z = buildZip([{ name: 'short', data: patterned(500, 2), method: 8, cdUncompressedSize: 800 }]);
    const zip = await openZip(memorySource(z.bytes, 'short.zip'));
    await expectFormatError(readEntryBytes(zip, zip.byName.get('short')!, 1e9, 'TEST_LIMIT'), 'size-mismatch', /short\.zip: member "short" inflates to 500 bytes, its zip directory declares 800/);
  });

  it('refuses deflate data that is corrupt', async () => {
    const good = new Uint8Array(deflateRawSync(patterned(5000, 9)));
    const broken = good.subarray(0, good.length >> 1);
    const z = buildZip([{ name: 'half', data: patterned(5000, 9), method: 8, rawCompressed: broken }]);
    const zip = await openZip(memorySource(z.bytes, 'half.zip'));
    await expect(readEntryBytes(zip, zip.byName.get('half')!, 1e9, 'TEST_LIMIT')).rejects.toMatchObject({ kind: 'FormatError' });
  });

  it('refuses a member whose bytes do not match its CRC', async () => {
    const z = buildZip([{ name: 'c', data: patterned(64, 4) }]);
    const b = z.bytes.slice();
    b[z.dataOffsets[0]! + 10]! ^= 0xff;
    const zip = await openZip(memorySource(b, 'crc.zip'));
    await expectFormatError(readEntryBytes(zip, zip.byName.get('c')!, 1e6, 'TEST_LIMIT'), 'bad-zip', /crc\.zip: member "c" CRC-32 is .* central directory says/);
  });

  it('refuses an entry count the central directory cannot hold', async () => {
    const z = buildZip([{ name: 'a', data: enc.encode('abc') }]);
    const b = z.bytes.slice();
    setU16(b, z.eocdOffset + 8, 0xffff);
    setU16(b, z.eocdOffset + 10, 0xffff);
    await expectFormatError(openZip(memorySource(b, 'count.zip')), 'bad-zip', /count\.zip: zip declares 65535 members but its central directory has only/);
  });

  it('refuses an absurd zip64 entry count with a LimitError before allocating', async () => {
    const z = buildZip([{ name: 'a', data: enc.encode('abc') }], { zip64: true });
    const b = z.bytes.slice();
    const z64 = z.eocdOffset - 20 - 56;
    setU32(b, z64 + 32, 0); // entries on this disk, low
    setU32(b, z64 + 36, 0x100); // 2^40 entries
    const err = await openZip(memorySource(b, 'many.zip')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LimitError);
    expect((err as Error).message).toMatch(/many\.zip: zip declares 1099511627776 members, more than the limit/);
  });

  it('refuses a member listed twice', async () => {
    const z = buildZip([
      { name: 'w.npy', data: enc.encode('one') },
      { name: 'w.npy', data: enc.encode('two') },
    ]);
    await expectFormatError(openZip(memorySource(z.bytes, 'dup.zip')), 'bad-zip', /dup\.zip: member "w\.npy" appears twice/);
  });

  it('refuses a member whose data would run into the central directory', async () => {
    const z = buildZip([{ name: 'a', data: enc.encode('abcdef') }]);
    const b = z.bytes.slice();
    // central directory record 0: compressed and uncompressed size fields
    setU32(b, z.cdOffset + 20, 5000);
    setU32(b, z.cdOffset + 24, 5000);
    await expectFormatError(openZip(memorySource(b, 'long.zip')), 'bad-offsets', /long\.zip: member "a" data .* runs into the central directory/);
  });
});

describe('end record search', () => {
  it('accepts bytes appended after the end record', async () => {
    const z = buildZip([{ name: 'a', data: new TextEncoder().encode('abc') }]);
    const padded = new Uint8Array(z.bytes.length + 100);
    padded.set(z.bytes);
    const zip = await openZip(memorySource(padded, 'pad.zip'));
    expect(new TextDecoder().decode(await readEntryBytes(zip, zip.byName.get('a')!, 100, 'TEST_LIMIT'))).toBe('abc');
  });
});
