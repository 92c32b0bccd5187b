import type { TypedEncoding } from './onnx-schema';

/** Where a tensor's values live; recorded at open, read only when the tensor is asked for. */
export type OnnxTensorData =
  /** raw_data in the .onnx file: exact absolute offset and length. */
  | { kind: 'raw'; offset: number; length: number }
  /**
   * Values in a typed field (float_data, int32_data, ..., or a Constant's value_floats): the
   * enclosing message's byte range, re-parsed at read because a repeated field may be split
   * into several packed or unpacked runs.
   */
  | { kind: 'typed'; msgOffset: number; msgLength: number; field: number; encoding: TypedEncoding; signed: boolean; byteLength: number }
  /** External data file, bounds-checked at open. */
  | { kind: 'external'; location: string; offset: number; length: number }
  /** Zero elements, or nothing WeightLens can read (strings, undefined type, segments). */
  | { kind: 'empty' }
  | { kind: 'none' };

export interface OnnxConsumer {
  op: string;
  input: number;
  attrs?: Record<string, number | number[] | string>;
}

export interface OnnxTensor {
  /** Unique name in the TensorSource (the stored name unless it repeats). */
  name: string;
  dims: number[];
  count: number;
  dtype: string;
  decodable: boolean;
  note?: string;
  data: OnnxTensorData;
  byteLength: number;
  consumer?: OnnxConsumer;
}
