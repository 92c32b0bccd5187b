import { FormatError, UnsupportedError } from '../base/errors';
import { concatBytes, fieldString, lenField, protoFields, repeatedInts, stringField, varintField, WIRE_LEN, type ProtoField } from './proto-fields';

/**
 * What an ONNX graph takes and gives, and two rewrites the inference views need:
 * `initializersToInputs` (weights become graph inputs, so one session serves every point of a
 * merge path or every pruned variant) and `exposeOutputs` (intermediate values become outputs, so
 * activations can be read). Top-level graph only; subgraphs (If/Loop bodies) are copied untouched.
 */

// onnx.proto field numbers (ModelProto.graph = 7; GraphProto; ValueInfoProto; TypeProto; ...).
const MODEL_GRAPH = 7;
const GRAPH = { node: 1, initializer: 5, input: 11, output: 12, valueInfo: 13 } as const;
const NODE = { input: 1, output: 2, name: 3, opType: 4, attribute: 5 } as const;
const ATTR = { name: 1, i: 3 } as const;
const TENSOR = { dims: 1, dataType: 2, name: 8 } as const;

/** TensorProto.DataType codes → WeightLens dtype names (those the views can meet). */
const ELEM_DTYPE: Readonly<Record<number, string>> = { 1: 'F32', 2: 'U8', 3: 'I8', 4: 'U16', 5: 'I16', 6: 'I32', 7: 'I64', 9: 'BOOL', 10: 'F16', 11: 'F64', 12: 'U32', 13: 'U64', 16: 'BF16' };
const FLOAT_ELEM_TYPES = new Set([1, 10, 11, 16]);

export interface GraphValue {
  name: string;
  /** TensorProto.DataType; 0 when the graph does not say. */
  elemType: number;
  dtype: string;
  /** A number is fixed, a string symbolic, null unknown; the whole shape is null when absent. */
  shape: (number | string | null)[] | null;
}

export interface GraphNode {
  opType: string;
  name: string;
  inputs: string[];
  outputs: string[];
  /** Integer attributes (transA, transB, axis, ...). */
  ints: Record<string, number>;
}

export interface GraphInfo {
  inputs: GraphValue[];
  outputs: GraphValue[];
  /** Initializers with their dims (values are never decoded here). */
  initializers: GraphValue[];
  nodes: GraphNode[];
}

interface ParsedGraph {
  info: GraphInfo;
  /** The ModelProto fields, and the graph field among them. */
  modelFields: ProtoField[];
  graphField: ProtoField;
  graphFields: ProtoField[];
  valueInfos: GraphValue[];
}

function parseValueInfo(buf: Uint8Array, f: ProtoField, file: string): GraphValue {
  const v: GraphValue = { name: '', elemType: 0, dtype: 'unknown', shape: null };
  for (const g of protoFields(buf, f.valueStart, f.valueEnd, file)) {
    if (g.field === 1 && g.wire === WIRE_LEN) v.name = fieldString(buf, g);
    else if (g.field === 2 && g.wire === WIRE_LEN) {
      for (const t of protoFields(buf, g.valueStart, g.valueEnd, file)) {
        if (t.field !== 1 || t.wire !== WIRE_LEN) continue; // tensor_type only
        for (const tt of protoFields(buf, t.valueStart, t.valueEnd, file)) {
          if (tt.field === 1) v.elemType = tt.varint;
          else if (tt.field === 2 && tt.wire === WIRE_LEN) {
            v.shape = [];
            for (const d of protoFields(buf, tt.valueStart, tt.valueEnd, file)) {
              if (d.field !== 1 || d.wire !== WIRE_LEN) continue;
              let dim: number | string | null = null;
              for (const dd of protoFields(buf, d.valueStart, d.valueEnd, file)) {
                if (dd.field === 1) dim = dd.varint;
                else if (dd.field === 2 && dd.wire === WIRE_LEN) dim = fieldString(buf, dd);
              }
              v.shape.push(dim);
            }
          }
        }
      }
    }
  }
  v.dtype = ELEM_DTYPE[v.elemType] ?? 'unknown';
  return v;
}

function parseInitializer(buf: Uint8Array, f: ProtoField, file: string): GraphValue {
  const fields = protoFields(buf, f.valueStart, f.valueEnd, file);
  const name = fields.find((g) => g.field === TENSOR.name && g.wire === WIRE_LEN);
  const type = fields.find((g) => g.field === TENSOR.dataType);
  const elemType = type?.varint ?? 0;
  return { name: name ? fieldString(buf, name) : '', elemType, dtype: ELEM_DTYPE[elemType] ?? 'unknown', shape: repeatedInts(buf, fields, TENSOR.dims, file) };
}

