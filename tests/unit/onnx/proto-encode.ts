/**
 * Test helper: a tiny protobuf / ONNX encoder so every test builds its model byte by byte.
 * Deliberately naive (arrays of numbers) and independent of the reader under test.
 */

export type Bytes = number[];

export function varint(v: number | bigint): Bytes {
  let n = BigInt.asUintN(64, BigInt(v));
  const out: Bytes = [];
  do {
    let b = Number(n & 0x7fn);
    n >>= 7n;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

export const cat = (...parts: Bytes[]): Bytes => parts.flat();
export const key = (field: number, wire: number): Bytes => varint(field * 8 + wire);
export const fVarint = (field: number, v: number | bigint): Bytes => cat(key(field, 0), varint(v));
export const fLen = (field: number, payload: Bytes): Bytes => cat(key(field, 2), varint(payload.length), payload);
export const utf8 = (s: string): Bytes => [...new TextEncoder().encode(s)];
export const fStr = (field: number, s: string): Bytes => fLen(field, utf8(s));
export function f32le(values: number[]): Bytes {
  const b = new Uint8Array(values.length * 4);
  const dv = new DataView(b.buffer);
  values.forEach((v, i) => dv.setFloat32(i * 4, v, true));
  return [...b];
}
export function f64le(values: number[]): Bytes {
  const b = new Uint8Array(values.length * 8);
  const dv = new DataView(b.buffer);
  values.forEach((v, i) => dv.setFloat64(i * 8, v, true));
  return [...b];
}
export const fFixed32 = (field: number, v: number): Bytes => cat(key(field, 5), f32le([v]));

// ---- ONNX messages (field numbers from onnx.proto, written out again on purpose) ----------

export interface TensorSpec {
  name?: string;
  dims?: (number | bigint)[];
  dataType?: number;
  raw?: Bytes;
  floatData?: number[];
  int32Data?: number[];
  int64Data?: (number | bigint)[];
  doubleData?: number[];
  uint64Data?: (number | bigint)[];
  /** Write the typed field unpacked (one tag per value) instead of packed. */
  unpacked?: boolean;
  external?: Record<string, string>;
  extra?: Bytes;
}

export function tensor(t: TensorSpec): Bytes {
  const parts: Bytes[] = [];
  for (const d of t.dims ?? []) parts.push(fVarint(1, d));
  if (t.dataType !== undefined) parts.push(fVarint(2, t.dataType));
  if (t.name !== undefined) parts.push(fStr(8, t.name));
  if (t.floatData) parts.push(t.unpacked ? cat(...t.floatData.map((v) => fFixed32(4, v))) : fLen(4, f32le(t.floatData)));
  const vints = (field: number, vals: (number | bigint)[]) =>
    t.unpacked ? cat(...vals.map((v) => fVarint(field, v))) : fLen(field, cat(...vals.map((v) => varint(v))));
  if (t.int32Data) parts.push(vints(5, t.int32Data));
  if (t.int64Data) parts.push(vints(7, t.int64Data));
  if (t.uint64Data) parts.push(vints(11, t.uint64Data));
  if (t.doubleData) parts.push(fLen(10, f64le(t.doubleData)));
  if (t.raw) parts.push(fLen(9, t.raw));
  if (t.external) {
    for (const [k, v] of Object.entries(t.external)) parts.push(fLen(13, cat(fStr(1, k), fStr(2, v))));
    parts.push(fVarint(14, 1));
  }
  if (t.extra) parts.push(t.extra);
  return cat(...parts);
}

export type Attr = Bytes;
export const attrInt = (name: string, v: number): Attr => cat(fStr(1, name), fVarint(20, 2), fVarint(3, v));
export const attrInts = (name: string, vs: number[]): Attr => cat(fStr(1, name), fVarint(20, 7), fLen(8, cat(...vs.map((v) => varint(v)))));
export const attrFloats = (name: string, vs: number[]): Attr => cat(fStr(1, name), fVarint(20, 6), fLen(7, f32le(vs)));
export const attrFloat = (name: string, v: number): Attr => cat(fStr(1, name), fVarint(20, 1), fFixed32(2, v));
export const attrTensor = (name: string, t: Bytes): Attr => cat(fStr(1, name), fVarint(20, 4), fLen(5, t));
export const attrGraph = (name: string, g: Bytes): Attr => cat(fStr(1, name), fVarint(20, 5), fLen(6, g));

export interface NodeSpec {
  op: string;
  name?: string;
  inputs?: string[];
  outputs?: string[];
  attrs?: Attr[];
}

export function node(n: NodeSpec): Bytes {
  return cat(
    ...(n.inputs ?? []).map((s) => fStr(1, s)),
    ...(n.outputs ?? []).map((s) => fStr(2, s)),
    n.name !== undefined ? fStr(3, n.name) : [],
    fStr(4, n.op),
    ...(n.attrs ?? []).map((a) => fLen(5, a)),
  );
}

/** ValueInfoProto with a float tensor type of the given shape. */
export function valueInfo(name: string, dims: number[], elemType = 1): Bytes {
  const shape = cat(...dims.map((d) => fLen(1, fVarint(1, d))));
  const tensorType = cat(fVarint(1, elemType), fLen(2, shape));
  return cat(fStr(1, name), fLen(2, fLen(1, tensorType)));
}

export interface GraphSpec {
  name?: string;
  nodes?: Bytes[];
  initializers?: Bytes[];
  inputs?: Bytes[];
  outputs?: Bytes[];
}

export function graph(g: GraphSpec): Bytes {
  return cat(
    ...(g.nodes ?? []).map((n) => fLen(1, n)),
    g.name !== undefined ? fStr(2, g.name) : [],
    ...(g.initializers ?? []).map((t) => fLen(5, t)),
    ...(g.inputs ?? []).map((v) => fLen(11, v)),
    ...(g.outputs ?? []).map((v) => fLen(12, v)),
  );
}

export function model(g: Bytes, opset = 17, irVersion = 8): Uint8Array {
  return new Uint8Array(cat(fVarint(1, irVersion), fStr(2, 'weightlens-test'), fLen(7, g), fLen(8, cat(fStr(1, ''), fVarint(2, opset)))));
}
