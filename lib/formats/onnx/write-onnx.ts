/**
 * A minimal ONNX ModelProto encoder: one graph with nodes, typed inputs/outputs (symbolic dims
 * allowed) and optional initializers. WeightLens uses it to build small graphs whose weights are
 * graph inputs (merge curves: one session serves every interpolation point) and to write test
 * models byte by byte. Field numbers follow onnx/onnx.proto (proto2, IR version 8).
 */
import { UnsupportedError } from '../../base/errors';
import { DTYPE_BYTES } from '../dtype';

/** TensorProto.DataType codes, keyed by WeightLens' (safetensors) dtype spelling. */
export const ONNX_DATA_TYPE: Readonly<Record<string, number>> = {
  F32: 1, U8: 2, I8: 3, U16: 4, I16: 5, I32: 6, I64: 7, BOOL: 9, F16: 10, F64: 11, U32: 12, U64: 13, BF16: 16,
};

export type OnnxAttribute =
  | { kind: 'float'; value: number }
  | { kind: 'int'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'floats'; value: number[] }
  | { kind: 'ints'; value: number[] };

export interface OnnxNode {
  opType: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  /** Operator set domain; '' (default) is ai.onnx. */
  domain?: string;
  attributes?: Record<string, OnnxAttribute>;
}

export interface OnnxValueInfo {
  name: string;
  /** Element type in WeightLens spelling ('F32', 'I64', ...). */
  dtype: string;
  /** A number is a fixed dim, a string a symbolic one (e.g. 'batch'). */
  shape: (number | string)[];
}

export interface OnnxInitializer {
  name: string;
  dtype: string;
  dims: number[];
  /** Element values; written little-endian as raw_data. */
  data: ArrayBufferView;
}

export interface OnnxModelSpec {
  graphName: string;
  nodes: OnnxNode[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  initializers?: OnnxInitializer[];
  /** Default 17. */
  opset?: number;
  /** Default 8 (the IR version of opset 17, ONNX 1.12). */
  irVersion?: number;
  producerName?: string;
  producerVersion?: string;
  docString?: string;
  metadata?: Record<string, string>;
}

const WIRE_VARINT = 0;
const WIRE_I32 = 5;
const WIRE_LEN = 2;

/** Growable byte buffer with the protobuf primitives the ONNX messages need. */
class ProtoWriter {
  private buf = new Uint8Array(256);
  private len = 0;

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  private byte(b: number): void {
    this.reserve(1);
    this.buf[this.len++] = b;
  }