function parseNode(buf: Uint8Array, f: ProtoField, file: string): GraphNode {
  const n: GraphNode = { opType: '', name: '', inputs: [], outputs: [], ints: {} };
  for (const g of protoFields(buf, f.valueStart, f.valueEnd, file)) {
    if (g.wire !== WIRE_LEN) continue;
    if (g.field === NODE.input) n.inputs.push(fieldString(buf, g));
    else if (g.field === NODE.output) n.outputs.push(fieldString(buf, g));
    else if (g.field === NODE.name) n.name = fieldString(buf, g);
    else if (g.field === NODE.opType) n.opType = fieldString(buf, g);
    else if (g.field === NODE.attribute) {
      let name = '';
      let i: number | undefined;
      for (const a of protoFields(buf, g.valueStart, g.valueEnd, file)) {
        if (a.field === ATTR.name && a.wire === WIRE_LEN) name = fieldString(buf, a);
        else if (a.field === ATTR.i && a.wire === 0) i = a.varint >= 2 ** 63 ? a.varint - 2 ** 64 : a.varint;
      }
      if (name && i !== undefined) n.ints[name] = i;
    }
  }
  return n;
}

function parse(bytes: Uint8Array, file: string): ParsedGraph {
  const modelFields = protoFields(bytes, 0, bytes.length, file);
  const graphField = modelFields.find((f) => f.field === MODEL_GRAPH && f.wire === WIRE_LEN);
  if (!graphField) throw new FormatError('bad-protobuf', `${file}: no graph in the ONNX model`);
  const graphFields = protoFields(bytes, graphField.valueStart, graphField.valueEnd, file);
  const info: GraphInfo = { inputs: [], outputs: [], initializers: [], nodes: [] };
  const valueInfos: GraphValue[] = [];
  for (const f of graphFields) {
    if (f.wire !== WIRE_LEN) continue;
    if (f.field === GRAPH.input) info.inputs.push(parseValueInfo(bytes, f, file));
    else if (f.field === GRAPH.output) info.outputs.push(parseValueInfo(bytes, f, file));
    else if (f.field === GRAPH.valueInfo) valueInfos.push(parseValueInfo(bytes, f, file));
    else if (f.field === GRAPH.initializer) info.initializers.push(parseInitializer(bytes, f, file));
    else if (f.field === GRAPH.node) info.nodes.push(parseNode(bytes, f, file));
  }
  return { info, modelFields, graphField, graphFields, valueInfos };
}

/** Inputs, outputs, initializers and nodes of the top-level graph. */
export function describeGraph(bytes: Uint8Array, file = 'model.onnx'): GraphInfo {
  return parse(bytes, file).info;
}

/**
 * Graph inputs still needing a value once `initializers` are fed: those not fed by the weights
 * model are the data inputs (usually one: the images, the tokens).
 */
export interface WeightMatch {
  /** Graph inputs fed from the weights model (same name, compatible shape). */
  matched: string[];
  /** Graph inputs the weights model does not have: the data inputs. */
  dataInputs: GraphValue[];
  /** Same name, different shape: a weights file for another architecture. */
  mismatched: { name: string; graph: GraphValue['shape']; weights: number[] }[];
}

export function matchWeights(info: GraphInfo, tensors: readonly { name: string; shape: readonly number[] }[]): WeightMatch {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const out: WeightMatch = { matched: [], dataInputs: [], mismatched: [] };
  for (const inp of info.inputs) {
    const t = byName.get(inp.name);
    if (!t) {
      out.dataInputs.push(inp);
      continue;
    }
    const ok = inp.shape === null || (inp.shape.length === t.shape.length && inp.shape.every((d, i) => typeof d !== 'number' || d === t.shape[i]));
    if (ok) out.matched.push(inp.name);
    else out.mismatched.push({ name: inp.name, graph: inp.shape, weights: [...t.shape] });
  }
  return out;
}

function encodeValueInfo(name: string, elemType: number, shape: readonly (number | string | null)[] | null): Uint8Array {
  const tensorType: Uint8Array[] = [varintField(1, elemType)];
  if (shape) {
    const dims = shape.map((d) => lenField(1, d === null ? new Uint8Array(0) : typeof d === 'number' ? varintField(1, d) : stringField(2, d)));
    tensorType.push(lenField(2, concatBytes(dims)));
  }
  return concatBytes([stringField(1, name), lenField(2, lenField(1, concatBytes(tensorType)))]);
}

/** Rebuilds the model with the graph's fields filtered and new ones appended (all else verbatim). */
function rewriteGraph(bytes: Uint8Array, p: ParsedGraph, keep: (f: ProtoField, index: number) => boolean, extra: Uint8Array[]): Uint8Array {
  const graphParts: Uint8Array[] = [];
  p.graphFields.forEach((f, i) => {
    if (keep(f, i)) graphParts.push(bytes.subarray(f.start, f.end));
  });
  graphParts.push(...extra);
  const graph = lenField(MODEL_GRAPH, concatBytes(graphParts));
  return concatBytes(p.modelFields.map((f) => (f === p.graphField ? graph : bytes.subarray(f.start, f.end))));
}

