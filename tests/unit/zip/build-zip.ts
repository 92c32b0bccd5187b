import { crc32 as zlibCrc32, deflateRawSync } from 'node:zlib';

/**
 * Builds zip archives byte by byte for tests, independently of the reader under test (CRC and
 * deflate come from node:zlib). `torchStyle` reproduces what PyTorch's writer (miniz via
 * caffe2/serialize/inline_container.cc) emits: general-purpose flags 0x0808 (sizes in a data
 * descriptor, UTF-8 names) with zero CRC/sizes in each local header, an "FB" extra field of 'Z'
 * padding so each member's data starts on a 64-byte boundary, a data descriptor after the data,
 * and a zip64 end record + locator before the classic end record. Checked against the bytes of
 * a real torch.save output embedded in pytorch/pytorch test code (data_legacy_numpy in
 * test/test_cpp_extensions_open_device_registration.py).
 */

export interface ZipMemberSpec {
  name: string;
  data: Uint8Array;
  /** 0 stored (default), 8 deflated. */
  method?: 0 | 8;
  /** Replace the deflated bytes (for members that inflate to the wrong size). */
  rawCompressed?: Uint8Array;
  /** Override what the central directory declares as uncompressed size. */
  cdUncompressedSize?: number;
  /** Override the sizes the local header declares (lying members). */
  localSizes?: { compressed: number; uncompressed: number };
}

export interface BuiltZip {
  bytes: Uint8Array;
  /** Offsets of interesting structures, for tests that corrupt them. */
  localHeaderOffsets: number[];
  dataOffsets: number[];
  cdOffset: number;
  cdSize: number;
  eocdOffset: number;
}

class Bytes {
  private parts: number[] = [];
  get length() {
    return this.parts.length;
  }
  u8(v: number) {
    this.parts.push(v & 0xff);
    return this;
  }
  u16(v: number) {
    return this.u8(v).u8(v >>> 8);
  }
  u32(v: number) {
    return this.u16(v & 0xffff).u16(Math.floor(v / 65536));
  }
  u64(v: number) {
    return this.u32(v % 2 ** 32).u32(Math.floor(v / 2 ** 32));
  }
  raw(b: Uint8Array | number[]) {
    for (const x of b) this.parts.push(x);
    return this;
  }
  toUint8Array() {
    return Uint8Array.from(this.parts);
  }
}

export function crc32(b: Uint8Array): number {
  return zlibCrc32(b) >>> 0;
}

export function buildZip(members: ZipMemberSpec[], opts: { torchStyle?: boolean; comment?: string; zip64?: boolean; zip64Extra?: boolean } = {}): BuiltZip {
  const out = new Bytes();
  const enc = new TextEncoder();
  const flags = opts.torchStyle ? 0x0808 : 0x0800;
  const zip64 = opts.zip64 ?? opts.torchStyle ?? false;
  const cd: { name: Uint8Array; method: number; crc: number; csize: number; usize: number; offset: number }[] = [];
  const localHeaderOffsets: number[] = [];
  const dataOffsets: number[] = [];
  for (const m of members) {
    const method = m.method ?? 0;
    const name = enc.encode(m.name);
    const comp = m.rawCompressed ?? (method === 8 ? new Uint8Array(deflateRawSync(m.data)) : m.data);
    const crc = crc32(m.data);
    const usize = m.cdUncompressedSize ?? m.data.length;
    const offset = out.length;
    localHeaderOffsets.push(offset);
    let extra: number[] = [];
    if (opts.torchStyle) {
      // Pad so data starts at a multiple of 64: header 30 + name + 4-byte FB field header + pad.
      const start = offset + 30 + name.length + 4;
      const pad = (64 - (start % 64)) % 64;
      extra = [0x46, 0x42, pad & 0xff, pad >> 8, ...new Array<number>(pad).fill(0x5a)];
    }
    const local = m.localSizes ?? (opts.torchStyle ? { compressed: 0, uncompressed: 0 } : { compressed: comp.length, uncompressed: usize });
    out.u32(0x04034b50).u16(opts.torchStyle ? 0 : 20).u16(flags).u16(method).u16(0).u16(0);
    out.u32(opts.torchStyle ? 0 : crc).u32(local.compressed).u32(local.uncompressed).u16(name.length).u16(extra.length);
    out.raw(name).raw(extra);
    dataOffsets.push(out.length);
    out.raw(comp);
    if (opts.torchStyle) out.u32(0x08074b50).u32(crc).u32(comp.length).u32(usize);
    cd.push({ name, method, crc, csize: comp.length, usize, offset });
  }
  const cdOffset = out.length;
  for (const e of cd) {
    out.u32(0x02014b50).u16(opts.torchStyle ? 0 : 20).u16(opts.torchStyle ? 0 : 20).u16(flags).u16(e.method).u16(0).u16(0);
    if (opts.zip64Extra) {
      // Sizes and offset moved to the zip64 extra field (id 1), as writers do past 4 GiB.
      out.u32(e.crc).u32(0xffffffff).u32(0xffffffff).u16(e.name.length).u16(28).u16(0).u16(0).u16(0).u32(0).u32(0xffffffff);
      out.raw(e.name).u16(1).u16(24).u64(e.usize).u64(e.csize).u64(e.offset);
    } else {
      out.u32(e.crc).u32(e.csize).u32(e.usize).u16(e.name.length).u16(0).u16(0).u16(0).u16(0).u32(0).u32(e.offset);
      out.raw(e.name);
    }
  }
  const cdSize = out.length - cdOffset;
  if (zip64) {
    const z64 = out.length;
    out.u32(0x06064b50).u64(44).u16(0x031e).u16(45).u32(0).u32(0).u64(cd.length).u64(cd.length).u64(cdSize).u64(cdOffset);
    out.u32(0x07064b50).u32(0).u64(z64).u32(1);
  }
  const eocdOffset = out.length;
  const comment = enc.encode(opts.comment ?? '');
  out.u32(0x06054b50).u16(0).u16(0).u16(cd.length).u16(cd.length).u32(cdSize).u32(cdOffset).u16(comment.length).raw(comment);
  return { bytes: out.toUint8Array(), localHeaderOffsets, dataOffsets, cdOffset, cdSize, eocdOffset };
}

/** Little-endian writes into an existing buffer (for corrupting one field of a built zip). */
export function setU16(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
}
export function setU32(b: Uint8Array, at: number, v: number): void {
  new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(at, v >>> 0, true);
}
