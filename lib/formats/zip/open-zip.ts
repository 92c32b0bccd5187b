import { FormatError, LimitError, UnsupportedError, throwIfAborted } from '../../base/errors';
import { MAX_ZIP_ENTRIES } from '../../base/limits';
import { fmtBytes } from '../../base/assert';
import type { ByteSource } from '../../io/byte-source';

/**
 * A zip archive read from its central directory only: `openZip` lists the members (names,
 * methods, sizes, where their local headers are) without touching their data, so a 13 GB
 * PyTorch checkpoint opens after reading a few KB from its end. Member data is read later, one
 * member (or one byte range of a stored member) at a time, by read-zip-entry.ts.
 */

export interface ZipEntry {
  /** Path inside the archive, '/'-separated. */
  readonly name: string;
  /** 0 = stored, 8 = deflated; anything else is listed but refused on read. */
  readonly method: number;
  /** General purpose flags: bit 0 encrypted, bit 3 sizes in a data descriptor, bit 11 UTF-8. */
  readonly flags: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  /** Offset of the member's local file header. */
  readonly localHeaderOffset: number;
}

export interface ZipArchive {
  readonly source: ByteSource;
  readonly entries: readonly ZipEntry[];
  readonly byName: ReadonlyMap<string, ZipEntry>;
  /** Offset of the central directory: every member's data must end before it. */
  readonly centralDirectoryOffset: number;
  /** Data offsets resolved from local headers (filled on first read of each member). */
  readonly dataOffsets: Map<string, number>;
}

const EOCD_SIG = 0x06054b50;
const EOCD64_SIG = 0x06064b50;
const EOCD64_LOCATOR_SIG = 0x07064b50;
const CDH_SIG = 0x02014b50;
const EOCD_BYTES = 22;
const EOCD64_LOCATOR_BYTES = 20;
const EOCD64_MIN_BYTES = 56;
const CDH_BYTES = 46;
/** The EOCD comment length is a u16, so the EOCD starts within the last 22 + 65535 bytes. */
const MAX_EOCD_SEARCH_BYTES = EOCD_BYTES + 0xffff;
/**
 * One central-directory record is 46 bytes plus name/extra/comment; MAX_ZIP_ENTRIES records of a
 * realistic ~150 bytes is 150 MB, so this bounds the one allocation that reads the directory.
 */
export const MAX_ZIP_CENTRAL_DIRECTORY_BYTES = 256 * 2 ** 20;

const utf8 = new TextDecoder('utf-8');

function u16(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8);
}
function u32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}
/** u64 as a JS number; values past 2^53 are not real offsets in any file we can open. */
function u64(b: Uint8Array, o: number, file: string, what: string): number {
  const lo = u32(b, o);
  const hi = u32(b, o + 4);
  const v = hi * 2 ** 32 + lo;
  if (!Number.isSafeInteger(v)) throw new FormatError('bad-zip', `${file}: ${what} ${hi}*2^32+${lo} is not a usable size`);
  return v;
}
export const zipInt = { u16, u32, u64 };

interface EndRecord {
  entryCount: number;
  cdSize: number;
  cdOffset: number;
  /** Where the structures after the central directory start (zip64 EOCD or EOCD). */
  cdLimit: number;
}