/**
 * Moves float initializers (all, or those named) into graph.input with their type and dims and
 * drops their values, so the weights are fed per run. An initializer already listed as an input
 * (IR < 4 style defaults) just loses its value.
 */
export function initializersToInputs(bytes: Uint8Array, opts: { names?: readonly string[]; file?: string } = {}): Uint8Array {
  const file = opts.file ?? 'model.onnx';
  const p = parse(bytes, file);
  const wanted = opts.names ? new Set(opts.names) : null;
  if (wanted) {
    for (const n of wanted) {
      const init = p.info.initializers.find((t) => t.name === n);
      if (!init) throw new FormatError('bad-header', `${file}: no initializer named "${n}"`);
      if (!FLOAT_ELEM_TYPES.has(init.elemType)) throw new UnsupportedError('onnx-dtype', `${file}: initializer "${n}" is ${init.dtype}, only float initializers become inputs`);
    }
  }
  const inputNames = new Set(p.info.inputs.map((v) => v.name));
  const moved = new Set<string>();
  const extra: Uint8Array[] = [];
  let initIndex = 0;
  const graphInitIndex = new Map<number, GraphValue>();
  p.graphFields.forEach((f, i) => {
    if (f.field === GRAPH.initializer && f.wire === WIRE_LEN) graphInitIndex.set(i, p.info.initializers[initIndex++]!);
  });
  for (const init of p.info.initializers) {
    if (!FLOAT_ELEM_TYPES.has(init.elemType) || (wanted && !wanted.has(init.name)) || moved.has(init.name)) continue;
    moved.add(init.name);
    if (!inputNames.has(init.name)) extra.push(lenField(GRAPH.input, encodeValueInfo(init.name, init.elemType, init.shape)));
  }
  return rewriteGraph(bytes, p, (f, i) => !(f.field === GRAPH.initializer && moved.has(graphInitIndex.get(i)?.name ?? '\0')), extra);
}

/**
 * Adds intermediate values as graph outputs, typed from the graph's value_info, inputs or
 * initializers when it has them, else as float of unknown shape (onnxruntime infers the rest).
 */
export function exposeOutputs(bytes: Uint8Array, names: readonly string[], file = 'model.onnx'): Uint8Array {
  const p = parse(bytes, file);
  const known = new Map<string, GraphValue>();
  for (const v of [...p.info.initializers, ...p.valueInfos, ...p.info.inputs]) known.set(v.name, v);
  const produced = new Set([...p.info.nodes.flatMap((n) => n.outputs), ...known.keys()]);
  const existing = new Set(p.info.outputs.map((v) => v.name));
  const extra: Uint8Array[] = [];
  for (const n of names) {
    if (existing.has(n)) continue;
    if (!produced.has(n)) throw new FormatError('bad-header', `${file}: no value named "${n}" in the graph`);
    existing.add(n);
    const v = known.get(n);
    extra.push(lenField(GRAPH.output, encodeValueInfo(n, v && v.elemType ? v.elemType : 1, v?.shape ?? null)));
  }
  return rewriteGraph(bytes, p, () => true, extra);
}

/** A Gemm/MatMul whose weight operand is a named tensor: where its input features come from. */
export interface LinearInput {
  weight: string;
  /** The activation fed to the node (X of X·W): its last axis holds the input features. */
  activation: string;
  op: 'Gemm' | 'MatMul';
  /** The weight's axis that indexes input features: 1 for Gemm transB=1 ([out, in]), else 0 ([in, out]). */
  inAxis: 0 | 1;
  node: string;
}

/**
 * The Gemm/MatMul nodes whose second operand is a weight (a graph input or initializer; pass
 * `weightNames` to restrict to a weights file's tensors) and whose first operand is not. Gemm with transA=1 is skipped: its
 * features are not on the last axis.
 */
export function linearInputs(info: GraphInfo, weightNames?: ReadonlySet<string>): LinearInput[] {
  // Without a weights file: initializers, and inputs of fully fixed shape (data inputs have a batch dim).
  const fixed = info.inputs.filter((v) => v.shape !== null && v.shape.every((d) => typeof d === 'number'));
  const tensors = weightNames ?? new Set([...fixed, ...info.initializers].map((v) => v.name));
  const out: LinearInput[] = [];
  for (const n of info.nodes) {
    if (n.opType !== 'Gemm' && n.opType !== 'MatMul') continue;
    const [a, b] = n.inputs;
    if (!a || !b || !tensors.has(b) || tensors.has(a)) continue;
    if (n.opType === 'Gemm' && (n.ints.transA ?? 0) !== 0) continue;
    const inAxis = n.opType === 'Gemm' && (n.ints.transB ?? 0) !== 0 ? 1 : 0;
    out.push({ weight: b, activation: a, op: n.opType, inAxis, node: n.name });
  }
  return out;
}