  /** Varint of a signed 64-bit integer; negatives take ten bytes (two's complement), as protobuf int64 does. */
  varint(v: number): void {
    if (!Number.isSafeInteger(v)) throw new RangeError(`write-onnx: ${v} is not a safe integer`);
    if (v < 0) {
      let x = BigInt.asUintN(64, BigInt(v));
      for (let i = 0; i < 10; i++) {
        const low = Number(x & 0x7fn);
        x >>= 7n;
        this.byte(x === 0n ? low : low | 0x80);
        if (x === 0n) return;
      }
      return;
    }
    // Division rather than >>> because values may exceed 2^32.
    while (v >= 0x80) {
      this.byte((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.byte(v);
  }

  tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  bytes(field: number, data: Uint8Array): void {
    this.tag(field, WIRE_LEN);
    this.varint(data.length);
    this.reserve(data.length);
    this.buf.set(data, this.len);
    this.len += data.length;
  }

  string(field: number, s: string): void {
    this.bytes(field, new TextEncoder().encode(s));
  }

  int(field: number, v: number): void {
    this.tag(field, WIRE_VARINT);
    this.varint(v);
  }

  float(field: number, v: number): void {
    this.tag(field, WIRE_I32);
    this.reserve(4);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.len, 4).setFloat32(0, v, true);
    this.len += 4;
  }

  message(field: number, build: (w: ProtoWriter) => void): void {
    const inner = new ProtoWriter();
    build(inner);
    this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function dataTypeCode(dtype: string, where: string): number {
  const code = ONNX_DATA_TYPE[dtype];
  if (code === undefined) throw new UnsupportedError('onnx-dtype', `write-onnx: ${where} has dtype ${dtype}, which the writer does not encode`);
  return code;
}

// AttributeProto: name=1, f=2, i=3, s=4, floats=7, ints=8, type=20.
const ATTR_TYPE = { float: 1, int: 2, string: 3, floats: 6, ints: 7 } as const;

function writeAttribute(w: ProtoWriter, name: string, a: OnnxAttribute): void {
  w.string(1, name);
  switch (a.kind) {
    case 'float':
      w.float(2, a.value);
      break;
    case 'int':
      w.int(3, a.value);
      break;
    case 'string':
      w.string(4, a.value);
      break;
    case 'floats':
      for (const f of a.value) w.float(7, f);
      break;
    case 'ints':
      for (const i of a.value) w.int(8, i);
      break;
  }
  w.int(20, ATTR_TYPE[a.kind]);
}

// NodeProto: input=1, output=2, name=3, op_type=4, attribute=5, domain=7.
function writeNode(w: ProtoWriter, n: OnnxNode): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  if (n.name) w.string(3, n.name);
  w.string(4, n.opType);
  for (const [name, a] of Object.entries(n.attributes ?? {})) w.message(5, (aw) => writeAttribute(aw, name, a));
  if (n.domain) w.string(7, n.domain);
}

// ValueInfoProto: name=1, type=2. TypeProto: tensor_type=1. Tensor: elem_type=1, shape=2.
// TensorShapeProto: dim=1. Dimension: dim_value=1, dim_param=2.
function writeValueInfo(w: ProtoWriter, v: OnnxValueInfo): void {
  w.string(1, v.name);
  w.message(2, (tw) =>
    tw.message(1, (tt) => {
      tt.int(1, dataTypeCode(v.dtype, `value "${v.name}"`));
      tt.message(2, (sw) => {
        for (const d of v.shape) sw.message(1, (dw) => (typeof d === 'number' ? dw.int(1, d) : dw.string(2, d)));
      });
    }),
  );
}

// TensorProto: dims=1, data_type=2, name=8, raw_data=9.
function writeInitializer(w: ProtoWriter, t: OnnxInitializer): void {
  const where = `initializer "${t.name}"`;
  const code = dataTypeCode(t.dtype, where);
  const count = t.dims.reduce((a, b) => a * b, 1);
  const expected = count * (DTYPE_BYTES[t.dtype] ?? 0);
  if (t.data.byteLength !== expected) {
    throw new RangeError(`write-onnx: ${where} has ${t.data.byteLength} bytes, dims [${t.dims.join(', ')}] × ${t.dtype} need ${expected}`);
  }
  if (!LITTLE_ENDIAN && (DTYPE_BYTES[t.dtype] ?? 1) > 1) {
    throw new UnsupportedError('big-endian', `write-onnx: ${where}: raw_data is little-endian and this platform is not`);
  }
  for (const d of t.dims) w.int(1, d);
  w.int(2, code);
  w.string(8, t.name);
  w.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
}

/** Encode a ModelProto. Output is deterministic: same spec, same bytes. */
export function writeOnnx(spec: OnnxModelSpec): Uint8Array {
  const w = new ProtoWriter();
  // ModelProto: ir_version=1, producer_name=2, producer_version=3, doc_string=6, graph=7,
  // opset_import=8, metadata_props=14.
  w.int(1, spec.irVersion ?? 8);
  if (spec.producerName) w.string(2, spec.producerName);
  if (spec.producerVersion) w.string(3, spec.producerVersion);
  if (spec.docString) w.string(6, spec.docString);
  // GraphProto: node=1, name=2, initializer=5, input=11, output=12.
  w.message(7, (g) => {
    for (const n of spec.nodes) g.message(1, (nw) => writeNode(nw, n));
    g.string(2, spec.graphName);
    for (const t of spec.initializers ?? []) g.message(5, (tw) => writeInitializer(tw, t));
    for (const v of spec.inputs) g.message(11, (vw) => writeValueInfo(vw, v));
    for (const v of spec.outputs) g.message(12, (vw) => writeValueInfo(vw, v));
  });
  // OperatorSetIdProto: domain=1 (empty = ai.onnx, omitted), version=2.
  w.message(8, (o) => o.int(2, spec.opset ?? 17));
  // StringStringEntryProto: key=1, value=2.
  for (const [k, v] of Object.entries(spec.metadata ?? {})) {
    w.message(14, (m) => {
      m.string(1, k);
      m.string(2, v);
    });
  }
  return w.finish();
}
