/**
 * The parts of onnx.proto (onnx/onnx, IR version 10) that the reader walks: field numbers of
 * the messages that can hold weights, and the TensorProto.DataType enum.
 */

/** 2 MiB windows: an 11 MB model opens in a handful of reads; a 2 GB one never sits in memory. */
export const ONNX_WINDOW_BYTES = 2 * 2 ** 20;

export const MODEL = {
  irVersion: 1,
  producerName: 2,
  producerVersion: 3,
  domain: 4,
  modelVersion: 5,
  graph: 7,
  opsetImport: 8,
  metadataProps: 14,
} as const;

export const OPSET = { domain: 1, version: 2 } as const;

export const STRING_ENTRY = { key: 1, value: 2 } as const;

export const GRAPH = {
  node: 1,
  name: 2,
  initializer: 5,
  input: 11,
  output: 12,
  sparseInitializer: 15,
} as const;

export const VALUE_INFO = { name: 1 } as const;

export const NODE = {
  input: 1,
  output: 2,
  name: 3,
  opType: 4,
  attribute: 5,
  domain: 7,
} as const;

export const ATTRIBUTE = {
  name: 1,
  f: 2,
  i: 3,
  s: 4,
  t: 5,
  g: 6,
  floats: 7,
  ints: 8,
  tensors: 10,
  graphs: 11,
  type: 20,
  sparseTensor: 22,
} as const;

export const TENSOR = {
  dims: 1,
  dataType: 2,
  segment: 3,
  floatData: 4,
  int32Data: 5,
  stringData: 6,
  int64Data: 7,
  name: 8,
  rawData: 9,
  doubleData: 10,
  uint64Data: 11,
  externalData: 13,
  dataLocation: 14,
} as const;

export const SPARSE_TENSOR = { values: 1, indices: 2, dims: 3 } as const;

export const DATA_LOCATION_EXTERNAL = 1;

/** How values sit in a typed (non-raw) field. */
export type TypedEncoding = 'fixed32' | 'fixed64' | 'varint';

export interface OnnxDType {
  /** WeightLens dtype (safetensors spelling) or the ONNX name when WeightLens does not decode it. */
  dtype: string;
  decodable: boolean;
  /** Stored bits per element in raw_data; undefined for strings. */
  bits?: number;
  /** The typed field that holds the values when raw_data is not used. */
  typedField?: number;
}

const T = TENSOR;

/** TensorProto.DataType -> our dtype. Missing entries are future types, listed as not decodable. */
export const ONNX_DTYPES: Readonly<Record<number, OnnxDType>> = {
  1: { dtype: 'F32', decodable: true, bits: 32, typedField: T.floatData },
  2: { dtype: 'U8', decodable: true, bits: 8, typedField: T.int32Data },
  3: { dtype: 'I8', decodable: true, bits: 8, typedField: T.int32Data },
  4: { dtype: 'U16', decodable: true, bits: 16, typedField: T.int32Data },
  5: { dtype: 'I16', decodable: true, bits: 16, typedField: T.int32Data },
  6: { dtype: 'I32', decodable: true, bits: 32, typedField: T.int32Data },
  7: { dtype: 'I64', decodable: true, bits: 64, typedField: T.int64Data },
  8: { dtype: 'STRING', decodable: false, typedField: T.stringData },
  9: { dtype: 'BOOL', decodable: true, bits: 8, typedField: T.int32Data },
  // float16 and bfloat16 travel as their 16-bit patterns inside int32_data.
  10: { dtype: 'F16', decodable: true, bits: 16, typedField: T.int32Data },
  11: { dtype: 'F64', decodable: true, bits: 64, typedField: T.doubleData },
  12: { dtype: 'U32', decodable: true, bits: 32, typedField: T.uint64Data },
  13: { dtype: 'U64', decodable: true, bits: 64, typedField: T.uint64Data },
  14: { dtype: 'COMPLEX64', decodable: false, bits: 64, typedField: T.floatData },
  15: { dtype: 'COMPLEX128', decodable: false, bits: 128, typedField: T.doubleData },
  16: { dtype: 'BF16', decodable: true, bits: 16, typedField: T.int32Data },
  17: { dtype: 'F8_E4M3', decodable: true, bits: 8, typedField: T.int32Data },
  18: { dtype: 'FLOAT8E4M3FNUZ', decodable: false, bits: 8, typedField: T.int32Data },
  19: { dtype: 'F8_E5M2', decodable: true, bits: 8, typedField: T.int32Data },
  20: { dtype: 'FLOAT8E5M2FNUZ', decodable: false, bits: 8, typedField: T.int32Data },
  21: { dtype: 'UINT4', decodable: false, bits: 4, typedField: T.int32Data },
  22: { dtype: 'INT4', decodable: false, bits: 4, typedField: T.int32Data },
  23: { dtype: 'FLOAT4E2M1', decodable: false, bits: 4, typedField: T.int32Data },
  24: { dtype: 'FLOAT8E8M0', decodable: false, bits: 8, typedField: T.int32Data },
  25: { dtype: 'UINT2', decodable: false, bits: 2, typedField: T.int32Data },
  26: { dtype: 'INT2', decodable: false, bits: 2, typedField: T.int32Data },
};

export function onnxDType(dataType: number): OnnxDType {
  return ONNX_DTYPES[dataType] ?? { dtype: dataType === 0 ? 'UNDEFINED' : `ONNX_TYPE_${dataType}`, decodable: false };
}

export function typedEncoding(field: number): TypedEncoding {
  if (field === T.floatData) return 'fixed32';
  if (field === T.doubleData) return 'fixed64';
  return 'varint';
}

/** Ops whose attributes the layer catalog reads to tell a Linear weight from a conv kernel or an RNN. */
export const CONSUMER_ATTR_OPS: ReadonlySet<string> = new Set([
  'Conv', 'ConvTranspose', 'ConvInteger', 'QLinearConv', 'Gemm', 'LSTM', 'GRU', 'RNN', 'Einsum',
]);
