import { FormatError, LimitError } from '../../base/errors';
import { fmtBytes } from '../../base/assert';
import { MAX_PROTOBUF_DEPTH, MAX_TENSOR_COUNT, MAX_TENSOR_RANK } from '../../base/limits';
import type { ByteSource } from '../../io/byte-source';
import { elementCount } from '../dtype';
import { MAX_FIELD_HEAD_BYTES, ProtoStream, WIRE_I32, WIRE_I64, WIRE_LEN, WIRE_VARINT } from './protobuf-reader';
import {
  ATTRIBUTE, CONSUMER_ATTR_OPS, GRAPH, MODEL, NODE, ONNX_WINDOW_BYTES, OPSET, SPARSE_TENSOR, STRING_ENTRY, TENSOR, VALUE_INFO, onnxDType,
  typedEncoding,
} from './onnx-schema';
import type { OnnxConsumer, OnnxTensor, OnnxTensorData } from './onnx-tensor';
import { describeTensor, emptyParsedTensor, type ParsedTensor } from './describe-onnx-tensor';
import { nameOnnxTensors, type GraphScope, type NodeCtx, type PathEntry, type PendingTensor } from './name-onnx-tensors';

/**
 * One streaming pass over an ONNX ModelProto that lists every tensor that can hold weights
 * (graph initializers, Constant nodes, tensor attributes, all of it inside If/Loop/Scan
 * subgraphs too) with the byte range of its values, and never keeps the values themselves.
 */

export interface OnnxScanOptions {
  /** Bytes read from the source at once while walking the structure. */
  windowBytes: number;
  maxTensorCount: number;
  maxDepth: number;
}

export { ONNX_WINDOW_BYTES };

export const DEFAULT_SCAN_OPTIONS: OnnxScanOptions = {
  windowBytes: ONNX_WINDOW_BYTES,
  maxTensorCount: MAX_TENSOR_COUNT,
  maxDepth: MAX_PROTOBUF_DEPTH,
};

/** Tensor, node and op names are identifiers; real ones are under a few hundred bytes. */
const MAX_NAME_BYTES = 64 * 2 ** 10;
/** Producer names, metadata values and string attributes we show; longer ones are skipped. */
const MAX_SHOWN_STRING_BYTES = 4 * 2 ** 10;
/** Graph input/output names kept for display. */
const MAX_LISTED_IO = 1000;
/** Integer-list attributes (kernel_shape, strides, pads) kept for the consumer hint. */
const MAX_ATTR_INTS = 64;

export interface OnnxScan {
  tensors: OnnxTensor[];
  metadata: Record<string, unknown>;
  /** Bytes read from the source while scanning. */
  bytesRead: number;
}

interface AttrResult {
  name: { name: string };
  type: number;
  msgOffset: number;
  msgLength: number;
  tensors: { t: ParsedTensor; index: number }[];
  sparse: { t: ParsedTensor; index: number }[];
  f?: number;
  i?: number;
  s?: string;
  floatsCount: number;
  intsCount: number;
  ints: number[];
  childScopes: GraphScope[];
}

export async function scanOnnx(src: ByteSource, options: OnnxScanOptions = DEFAULT_SCAN_OPTIONS, signal?: AbortSignal): Promise<OnnxScan> {
  return new OnnxScanner(src, options, signal).run();
}

class OnnxScanner {
  private readonly s: ProtoStream;
  private readonly file: string;
  private tensorsSeen = 0;
  private readonly pending: PendingTensor[] = [];
  private readonly opTypes = new Map<string, number>();
  private nodeCount = 0;
  private subgraphCount = 0;
  private readonly meta: Record<string, unknown> = {};

  constructor(
    src: ByteSource,
    private readonly opts: OnnxScanOptions,
    signal?: AbortSignal,
  ) {
    this.s = new ProtoStream(src, opts.windowBytes, signal);
    this.file = src.name;
  }