async function findEndRecord(src: ByteSource, signal?: AbortSignal): Promise<EndRecord> {
  const file = src.name;
  if (src.size < EOCD_BYTES) throw new FormatError('bad-zip', `${file}: ${src.size} bytes is too small for a zip archive (end record is 22 bytes)`);
  const tailLen = Math.min(src.size, MAX_EOCD_SEARCH_BYTES);
  const tailStart = src.size - tailLen;
  const tail = await src.read(tailStart, tailLen, signal);
  // Scan backwards; prefer a signature whose comment length reaches exactly to the end of the
  // file, so a "PK\5\6" inside a comment or member data is not mistaken for the record. Failing
  // that, accept the last one whose comment fits (some tools append padding after the record);
  // a false hit still has to lead to a valid central directory.
  let at = -1;
  let loose = -1;
  for (let i = tailLen - EOCD_BYTES; i >= 0; i--) {
    if (u32(tail, i) !== EOCD_SIG) continue;
    const end = i + EOCD_BYTES + u16(tail, i + 20);
    if (end === tailLen) {
      at = i;
      break;
    }
    if (loose < 0 && end < tailLen) loose = i;
  }
  if (at < 0) at = loose;
  if (at < 0) {
    throw new FormatError('bad-zip', `${file}: no zip end-of-central-directory record in the last ${fmtBytes(tailLen)} bytes (not a zip, or truncated)`);
  }
  const eocdPos = tailStart + at;
  const diskNo = u16(tail, at + 4);
  const cdDisk = u16(tail, at + 6);
  let entryCount = u16(tail, at + 10);
  let cdSize = u32(tail, at + 12);
  let cdOffset = u32(tail, at + 16);
  let cdLimit = eocdPos;

  const locPos = eocdPos - EOCD64_LOCATOR_BYTES;
  const locRel = at - EOCD64_LOCATOR_BYTES;
  const hasLocator = locPos >= 0 && (locRel >= 0 ? u32(tail, locRel) === EOCD64_LOCATOR_SIG : u32(await src.read(locPos, 4, signal), 0) === EOCD64_LOCATOR_SIG);
  if (hasLocator) {
    const loc = await src.read(locPos, EOCD64_LOCATOR_BYTES, signal);
    const eocd64Pos = u64(loc, 8, file, 'zip64 end record offset');
    if (u32(loc, 16) > 1) throw new UnsupportedError('multi-disk-zip', `${file}: a multi-volume zip (${u32(loc, 16)} disks); join the parts first`);
    if (eocd64Pos + EOCD64_MIN_BYTES > locPos) {
      throw new FormatError('bad-zip', `${file}: zip64 end record at ${fmtBytes(eocd64Pos)} overlaps the locator at ${fmtBytes(locPos)}`);
    }
    const rec = await src.read(eocd64Pos, EOCD64_MIN_BYTES, signal);
    if (u32(rec, 0) !== EOCD64_SIG) throw new FormatError('bad-zip', `${file}: zip64 locator points at ${fmtBytes(eocd64Pos)}, which is not a zip64 end record`);
    if (u32(rec, 16) !== 0 || u32(rec, 20) !== 0) throw new UnsupportedError('multi-disk-zip', `${file}: a multi-volume zip; join the parts first`);
    entryCount = u64(rec, 32, file, 'zip64 entry count');
    cdSize = u64(rec, 40, file, 'zip64 central directory size');
    cdOffset = u64(rec, 48, file, 'zip64 central directory offset');
    cdLimit = eocd64Pos;
  } else if (diskNo !== 0 || cdDisk !== 0) {
    throw new UnsupportedError('multi-disk-zip', `${file}: a multi-volume zip (disk ${diskNo}); join the parts first`);
  }
  return { entryCount, cdSize, cdOffset, cdLimit };
}

/** Values the central directory marks 0xFFFFFFFF live in the zip64 extra field (id 1), in this order. */
function applyZip64Extra(
  extra: Uint8Array,
  want: { usize: boolean; csize: boolean; offset: boolean },
  file: string,
  name: string,
): { usize?: number; csize?: number; offset?: number } {
  const out: { usize?: number; csize?: number; offset?: number } = {};
  let p = 0;
  while (p + 4 <= extra.length) {
    const id = u16(extra, p);
    const len = u16(extra, p + 2);
    const body = p + 4;
    if (body + len > extra.length) break;
    if (id === 0x0001) {
      let q = body;
      const take = (what: string): number => {
        if (q + 8 > body + len) throw new FormatError('bad-zip', `${file}: member "${name}" zip64 extra field is too short for its ${what}`);
        const v = u64(extra, q, file, `member "${name}" ${what}`);
        q += 8;
        return v;
      };
      if (want.usize) out.usize = take('uncompressed size');
      if (want.csize) out.csize = take('compressed size');
      if (want.offset) out.offset = take('local header offset');
      return out;
    }
    p = body + len;
  }
  if (want.usize || want.csize || want.offset) {
    throw new FormatError('bad-zip', `${file}: member "${name}" has 32-bit size fields set to 0xFFFFFFFF but no zip64 extra field`);
  }
  return out;
}
export { applyZip64Extra };

