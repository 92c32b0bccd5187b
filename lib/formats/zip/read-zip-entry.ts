import { FormatError, LimitError, UnsupportedError, throwIfAborted } from '../../base/errors';
import { fmtBytes } from '../../base/assert';
import { applyZip64Extra, zipInt, type ZipArchive, type ZipEntry } from './open-zip';
import { inflateBounded } from './inflate-bounded';
import { crc32 } from './crc32';

const LFH_SIG = 0x04034b50;
const LFH_BYTES = 30;
const utf8 = new TextDecoder('utf-8');
const { u16, u32 } = zipInt;

function refuseUnreadable(zip: ZipArchive, e: ZipEntry): void {
  if (e.flags & 1) throw new UnsupportedError('encrypted-zip', `${zip.source.name}: member "${e.name}" is encrypted`);
  if (e.method !== 0 && e.method !== 8) {
    throw new UnsupportedError('zip-method', `${zip.source.name}: member "${e.name}" uses compression method ${e.method}; WeightLens reads stored (0) and deflated (8) members`);
  }
}

/**
 * Where a member's data starts, from its local header, which must agree with the central
 * directory: a member whose two headers disagree about its size or method is refused, because
 * other zip readers would see different bytes than we do.
 */
export async function entryDataOffset(zip: ZipArchive, e: ZipEntry, signal?: AbortSignal): Promise<number> {
  const cached = zip.dataOffsets.get(e.name);
  if (cached !== undefined) return cached;
  const file = zip.source.name;
  refuseUnreadable(zip, e);
  const h = await zip.source.read(e.localHeaderOffset, LFH_BYTES, signal);
  if (u32(h, 0) !== LFH_SIG) throw new FormatError('bad-zip', `${file}: member "${e.name}" has no local header at ${fmtBytes(e.localHeaderOffset)}`);
  const flags = u16(h, 6);
  const method = u16(h, 8);
  let csize = u32(h, 18);
  let usize = u32(h, 22);
  const nameLen = u16(h, 26);
  const extraLen = u16(h, 28);
  const tail = await zip.source.read(e.localHeaderOffset + LFH_BYTES, nameLen + extraLen, signal);
  const name = utf8.decode(tail.subarray(0, nameLen));
  if (name !== e.name) throw new FormatError('bad-zip', `${file}: member "${e.name}" has local header name "${name}"`);
  if (method !== e.method) throw new FormatError('bad-zip', `${file}: member "${e.name}" local header says method ${method}, central directory says ${e.method}`);
  const z = applyZip64Extra(tail.subarray(nameLen), { usize: usize === 0xffffffff, csize: csize === 0xffffffff, offset: false }, file, e.name);
  csize = z.csize ?? csize;
  usize = z.usize ?? usize;
  // Bit 3: sizes follow the data in a descriptor and the local fields are zero (PyTorch's
  // writer does this); nonzero local sizes must still match.
  const deferred = (flags & 8) !== 0 && csize === 0 && usize === 0;
  if (!deferred && (csize !== e.compressedSize || usize !== e.uncompressedSize)) {
    throw new FormatError(
      'bad-zip',
      `${file}: member "${e.name}" local header says ${csize} bytes (${usize} uncompressed), central directory says ${e.compressedSize} (${e.uncompressedSize})`,
    );
  }
  const dataOffset = e.localHeaderOffset + LFH_BYTES + nameLen + extraLen;
  if (dataOffset + e.compressedSize > zip.centralDirectoryOffset) {
    throw new FormatError('bad-offsets', `${file}: member "${e.name}" data ends at ${fmtBytes(dataOffset + e.compressedSize)}, past the central directory at ${fmtBytes(zip.centralDirectoryOffset)}`);
  }
  zip.dataOffsets.set(e.name, dataOffset);
  return dataOffset;
}

/** Bytes [offset, offset + length) of a stored member, without reading the rest of it. */
export async function readStoredRange(zip: ZipArchive, e: ZipEntry, offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array> {
  if (e.method !== 0) throw new Error(`readStoredRange on compressed member ${e.name}`);
  if (offset < 0 || length < 0 || offset + length > e.uncompressedSize) {
    throw new FormatError('bad-offsets', `${zip.source.name}: member "${e.name}" bytes ${offset}+${length} are outside its ${e.uncompressedSize} bytes`);
  }
  const base = await entryDataOffset(zip, e, signal);
  return zip.source.read(base + offset, length, signal);
}

/**
 * A whole member in memory (pickles, deflated tensors), refused beyond `maxBytes` before any
 * allocation, inflated with its size and CRC checked against the central directory.
 */
export async function readEntryBytes(zip: ZipArchive, e: ZipEntry, maxBytes: number, limitName: string, signal?: AbortSignal): Promise<Uint8Array> {
  const file = zip.source.name;
  if (e.uncompressedSize > maxBytes) {
    throw new LimitError('zip-member', `${file}: member "${e.name}" is ${fmtBytes(e.uncompressedSize)} bytes, over ${limitName} (${fmtBytes(maxBytes)})`);
  }
  const base = await entryDataOffset(zip, e, signal);
  const bytes = e.method === 0
    ? await zip.source.read(base, e.compressedSize, signal)
    : await inflateBounded(zip.source, base, e.compressedSize, e.uncompressedSize, `member "${e.name}"`, signal);
  throwIfAborted(signal);
  const crc = crc32(bytes);
  if (crc !== e.crc32) {
    throw new FormatError('bad-zip', `${file}: member "${e.name}" CRC-32 is ${crc.toString(16)}, central directory says ${e.crc32.toString(16)} (corrupt data)`);
  }
  return bytes;
}

/** The first `n` bytes of a member (an .npy header), inflating only as far as needed. */
export async function readEntryPrefix(zip: ZipArchive, e: ZipEntry, n: number, signal?: AbortSignal): Promise<Uint8Array> {
  const len = Math.min(n, e.uncompressedSize);
  const base = await entryDataOffset(zip, e, signal);
  if (e.method === 0) return zip.source.read(base, len, signal);
  return inflateBounded(zip.source, base, e.compressedSize, e.uncompressedSize, `member "${e.name}"`, signal, len);
}