  async run(): Promise<OnnxScan> {
    const s = this.s;
    const end = s.src.size;
    const opsets: { domain: string; version: number }[] = [];
    // Maps, not objects, for names from the file: a key like "__proto__" must stay a plain key.
    const props = new Map<string, string>();
    let graphs = 0;
    const top: GraphScope = { consumers: new Map() };
    while (s.pos < end) {
      await this.head();
      const t = s.tag(end);
      const field = Math.floor(t / 8);
      const wire = t % 8;
      switch (field) {
        case MODEL.irVersion:
          this.expect(wire, WIRE_VARINT, 'ModelProto.ir_version');
          s.varint(end);
          this.meta.irVersion = s.lastSigned;
          break;
        case MODEL.producerName:
        case MODEL.producerVersion:
        case MODEL.domain: {
          this.expect(wire, WIRE_LEN, 'ModelProto string');
          const key = field === MODEL.producerName ? 'producerName' : field === MODEL.producerVersion ? 'producerVersion' : 'domain';
          this.meta[key] = await this.shownString(end);
          break;
        }
        case MODEL.modelVersion:
          this.expect(wire, WIRE_VARINT, 'ModelProto.model_version');
          s.varint(end);
          this.meta.modelVersion = s.lastSigned;
          break;
        case MODEL.opsetImport: {
          this.expect(wire, WIRE_LEN, 'ModelProto.opset_import');
          const e = s.lengthDelimited(end);
          opsets.push(await this.opset(e, 1));
          break;
        }
        case MODEL.metadataProps: {
          this.expect(wire, WIRE_LEN, 'ModelProto.metadata_props');
          const e = s.lengthDelimited(end);
          const [k, v] = await this.stringEntry(e, 1, MAX_SHOWN_STRING_BYTES);
          props.set(k, v);
          break;
        }
        case MODEL.graph: {
          this.expect(wire, WIRE_LEN, 'ModelProto.graph');
          if (graphs++ > 0) s.fail('bad-protobuf', 'more than one main graph');
          const e = s.lengthDelimited(end);
          await this.graph(e, 1, top, []);
          break;
        }
        default:
          s.skip(wire, end);
      }
    }
    if (graphs === 0) s.fail('bad-protobuf', 'not an ONNX model (no graph found)');
    this.meta.opsetImport = opsets;
    if (props.size) this.meta.metadataProps = Object.fromEntries(props);
    this.meta.nodeCount = this.nodeCount;
    this.meta.subgraphCount = this.subgraphCount;
    this.meta.opTypes = Object.fromEntries([...this.opTypes].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)));
    return { tensors: nameOnnxTensors(this.pending), metadata: this.meta, bytesRead: s.bytesRead };
  }

  // ---- messages -------------------------------------------------------------------------

  private async graph(end: number, depth: number, scope: GraphScope, path: PathEntry[]): Promise<void> {
    this.depth(depth);
    const s = this.s;
    const isMain = path.length === 0;
    const inputs: string[] = [];
    const outputs: string[] = [];
    while (s.pos < end) {
      await this.head();
      const t = s.tag(end);
      const field = Math.floor(t / 8);
      const wire = t % 8;
      switch (field) {
        case GRAPH.node: {
          this.expect(wire, WIRE_LEN, 'GraphProto.node');
          const e = s.lengthDelimited(end);
          await this.node(e, depth + 1, scope, path);
          break;
        }
        case GRAPH.name:
          this.expect(wire, WIRE_LEN, 'GraphProto.name');
          if (isMain) this.meta.graphName = await this.shownString(end);
          else s.skip(wire, end);
          break;
        case GRAPH.initializer: {
          this.expect(wire, WIRE_LEN, 'GraphProto.initializer');
          const e = s.lengthDelimited(end);
          const t = await this.tensor(e, depth + 1);
          this.add(t, 'initializer', path, scope);
          break;
        }
        case GRAPH.sparseInitializer: {
          this.expect(wire, WIRE_LEN, 'GraphProto.sparse_initializer');
          const e = s.lengthDelimited(end);
          const t = await this.sparseTensor(e, depth + 1);
          this.addSparse(t, 'sparse initializer', path, scope);
          break;
        }
        case GRAPH.input:
        case GRAPH.output: {
          this.expect(wire, WIRE_LEN, 'GraphProto.input/output');
          const e = s.lengthDelimited(end);
          const list = field === GRAPH.input ? inputs : outputs;
          if (isMain && list.length < MAX_LISTED_IO) list.push(await this.valueInfoName(e, depth + 1));
          else s.pos = e;
          break;
        }
        default:
          s.skip(wire, end);
      }
    }
    if (isMain) {
      this.meta.graphInputs = inputs;
      this.meta.graphOutputs = outputs;
    }
  }

  private async node(end: number, depth: number, scope: GraphScope, path: PathEntry[]): Promise<void> {
    this.depth(depth);
    const s = this.s;
    const node: NodeCtx = { name: '', op: '', inputs: [], outputs: [] };
    const attrs: AttrResult[] = [];
    while (s.pos < end) {
      await this.head();
      const t = s.tag(end);
      const field = Math.floor(t / 8);
      const wire = t % 8;
      switch (field) {
        case NODE.input:
          this.expect(wire, WIRE_LEN, 'NodeProto.input');
          node.inputs.push(await s.string(end, MAX_NAME_BYTES, 'a node input name'));
          break;
        case NODE.output:
          this.expect(wire, WIRE_LEN, 'NodeProto.output');
          node.outputs.push(await s.string(end, MAX_NAME_BYTES, 'a node output name'));
          break;
        case NODE.name:
          this.expect(wire, WIRE_LEN, 'NodeProto.name');
          node.name = await s.string(end, MAX_NAME_BYTES, 'a node name');
          break;
        case NODE.opType:
          this.expect(wire, WIRE_LEN, 'NodeProto.op_type');
          node.op = await s.string(end, MAX_NAME_BYTES, 'an op type');
          break;
        case NODE.attribute: {
          this.expect(wire, WIRE_LEN, 'NodeProto.attribute');
          const e = s.lengthDelimited(end);
          attrs.push(await this.attribute(e, depth + 1, node, path));
          break;
        }
        default:
          s.skip(wire, end);
      }
    }
    this.nodeCount++;
    this.opTypes.set(node.op, (this.opTypes.get(node.op) ?? 0) + 1);

    // The first consumer of each input, in graph order; a node's own inputs come before what
    // its subgraphs read from the outer scope.
    let hint: Record<string, number | number[] | string> | undefined;
    if (CONSUMER_ATTR_OPS.has(node.op)) {
      const entries: [string, number | number[] | string][] = [];
      for (const a of attrs) {
        if (a.i !== undefined) entries.push([a.name.name, a.i]);
        else if (a.f !== undefined) entries.push([a.name.name, a.f]);
        else if (a.s !== undefined) entries.push([a.name.name, a.s]);
        else if (a.intsCount > 0 && a.ints.length === a.intsCount) entries.push([a.name.name, a.ints]);
      }
      // fromEntries defines own properties, so an attribute named "__proto__" stays data.
      hint = Object.fromEntries(entries);
    }
    node.inputs.forEach((name, input) => {
      if (name === '' || scope.consumers.has(name)) return;
      const c: OnnxConsumer & { identityOut?: string } = { op: node.op, input };
      if (hint) c.attrs = hint;
      if (node.op === 'Identity' && node.outputs[0]) c.identityOut = node.outputs[0];
      scope.consumers.set(name, c);
    });
    for (const a of attrs) {
      for (const child of a.childScopes) {
        for (const [k, v] of child.consumers) if (!scope.consumers.has(k)) scope.consumers.set(k, v);
      }
    }

    const label = node.name || node.outputs[0] || node.op || 'node';
    for (const a of attrs) {
      const attr = a.name.name;
      if (node.op === 'Constant') {
        const out = node.outputs[0] || `${label}.${attr}`;
        for (const { t } of a.tensors) this.add({ ...t, name: out }, 'Constant node', path, scope);
        for (const { t } of a.sparse) this.addSparse({ ...t, name: out }, 'Constant node (sparse_value)', path, scope);
        if (attr === 'value_float' || attr === 'value_floats' || attr === 'value_int' || attr === 'value_ints') {
          this.addAttrValues(a, out, path, scope);
        }
      } else {
        for (const { t, index } of a.tensors) {
          const name = `${label}.${attr}${index >= 0 ? `[${index}]` : ''}`;
          this.add({ ...t, name }, `attribute "${attr}" of ${node.op} node "${node.name}"`, path, scope);
        }
        for (const { t, index } of a.sparse) {
          const name = `${label}.${attr}${index >= 0 ? `[${index}]` : ''}`;
          this.addSparse({ ...t, name }, `sparse attribute "${attr}" of ${node.op} node "${node.name}"`, path, scope);
        }
      }
    }
  }

  private async attribute(end: number, depth: number, node: NodeCtx, path: PathEntry[]): Promise<AttrResult> {
    this.depth(depth);
    const s = this.s;
    const a: AttrResult = {
      name: { name: '' }, type: 0, msgOffset: s.pos, msgLength: end - s.pos,
      tensors: [], sparse: [], floatsCount: 0, intsCount: 0, ints: [], childScopes: [],
    };
    let listIndex = 0;
    while (s.pos < end) {
      await this.head();
      const t = s.tag(end);
      const field = Math.floor(t / 8);
      const wire = t % 8;
      switch (field) {
        case ATTRIBUTE.name:
          this.expect(wire, WIRE_LEN, 'AttributeProto.name');
          a.name.name = await s.string(end, MAX_NAME_BYTES, 'an attribute name');
          break;
        case ATTRIBUTE.type:
          this.expect(wire, WIRE_VARINT, 'AttributeProto.type');
          a.type = s.varint(end);
          break;
        case ATTRIBUTE.f:
          this.expect(wire, WIRE_I32, 'AttributeProto.f');
          a.f = s.float32(end);
          break;
        case ATTRIBUTE.i:
          this.expect(wire, WIRE_VARINT, 'AttributeProto.i');
          s.varint(end);
          a.i = s.lastSigned;
          break;
        case ATTRIBUTE.s:
          this.expect(wire, WIRE_LEN, 'AttributeProto.s');
          a.s = await this.shownString(end);
          break;
        case ATTRIBUTE.t:
        case ATTRIBUTE.tensors: {
          this.expect(wire, WIRE_LEN, 'AttributeProto.t');
          const e = s.lengthDelimited(end);
          a.tensors.push({ t: await this.tensor(e, depth + 1), index: field === ATTRIBUTE.t ? -1 : listIndex++ });
          break;
        }
        case ATTRIBUTE.sparseTensor: {
          this.expect(wire, WIRE_LEN, 'AttributeProto.sparse_tensor');
          const e = s.lengthDelimited(end);
          a.sparse.push({ t: await this.sparseTensor(e, depth + 1), index: -1 });
          break;
        }
        case ATTRIBUTE.g:
        case ATTRIBUTE.graphs: {
          this.expect(wire, WIRE_LEN, 'AttributeProto.g');
          const e = s.lengthDelimited(end);
          const child: GraphScope = { consumers: new Map() };
          a.childScopes.push(child);
          this.subgraphCount++;
          const index = field === ATTRIBUTE.g ? -1 : a.childScopes.length - 1;
          await this.graph(e, depth + 1, child, [...path, { node, attr: a.name, index }]);
          break;
        }
        case ATTRIBUTE.floats:
          if (wire === WIRE_LEN) {
            const e = s.lengthDelimited(end);
            if ((e - s.pos) % 4 !== 0) s.fail('bad-protobuf', `packed floats of ${e - s.pos} bytes at byte ${fmtBytes(s.pos)} is not a multiple of 4`);
            a.floatsCount += (e - s.pos) / 4;
            s.pos = e;
          } else {
            this.expect(wire, WIRE_I32, 'AttributeProto.floats');
            s.float32(end);
            a.floatsCount++;
          }
          break;
        case ATTRIBUTE.ints:
          if (wire === WIRE_LEN) {
            const e = s.lengthDelimited(end);
            if (e - s.pos <= MAX_ATTR_INTS) {
              // Short lists (kernel_shape, strides) are kept for the consumer hint.
              const p = s.need(e - s.pos);
              if (p) await p;
              while (s.pos < e) {
                s.varint(e);
                a.ints.push(s.lastSigned);
                a.intsCount++;
              }
            } else a.intsCount += await s.countPackedVarints(e);
          } else {
            this.expect(wire, WIRE_VARINT, 'AttributeProto.ints');
            s.varint(end);
            if (a.ints.length < MAX_ATTR_INTS) a.ints.push(s.lastSigned);
            a.intsCount++;
          }
          break;
        default:
          s.skip(wire, end);
      }
    }
    return a;
  }

  private async tensor(end: number, depth: number): Promise<ParsedTensor> {
    this.depth(depth);
    if (++this.tensorsSeen > this.opts.maxTensorCount) {
      throw new LimitError('tensor-count', `${this.file}: more than ${this.opts.maxTensorCount} tensors (MAX_TENSOR_COUNT)`);
    }
    const s = this.s;
    const t = emptyParsedTensor(s.pos, end - s.pos);
    while (s.pos < end) {
      await this.head();
      const tag = s.tag(end);
      const field = Math.floor(tag / 8);
      const wire = tag % 8;
      switch (field) {
        case TENSOR.dims:
          if (wire === WIRE_LEN) {
            const e = s.lengthDelimited(end);
            while (s.pos < e) {
              await this.head();
              s.varint(e);
              this.pushDim(t, s.lastSigned);
            }
          } else {
            this.expect(wire, WIRE_VARINT, 'TensorProto.dims');
            s.varint(end);
            this.pushDim(t, s.lastSigned);
          }
          break;
        case TENSOR.dataType:
          this.expect(wire, WIRE_VARINT, 'TensorProto.data_type');
          s.varint(end);
          t.dataType = s.lastSigned;
          break;
        case TENSOR.name:
          this.expect(wire, WIRE_LEN, 'TensorProto.name');
          t.name = await s.string(end, MAX_NAME_BYTES, 'a tensor name');
          break;
        case TENSOR.rawData: {
          this.expect(wire, WIRE_LEN, 'TensorProto.raw_data');
          const e = s.lengthDelimited(end);
          t.raw = { offset: s.pos, length: e - s.pos };
          s.pos = e;
          break;
        }
        case TENSOR.floatData:
        case TENSOR.int32Data:
        case TENSOR.int64Data:
        case TENSOR.doubleData:
        case TENSOR.uint64Data:
          await this.typedRun(t, field, wire, end);
          break;
        case TENSOR.stringData:
          this.expect(wire, WIRE_LEN, 'TensorProto.string_data');
          s.skip(wire, end);
          t.typed.set(field, { count: 0, countKnown: false, bytes: 0 });
          break;
        case TENSOR.segment:
          t.segmented = true;
          s.skip(wire, end);
          break;
        case TENSOR.externalData: {
          this.expect(wire, WIRE_LEN, 'TensorProto.external_data');
          const e = s.lengthDelimited(end);
          const [k, v] = await this.stringEntry(e, depth + 1, MAX_NAME_BYTES);
          t.external.set(k, v);
          break;
        }
        case TENSOR.dataLocation:
          this.expect(wire, WIRE_VARINT, 'TensorProto.data_location');
          s.varint(end);
          t.dataLocation = s.lastSigned;
          break;
        default:
          s.skip(wire, end);
      }
    }
    return t;
  }

  /** One run of a repeated numeric field, packed (one length-delimited payload) or not. */
  private async typedRun(t: ParsedTensor, field: number, wire: number, end: number): Promise<void> {
    const s = this.s;
    const enc = typedEncoding(field);
    const width = enc === 'fixed32' ? 4 : enc === 'fixed64' ? 8 : 0;
    const run = t.typed.get(field) ?? { count: 0, countKnown: true, bytes: 0 };
    t.typed.set(field, run);
    if (wire === WIRE_LEN) {
      const e = s.lengthDelimited(end);
      const len = e - s.pos;
      if (width) {
        if (len % width !== 0) s.fail('bad-protobuf', `packed field ${field} of ${len} bytes at byte ${fmtBytes(s.pos)} is not a multiple of ${width}`);
        run.count += len / width;
      } else run.countKnown = false; // varints: counted when read
      run.bytes += len;
      s.pos = e;
      return;
    }
    const expected = enc === 'fixed32' ? WIRE_I32 : enc === 'fixed64' ? WIRE_I64 : WIRE_VARINT;
    this.expect(wire, expected, `TensorProto field ${field}`);
    const at = s.pos;
    s.skip(wire, end);
    run.count++;
    run.bytes += s.pos - at;
  }

  private async sparseTensor(end: number, depth: number): Promise<ParsedTensor> {
    this.depth(depth);
    const s = this.s;
    const start = s.pos;
    let values: ParsedTensor | undefined;
    const dims: number[] = [];
    while (s.pos < end) {
      await this.head();
      const tag = s.tag(end);
      const field = Math.floor(tag / 8);
      const wire = tag % 8;
      if (field === SPARSE_TENSOR.values) {
        this.expect(wire, WIRE_LEN, 'SparseTensorProto.values');
        const e = s.lengthDelimited(end);
        values = await this.tensor(e, depth + 1);
      } else if (field === SPARSE_TENSOR.dims && wire === WIRE_VARINT) {
        s.varint(end);
        this.pushDimTo(dims, s.lastSigned);
      } else if (field === SPARSE_TENSOR.dims && wire === WIRE_LEN) {
        const e = s.lengthDelimited(end);
        while (s.pos < e) {
          await this.head();
          s.varint(e);
          this.pushDimTo(dims, s.lastSigned);
        }
      } else s.skip(wire, end);
    }
    const v = values ?? emptyParsedTensor(0, 0);
    // The stored size of a sparse tensor is its whole message: values plus indices.
    return { ...v, dims, msgOffset: start, msgLength: end - start };
  }

  private async opset(end: number, depth: number): Promise<{ domain: string; version: number }> {
    this.depth(depth);
    const s = this.s;
    const o = { domain: '', version: 0 };
    while (s.pos < end) {
      await this.head();
      const tag = s.tag(end);
      const field = Math.floor(tag / 8);
      const wire = tag % 8;
      if (field === OPSET.domain && wire === WIRE_LEN) o.domain = await this.shownString(end);
      else if (field === OPSET.version && wire === WIRE_VARINT) {
        s.varint(end);
        o.version = s.lastSigned;
      }
      else s.skip(wire, end);
    }
    return o;
  }

  private async stringEntry(end: number, depth: number, maxValueBytes: number): Promise<[string, string]> {
    this.depth(depth);
    const s = this.s;
    let key = '';
    let value = '';
    while (s.pos < end) {
      await this.head();
      const tag = s.tag(end);
      const field = Math.floor(tag / 8);
      const wire = tag % 8;
      if (field === STRING_ENTRY.key && wire === WIRE_LEN) key = await s.string(end, MAX_NAME_BYTES, 'a key');
      else if (field === STRING_ENTRY.value && wire === WIRE_LEN) value = await this.boundedString(end, maxValueBytes);
      else s.skip(wire, end);
    }
    return [key, value];
  }

  private async valueInfoName(end: number, depth: number): Promise<string> {
    this.depth(depth);
    const s = this.s;
    let name = '';
    while (s.pos < end) {
      await this.head();
      const tag = s.tag(end);
      if (Math.floor(tag / 8) === VALUE_INFO.name && tag % 8 === WIRE_LEN) name = await s.string(end, MAX_NAME_BYTES, 'a value name');
      else s.skip(tag % 8, end);
    }
    return name;
  }

  // ---- helpers --------------------------------------------------------------------------

  private head(): Promise<void> | undefined {
    return this.s.need(MAX_FIELD_HEAD_BYTES);
  }

  private depth(depth: number): void {
    if (depth > this.opts.maxDepth) {
      this.s.fail('bad-protobuf', `messages nested deeper than ${this.opts.maxDepth} levels (MAX_PROTOBUF_DEPTH) at byte ${fmtBytes(this.s.pos)}`);
    }
  }

  private expect(wire: number, want: number, what: string): void {
    if (wire !== want) this.s.fail('bad-protobuf', `${what} has wire type ${wire}, expected ${want}, at byte ${fmtBytes(this.s.pos)}`);
  }

  /** A string shown in metadata: longer ones are skipped, not read. */
  private shownString(end: number): Promise<string> {
    return this.boundedString(end, MAX_SHOWN_STRING_BYTES);
  }

  private async boundedString(end: number, maxBytes: number): Promise<string> {
    const s = this.s;
    const at = s.pos;
    const e = s.lengthDelimited(end);
    if (e - s.pos > maxBytes) {
      s.pos = e;
      return `(${e - at} bytes, not shown)`;
    }
    s.pos = at;
    return s.string(end, maxBytes, 'a string');
  }

  private pushDim(t: ParsedTensor, d: number): void {
    this.pushDimTo(t.dims, d);
  }

  private pushDimTo(dims: number[], d: number): void {
    if (dims.length >= MAX_TENSOR_RANK) {
      throw new FormatError('bad-shape', `${this.file}: tensor at byte ${fmtBytes(this.s.pos)} has more than ${MAX_TENSOR_RANK} dims (MAX_TENSOR_RANK)`);
    }
    if (d < 0 || !Number.isSafeInteger(d)) {
      throw new FormatError('bad-shape', `${this.file}: tensor at byte ${fmtBytes(this.s.pos)} has dimension ${d}`);
    }
    dims.push(d);
  }

  // ---- turning parsed messages into tensors ---------------------------------------------

  private add(t: ParsedTensor, origin: string, path: PathEntry[], scope: GraphScope): void {
    const storedName = t.name;
    this.pending.push({ storedName, origin, path, scope, make: () => describeTensor(t, storedName, this.file) });
  }

  private addSparse(t: ParsedTensor, origin: string, path: PathEntry[], scope: GraphScope): void {
    const dt = onnxDType(t.dataType);
    const storedName = t.name;
    const file = this.file;
    this.pending.push({
      storedName, origin, path, scope,
      make: () => ({
        dims: t.dims, count: elementCount(t.dims, file, storedName), dtype: dt.dtype, decodable: false, reason: 'sparse, not decoded',
        data: { kind: 'none' }, byteLength: t.msgLength,
      }),
    });
  }

  /** A Constant's value_float(s) / value_int(s): numbers in the AttributeProto itself. */
  private addAttrValues(a: AttrResult, name: string, path: PathEntry[], scope: GraphScope): void {
    const attr = a.name.name;
    const isFloat = attr.startsWith('value_float');
    const isList = attr.endsWith('s');
    const count = isList ? (isFloat ? a.floatsCount : a.intsCount) : 1;
    if (!isList && (isFloat ? a.f : a.i) === undefined) {
      throw new FormatError('bad-protobuf', `${this.file}: Constant "${name}" has ${attr} without a value`);
    }
    const field = isFloat ? (isList ? ATTRIBUTE.floats : ATTRIBUTE.f) : (isList ? ATTRIBUTE.ints : ATTRIBUTE.i);
    const data: OnnxTensorData = {
      kind: 'typed', msgOffset: a.msgOffset, msgLength: a.msgLength, field,
      encoding: isFloat ? 'fixed32' : 'varint', signed: true, byteLength: a.msgLength,
    };
    this.pending.push({
      storedName: name, origin: `Constant node (${attr})`, path, scope,
      make: () => ({ dims: isList ? [count] : [], count, dtype: isFloat ? 'F32' : 'I64', decodable: true, data, byteLength: a.msgLength }),
    });
  }
}
