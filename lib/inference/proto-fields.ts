import { FormatError } from '../base/errors';

/**
 * A synchronous protobuf walker and a few encoders over an in-memory buffer. The inference layer
 * holds the whole ONNX file anyway (onnxruntime needs it), so it rewrites graphs by copying field
 * byte ranges verbatim and splicing in new ones, instead of decoding and re-encoding messages it
 * does not understand (attributes, subgraphs, metadata all survive untouched).
 */

export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;
export const WIRE_I32 = 5;

export interface ProtoField {
  field: number;
  wire: number;
  /** Offset of the tag: [start, end) is the whole field, copyable verbatim. */
  start: number;
  end: number;
  /** Payload of a length-delimited field; for a varint field valueStart = valueEnd = end. */
  valueStart: number;
  valueEnd: number;
  /** The value of a varint field (exact below 2^53). */
  varint: number;
}

function readVarint(buf: Uint8Array, pos: number, end: number, file: string): [number, number] {
  let v = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) throw new FormatError('bad-protobuf', `${file}: varint runs past its message at byte ${pos}`);
    const b = buf[pos++]!;
    v += (b & 0x7f) * mul;
    mul *= 128;
    if (!(b & 0x80)) return [v, pos];
  }
  throw new FormatError('bad-protobuf', `${file}: varint longer than 10 bytes at byte ${pos}`);
}

/** The fields of the message in buf[start, end), in file order. */
export function protoFields(buf: Uint8Array, start: number, end: number, file: string): ProtoField[] {
  const out: ProtoField[] = [];
  let pos = start;
  while (pos < end) {
    const fstart = pos;
    const [tag, p1] = readVarint(buf, pos, end, file);
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field < 1) throw new FormatError('bad-protobuf', `${file}: invalid field tag ${tag} at byte ${fstart}`);
    pos = p1;
    let valueStart: number;
    let valueEnd: number;
    let varint = 0;
    if (wire === WIRE_VARINT) {
      [varint, pos] = readVarint(buf, pos, end, file);
      valueStart = valueEnd = pos;
    } else if (wire === WIRE_LEN) {
      const [len, p2] = readVarint(buf, pos, end, file);
      if (p2 + len > end) throw new FormatError('bad-protobuf', `${file}: field at byte ${fstart} claims ${len} bytes, past the end of its message at byte ${end}`);
      valueStart = p2;
      valueEnd = pos = p2 + len;
    } else if (wire === WIRE_I64 || wire === WIRE_I32) {
      const n = wire === WIRE_I64 ? 8 : 4;
      if (pos + n > end) throw new FormatError('bad-protobuf', `${file}: fixed field at byte ${fstart} runs past its message`);
      valueStart = pos;
      valueEnd = pos += n;
    } else {
      throw new FormatError('bad-protobuf', `${file}: wire type ${wire} (unused by ONNX) at byte ${fstart}`);
    }
    out.push({ field, wire, start: fstart, end: pos, valueStart, valueEnd, varint });
  }
  return out;
}

const utf8d = new TextDecoder('utf-8');
const utf8e = new TextEncoder();

export function fieldString(buf: Uint8Array, f: ProtoField): string {
  return utf8d.decode(buf.subarray(f.valueStart, f.valueEnd));
}

/** Values of a repeated int64 field, packed or not. */
export function repeatedInts(buf: Uint8Array, fields: ProtoField[], field: number, file: string): number[] {
  const out: number[] = [];
  for (const f of fields) {
    if (f.field !== field) continue;
    if (f.wire === WIRE_VARINT) out.push(signed(f.varint));
    else if (f.wire === WIRE_LEN) {
      let p = f.valueStart;
      while (p < f.valueEnd) {
        const [v, np] = readVarint(buf, p, f.valueEnd, file);
        out.push(signed(v));
        p = np;
      }
    }
  }
  return out;
}

/** int64 two's complement read as unsigned → signed (exact for the small negatives ONNX uses). */
function signed(v: number): number {
  return v >= 2 ** 63 ? v - 2 ** 64 : v;
}

export function encodeVarint(v: number): number[] {
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

/** A field of wire type LEN: tag, length, payload. */
export function lenField(field: number, payload: Uint8Array): Uint8Array {
  const head = [...encodeVarint(field * 8 + WIRE_LEN), ...encodeVarint(payload.length)];
  const out = new Uint8Array(head.length + payload.length);
  out.set(head);
  out.set(payload, head.length);
  return out;
}

export function varintField(field: number, v: number): Uint8Array {
  return Uint8Array.from([...encodeVarint(field * 8 + WIRE_VARINT), ...encodeVarint(v)]);
}

export function stringField(field: number, s: string): Uint8Array {
  return lenField(field, utf8e.encode(s));
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
