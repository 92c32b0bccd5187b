/**
 * Test helper: writes GGUF files byte by byte (header, key/values, tensor infos, aligned data),
 * following the GGUF spec, so reader tests need no stored files. `ByteWriter` is also used
 * directly by the hostile-input tests to write headers that lie.
 */

export class ByteWriter {
  private buf = new Uint8Array(1024);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private grow(n: number): number {
    if (this.length + n > this.buf.length) {
      const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
      next.set(this.buf.subarray(0, this.length));
      this.buf = next;
      this.view = new DataView(next.buffer);
    }
    const at = this.length;
    this.length += n;
    return at;
  }

  u8(v: number): this { const at = this.grow(1); this.view.setUint8(at, v); return this; }
  i8(v: number): this { const at = this.grow(1); this.view.setInt8(at, v); return this; }
  u16(v: number): this { const at = this.grow(2); this.view.setUint16(at, v, true); return this; }
  i16(v: number): this { const at = this.grow(2); this.view.setInt16(at, v, true); return this; }
  u32(v: number): this { const at = this.grow(4); this.view.setUint32(at, v, true); return this; }
  i32(v: number): this { const at = this.grow(4); this.view.setInt32(at, v, true); return this; }
  f32(v: number): this { const at = this.grow(4); this.view.setFloat32(at, v, true); return this; }
  f64(v: number): this { const at = this.grow(8); this.view.setFloat64(at, v, true); return this; }
  u64(v: number | bigint): this { const at = this.grow(8); this.view.setBigUint64(at, BigInt(v), true); return this; }
  i64(v: number | bigint): this { const at = this.grow(8); this.view.setBigInt64(at, BigInt(v), true); return this; }
  bytes(b: Uint8Array): this {
    const at = this.grow(b.length); // grow first: it may replace this.buf
    this.buf.set(b, at);
    return this;
  }
  /** GGUF string: u64 byte length, UTF-8 bytes, no terminator. */
  str(s: string): this {
    const b = new TextEncoder().encode(s);
    return this.u64(b.length).bytes(b);
  }
  padTo(alignment: number): this {
    const pad = (alignment - (this.length % alignment)) % alignment;
    this.grow(pad);
    return this;
  }
  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

export const VALUE_TYPE = {
  u8: 0, i8: 1, u16: 2, i16: 3, u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9, u64: 10, i64: 11, f64: 12,
} as const;
export type ValueTypeName = keyof typeof VALUE_TYPE;

export type GgufValue =
  | { type: 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'f32' | 'f64'; value: number }
  | { type: 'u64' | 'i64'; value: bigint }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'array'; itemType: ValueTypeName; items: GgufValue[] };

/** Writes a value's payload (not its type tag). */
export function writeValue(w: ByteWriter, v: GgufValue): void {
  switch (v.type) {
    case 'u8': w.u8(v.value); break;
    case 'i8': w.i8(v.value); break;
    case 'u16': w.u16(v.value); break;
    case 'i16': w.i16(v.value); break;
    case 'u32': w.u32(v.value); break;
    case 'i32': w.i32(v.value); break;
    case 'f32': w.f32(v.value); break;
    case 'f64': w.f64(v.value); break;
    case 'u64': w.u64(v.value); break;
    case 'i64': w.i64(v.value); break;
    case 'bool': w.u8(v.value ? 1 : 0); break;
    case 'string': w.str(v.value); break;
    case 'array':
      w.u32(VALUE_TYPE[v.itemType]).u64(v.items.length);
      for (const item of v.items) {
        if (item.type !== v.itemType) throw new Error(`array of ${v.itemType} holds a ${item.type}`);
        writeValue(w, item);
      }
      break;
  }
}

export interface TensorSpec {
  name: string;
  /** GGUF order: ne[0] is the row length (fastest-varying). */
  ne: (number | bigint)[];
  /** GGML type id. */
  type: number;
  data: Uint8Array;
  /** Data offset relative to the data section; by default each tensor follows the last, aligned. */
  offset?: number | bigint;
}

export interface GgufSpec {
  version?: number;
  kv?: [string, GgufValue][];
  tensors?: TensorSpec[];
}

/** A complete GGUF file; tensor data is laid out with `general.alignment` (default 32). */
export function buildGguf(spec: GgufSpec): Uint8Array {
  const kv = spec.kv ?? [];
  const tensors = spec.tensors ?? [];
  const alignKv = kv.find(([k]) => k === 'general.alignment');
  const alignment = alignKv && 'value' in alignKv[1] ? Number(alignKv[1].value) : 32;

  const w = new ByteWriter();
  w.bytes(new TextEncoder().encode('GGUF')).u32(spec.version ?? 3).u64(tensors.length).u64(kv.length);
  for (const [key, value] of kv) {
    w.str(key).u32(VALUE_TYPE[value.type]);
    writeValue(w, value);
  }
  let next = 0;
  const offsets: number[] = [];
  for (const t of tensors) {
    const offset = t.offset === undefined ? next : Number(t.offset);
    offsets.push(offset);
    next = Math.ceil((offset + t.data.length) / alignment) * alignment;
    w.str(t.name).u32(t.ne.length);
    for (const d of t.ne) w.u64(d);
    w.u32(t.type).u64(t.offset ?? offset);
  }
  w.padTo(alignment);
  const dataStart = w.length;
  const dataEnd = Math.max(0, ...tensors.map((t, i) => offsets[i]! + t.data.length));
  const file = new Uint8Array(dataStart + dataEnd);
  file.set(w.finish());
  tensors.forEach((t, i) => file.set(t.data, dataStart + offsets[i]!));
  return file;
}
