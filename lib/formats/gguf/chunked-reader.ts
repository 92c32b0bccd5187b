import { fmtBytes } from '../../base/assert';
import { FormatError, LimitError, throwIfAborted } from '../../base/errors';
import type { ByteSource } from '../../io/byte-source';

/** First read covers a small header in one request; later reads grow so a 30 MB vocab costs few. */
const FIRST_CHUNK_BYTES = 256 * 1024;
const MAX_CHUNK_BYTES = 8 * 2 ** 20;

const decoder = new TextDecoder('utf-8');

/**
 * Sequential little-endian reads over a ByteSource, fetched in growing chunks: the GGUF header
 * has no length prefix, so it is parsed as it streams in. Skips past unwanted values without
 * reading them. Every fetch is checked against the file size and `limit` first, so a declared
 * length never turns into an allocation the file cannot back.
 *
 * Two styles: `await r.u32(what)` for convenience, and for hot loops (a 100k-tensor table, a
 * 256k-string vocab) `if (!r.has(n)) await r.fill(n, what)` followed by the synchronous `*Now`
 * getters, which avoids a promise per field.
 */
export class ChunkedReader {
  pos = 0;
  private buf: Uint8Array = new Uint8Array(0);
  private view: DataView = new DataView(this.buf.buffer);
  private bufStart = 0;
  private nextChunk = FIRST_CHUNK_BYTES;

  constructor(
    readonly src: ByteSource,
    /** Bytes past which nothing is read into memory (MAX_GGUF_HEADER_BYTES). */
    readonly limit: number,
    private readonly signal?: AbortSignal,
  ) {}

  get remaining(): number {
    return this.src.size - this.pos;
  }

  /** Throws FormatError('truncated') unless `n` bytes remain; `what` names the structure. */
  ensureRemaining(n: number, what: string): void {
    if (!(n <= this.remaining)) {
      throw new FormatError(
        'truncated',
        `${this.src.name}: ${what} needs bytes ${fmtBytes(this.pos)}..${fmtBytes(this.pos + n)}, file has ${fmtBytes(this.src.size)}`,
      );
    }
  }

  /** Whether the `n` bytes at `pos` are already buffered. */
  has(n: number): boolean {
    const rel = this.pos - this.bufStart;
    return rel >= 0 && rel + n <= this.buf.length;
  }

  /** Buffers the `n` bytes at `pos` (and usually more). */
  async fill(n: number, what: string): Promise<void> {
    if (this.has(n)) return;
    this.ensureRemaining(n, what);
    if (this.pos + n > this.limit) {
      throw new LimitError('header-too-large', `${this.src.name}: header runs past ${fmtBytes(this.limit)} bytes while reading ${what}`);
    }
    throwIfAborted(this.signal);
    const len = Math.min(Math.max(n, this.nextChunk), this.remaining, this.limit - this.pos);
    this.nextChunk = Math.min(this.nextChunk * 2, MAX_CHUNK_BYTES);
    const bytes = await this.src.read(this.pos, len, this.signal);
    this.buf = bytes;
    this.bufStart = this.pos;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  skip(n: number, what: string): void {
    this.ensureRemaining(n, what);
    this.pos += n;
  }

  // Synchronous getters: the bytes must be buffered (has/fill) first.
  private take(n: number): number {
    if (!this.has(n)) throw new Error(`ChunkedReader: ${n} bytes at ${this.pos} read before fill`);
    const rel = this.pos - this.bufStart;
    this.pos += n;
    return rel;
  }
  u8Now(): number { return this.view.getUint8(this.take(1)); }
  i8Now(): number { return this.view.getInt8(this.take(1)); }
  u16Now(): number { return this.view.getUint16(this.take(2), true); }
  i16Now(): number { return this.view.getInt16(this.take(2), true); }
  u32Now(): number { return this.view.getUint32(this.take(4), true); }
  i32Now(): number { return this.view.getInt32(this.take(4), true); }
  f32Now(): number { return this.view.getFloat32(this.take(4), true); }
  f64Now(): number { return this.view.getFloat64(this.take(8), true); }
  u64bigNow(): bigint { return this.view.getBigUint64(this.take(8), true); }
  i64bigNow(): bigint { return this.view.getBigInt64(this.take(8), true); }
  /**
   * A u64 as a number. Values of 2^53 and above come back inexact but still >= 2^53, so they
   * fail `Number.isSafeInteger` and every limit comparison, which is all callers need.
   */
  u64Now(): number { return Number(this.u64bigNow()); }
  bytesNow(n: number): Uint8Array {
    const rel = this.take(n);
    return this.buf.subarray(rel, rel + n);
  }
  /** UTF-8 text (invalid sequences become U+FFFD rather than failing the file). */
  textNow(n: number): string { return decoder.decode(this.bytesNow(n)); }

  /**
   * A whole GGUF string (u64 length + bytes) when it is already buffered and at most
   * `maxBytes` long; otherwise undefined, with `pos` unmoved, for the caller's checked path.
   */
  stringNow(maxBytes: number): string | undefined {
    if (!this.has(8)) return undefined;
    const len = Number(this.view.getBigUint64(this.pos - this.bufStart, true));
    if (len > maxBytes || !this.has(8 + len)) return undefined;
    this.pos += 8;
    return this.textNow(len);
  }

  // Asynchronous getters: fetch when needed, then read.
  async bytes(n: number, what: string): Promise<Uint8Array> {
    if (!this.has(n)) await this.fill(n, what);
    return this.bytesNow(n);
  }
  async text(n: number, what: string): Promise<string> {
    return decoder.decode(await this.bytes(n, what));
  }
  async u32(what: string): Promise<number> {
    if (!this.has(4)) await this.fill(4, what);
    return this.u32Now();
  }
  async u64(what: string): Promise<number> {
    if (!this.has(8)) await this.fill(8, what);
    return this.u64Now();
  }

  /**
   * Walks past `count` GGUF strings (u64 length + bytes), each at most `maxBytes`. A tokenizer
   * vocab is hundreds of thousands of these: lengths are read straight from the buffer, and the
   * reader only awaits a fetch when a length itself lies outside it (string bodies are skipped).
   */
  async skipStrings(count: number, maxBytes: number, what: string, onTooLong: (len: number) => Error): Promise<void> {
    for (let i = 0; i < count; i++) {
      if (!this.has(8)) await this.fill(8, `${what} string length`);
      const len = this.u64Now();
      if (len > maxBytes) throw onTooLong(len);
      this.skip(len, what);
    }
  }
}
