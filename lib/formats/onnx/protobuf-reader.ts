import { FormatError, LimitError, throwIfAborted } from '../../base/errors';
import { fmtBytes } from '../../base/assert';
import type { ByteSource } from '../../io/byte-source';

/**
 * A hand-written protobuf wire decoder that streams through a ByteSource in windows, so an ONNX
 * file of up to 2 GB (protobuf's own limit) is walked without ever holding more than one window
 * plus one short string. Every length is checked against the enclosing message and the file
 * before it is used; nothing is allocated from a length the file claims until it is checked.
 *
 * The caller drives the walk: `await s.need(n)` makes the next n bytes resident (it returns
 * undefined, so no promise is made, when they already are), then the sync readers consume them.
 */

export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;
export const WIRE_I32 = 5;

/** A varint is at most 10 bytes (64 bits in 7-bit groups); protobuf refuses longer ones. */
const MAX_VARINT_BYTES = 10;

/** A field head is a tag varint plus, at most, a length varint or an 8-byte value. */
export const MAX_FIELD_HEAD_BYTES = 2 * MAX_VARINT_BYTES;

/** Field numbers are 29-bit, so a tag above 2^32 is garbage. */
const MAX_TAG = 2 ** 32 - 1;

const utf8 = new TextDecoder('utf-8');

export class ProtoStream {
  /** Absolute position in the file of the next byte to decode. */
  pos: number;
  /** Unsigned and signed (two's complement int64) value of the last varint read. */
  lastUnsigned = 0;
  lastSigned = 0;
  private buf: Uint8Array = new Uint8Array(0);
  private bufStart = 0;
  /** Bytes actually requested from the source, for tests and the bench. */
  bytesRead = 0;

  constructor(
    readonly src: ByteSource,
    readonly windowBytes: number,
    readonly signal?: AbortSignal,
    start = 0,
  ) {
    this.pos = start;
  }

  get name(): string {
    return this.src.name;
  }

  /** Makes [pos, pos + n) resident, clamped to the end of the file. */
  need(n: number): Promise<void> | undefined {
    const end = Math.min(this.pos + n, this.src.size);
    if (this.pos >= this.bufStart && end <= this.bufStart + this.buf.length) return undefined;
    return this.load(end);
  }

  private async load(end: number): Promise<void> {
    throwIfAborted(this.signal);
    const from = this.pos;
    const length = Math.min(Math.max(end - from, this.windowBytes), this.src.size - from);
    this.buf = new Uint8Array(0); // drop the old window before the new one arrives
    this.buf = await this.src.read(from, length, this.signal);
    this.bufStart = from;
    this.bytesRead += length;
  }

  /** The resident byte at absolute offset p; past the window is either the file end or a bug. */
  private byteAt(p: number, end: number): number {
    if (p >= end) {
      if (end >= this.src.size) this.fail('truncated', `the file ends inside a field at byte ${fmtBytes(p)}`);
      this.fail('bad-protobuf', `a field runs past the end of its message at byte ${fmtBytes(end)}`);
    }
    const i = p - this.bufStart;
    if (i < 0 || i >= this.buf.length) {
      if (p >= this.src.size) this.fail('truncated', `the file ends inside a field at byte ${fmtBytes(p)}`);
      throw new Error(`protobuf-reader: byte ${p} read before need() made it resident`);
    }
    return this.buf[i]!;
  }

  fail(code: 'truncated' | 'bad-protobuf' | 'bad-offsets', what: string): never {
    throw new FormatError(code, `${this.src.name}: ${what}`);
  }

  /** Reads a varint ending before `end`; returns the unsigned value (exact below 2^53). */
  varint(end: number): number {
    let lo = 0;
    let hi = 0;
    let p = this.pos;
    for (let i = 0; ; i++) {
      if (i === MAX_VARINT_BYTES) this.fail('bad-protobuf', `varint longer than ${MAX_VARINT_BYTES} bytes at byte ${fmtBytes(this.pos)}`);
      const b = this.byteAt(p++, end);
      const bits = b & 0x7f;
      if (i < 4) lo |= bits << (7 * i);
      else if (i === 4) {
        lo |= bits << 28;
        hi |= bits >>> 4;
      } else hi |= bits << (7 * i - 32);
      if (!(b & 0x80)) break;
    }
    this.pos = p;
    this.lastUnsigned = (hi >>> 0) * 2 ** 32 + (lo >>> 0);
    this.lastSigned = (hi | 0) * 2 ** 32 + (lo >>> 0);
    return this.lastUnsigned;
  }