export async function openZip(src: ByteSource, signal?: AbortSignal): Promise<ZipArchive> {
  const file = src.name;
  const end = await findEndRecord(src, signal);
  if (end.entryCount > MAX_ZIP_ENTRIES) {
    throw new LimitError('zip-entries', `${file}: zip declares ${end.entryCount} members, more than the limit of ${MAX_ZIP_ENTRIES}`);
  }
  if (end.cdOffset + end.cdSize > end.cdLimit) {
    throw new FormatError(
      'bad-zip',
      `${file}: central directory at ${fmtBytes(end.cdOffset)}+${fmtBytes(end.cdSize)} runs past its end record at ${fmtBytes(end.cdLimit)} (file has ${fmtBytes(src.size)} bytes)`,
    );
  }
  if (end.entryCount * CDH_BYTES > end.cdSize) {
    throw new FormatError('bad-zip', `${file}: zip declares ${end.entryCount} members but its central directory has only ${fmtBytes(end.cdSize)} bytes (at least 46 per member)`);
  }
  if (end.cdSize > MAX_ZIP_CENTRAL_DIRECTORY_BYTES) {
    throw new LimitError('zip-directory', `${file}: central directory of ${fmtBytes(end.cdSize)} bytes exceeds the limit of ${fmtBytes(MAX_ZIP_CENTRAL_DIRECTORY_BYTES)}`);
  }
  const cd = await src.read(end.cdOffset, end.cdSize, signal);
  const entries: ZipEntry[] = [];
  const byName = new Map<string, ZipEntry>();
  let p = 0;
  for (let i = 0; i < end.entryCount; i++) {
    if (i % 4096 === 0) throwIfAborted(signal);
    if (p + CDH_BYTES > cd.length || u32(cd, p) !== CDH_SIG) {
      throw new FormatError('bad-zip', `${file}: central directory record ${i} of ${end.entryCount} is missing or corrupt at byte ${fmtBytes(end.cdOffset + p)}`);
    }
    const flags = u16(cd, p + 8);
    const method = u16(cd, p + 10);
    const crc = u32(cd, p + 16);
    let csize = u32(cd, p + 20);
    let usize = u32(cd, p + 24);
    const nameLen = u16(cd, p + 28);
    const extraLen = u16(cd, p + 30);
    const commentLen = u16(cd, p + 32);
    let offset = u32(cd, p + 42);
    const recEnd = p + CDH_BYTES + nameLen + extraLen + commentLen;
    if (recEnd > cd.length) throw new FormatError('bad-zip', `${file}: central directory record ${i} runs past the directory's end`);
    const name = utf8.decode(cd.subarray(p + CDH_BYTES, p + CDH_BYTES + nameLen));
    const extra = cd.subarray(p + CDH_BYTES + nameLen, p + CDH_BYTES + nameLen + extraLen);
    const z = applyZip64Extra(extra, { usize: usize === 0xffffffff, csize: csize === 0xffffffff, offset: offset === 0xffffffff }, file, name);
    usize = z.usize ?? usize;
    csize = z.csize ?? csize;
    offset = z.offset ?? offset;
    if (offset + 30 + csize > end.cdOffset) {
      throw new FormatError('bad-offsets', `${file}: member "${name}" data (${fmtBytes(csize)} bytes from ${fmtBytes(offset)}) runs into the central directory at ${fmtBytes(end.cdOffset)}`);
    }
    if (method === 0 && csize !== usize) {
      throw new FormatError('bad-zip', `${file}: stored member "${name}" declares ${csize} stored bytes but ${usize} uncompressed bytes`);
    }
    // Duplicate names are how zip confusion attacks make two readers see different files.
    if (byName.has(name)) throw new FormatError('bad-zip', `${file}: member "${name}" appears twice in the central directory`);
    const entry: ZipEntry = { name, method, flags, crc32: crc, compressedSize: csize, uncompressedSize: usize, localHeaderOffset: offset };
    entries.push(entry);
    byName.set(name, entry);
    p = recEnd;
  }
  return { source: src, entries, byName, centralDirectoryOffset: end.cdOffset, dataOffsets: new Map() };
}