  /** Reads a field tag; returns field number * 8 + wire type after validating both. */
  tag(end: number): number {
    const t = this.varint(end);
    const wire = t % 8;
    if (t > MAX_TAG || t < 8) this.fail('bad-protobuf', `invalid field tag ${t} at byte ${fmtBytes(this.pos)}`);
    if (wire === 3 || wire === 4) this.fail('bad-protobuf', `group wire type ${wire} (not used by ONNX) at byte ${fmtBytes(this.pos)}`);
    if (wire === 6 || wire === 7) this.fail('bad-protobuf', `invalid wire type ${wire} at byte ${fmtBytes(this.pos)}`);
    return t;
  }

  /** Reads a length prefix; returns the absolute end of the payload after checking it fits. */
  lengthDelimited(end: number): number {
    const at = this.pos;
    const len = this.varint(end);
    const payloadEnd = this.pos + len;
    if (payloadEnd > this.src.size) {
      this.fail('truncated', `field at byte ${fmtBytes(at)} claims ${fmtBytes(len)} bytes, ending at ${fmtBytes(payloadEnd)}, file has ${fmtBytes(this.src.size)}`);
    }
    if (payloadEnd > end) {
      this.fail('bad-protobuf', `field at byte ${fmtBytes(at)} claims ${fmtBytes(len)} bytes, past the end of its message at ${fmtBytes(end)}`);
    }
    return payloadEnd;
  }

  /** Skips the value of a field of the given wire type (the tag is already read). */
  skip(wire: number, end: number): void {
    switch (wire) {
      case WIRE_VARINT:
        this.varint(end);
        return;
      case WIRE_I64:
        this.advance(8, end);
        return;
      case WIRE_I32:
        this.advance(4, end);
        return;
      case WIRE_LEN:
        this.pos = this.lengthDelimited(end);
        return;
      default:
        this.fail('bad-protobuf', `invalid wire type ${wire} at byte ${fmtBytes(this.pos)}`);
    }
  }

  private advance(n: number, end: number): void {
    if (this.pos + n > this.src.size) this.fail('truncated', `the file ends inside a field at byte ${fmtBytes(this.pos)}`);
    if (this.pos + n > end) this.fail('bad-protobuf', `a field runs past the end of its message at byte ${fmtBytes(end)}`);
    this.pos += n;
  }

  float32(end: number): number {
    this.byteAt(this.pos + 3, end);
    const i = this.pos - this.bufStart;
    this.pos += 4;
    return new DataView(this.buf.buffer, this.buf.byteOffset + i, 4).getFloat32(0, true);
  }

  float64(end: number): number {
    this.byteAt(this.pos + 7, end);
    const i = this.pos - this.bufStart;
    this.pos += 8;
    return new DataView(this.buf.buffer, this.buf.byteOffset + i, 8).getFloat64(0, true);
  }

  /**
   * Reads a length-delimited UTF-8 string (the tag is already read), refusing lengths above
   * `maxBytes` before reading them.
   */
  async string(end: number, maxBytes: number, what: string): Promise<string> {
    const payloadEnd = this.lengthDelimited(end);
    const len = payloadEnd - this.pos;
    if (len > maxBytes) {
      throw new LimitError('string-length', `${this.src.name}: ${what} at byte ${fmtBytes(this.pos)} is ${fmtBytes(len)} bytes, over the ${fmtBytes(maxBytes)} limit`);
    }
    const p = this.need(len);
    if (p) await p;
    const i = this.pos - this.bufStart;
    const s = utf8.decode(this.buf.subarray(i, i + len));
    this.pos = payloadEnd;
    return s;
  }

  /**
   * Counts the varints in a packed payload [pos, payloadEnd) by streaming through it; leaves pos
   * at payloadEnd. Counts the bytes without a continuation bit, which is exact for a well-formed
   * payload and checked against the last byte otherwise.
   */
  async countPackedVarints(payloadEnd: number): Promise<number> {
    let count = 0;
    while (this.pos < payloadEnd) {
      const p = this.need(Math.min(this.windowBytes, payloadEnd - this.pos));
      if (p) await p;
      const i0 = this.pos - this.bufStart;
      const i1 = Math.min(this.buf.length, i0 + (payloadEnd - this.pos));
      for (let i = i0; i < i1; i++) if (!(this.buf[i]! & 0x80)) count++;
      this.pos += i1 - i0;
    }
    if (payloadEnd > 0) {
      this.pos = payloadEnd - 1;
      const p = this.need(1);
      if (p) await p;
      if (this.byteAt(this.pos, payloadEnd) & 0x80) this.fail('bad-protobuf', `packed varints end mid-value at byte ${fmtBytes(payloadEnd)}`);
      this.pos = payloadEnd;
    }
    return count;
  }
}
