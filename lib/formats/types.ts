import type { ModelInput } from '../io/byte-source';

export type FormatName = 'safetensors' | 'safetensors-sharded' | 'onnx' | 'gguf' | 'npy' | 'npz' | 'pytorch';

/**
 * Element types WeightLens knows. Scalar dtypes use safetensors' spelling; GGUF block-quantized
 * types keep GGML's names (Q4_K, ...). `decodable` on TensorInfo says whether `read` decodes it.
 */
export type DType =
  | 'F64' | 'F32' | 'F16' | 'BF16' | 'F8_E4M3' | 'F8_E5M2'
  | 'I8' | 'U8' | 'I16' | 'U16' | 'I32' | 'U32' | 'I64' | 'U64' | 'BOOL'
  | string;

export interface TensorInfo {
  /** Full name as stored (safetensors key, ONNX initializer / Constant output name, ...). */
  name: string;
  shape: number[];
  dtype: DType;
  /** Stored size in bytes. */
  byteLength: number;
  /** False when WeightLens lists the tensor but cannot decode it (e.g. an exotic GGUF quant). */
  decodable: boolean;
  /** Why it is not decodable, or other remarks ("from Constant node", "in If branch"). */
  note?: string;
  /**
   * Format-level hints for the layer catalog: the op that consumes the tensor (ONNX: Conv,
   * MatMul, Gemm, LSTM, ...) and which input slot, when the format records it.
   */
  consumer?: { op: string; input: number; attrs?: Record<string, number | number[] | string> };
  /** Which file holds the bytes (sharded/external data), for display. */
  file?: string;
}

export interface TensorSource {
  format: FormatName;
  /** Display name of the model (file, folder or URL). */
  name: string;
  tensors: TensorInfo[];
  /** Format metadata, JSON-safe (safetensors __metadata__, GGUF kv pairs, ONNX producer...). */
  metadata: Record<string, unknown>;
  /** Total bytes of the files that make up the model. */
  totalBytes: number;
  /** Decode one tensor to float32, reading only its bytes. */
  read(name: string, signal?: AbortSignal): Promise<Float32Array>;
}

export interface FormatReader {
  format: FormatName;
  open(input: ModelInput, signal?: AbortSignal): Promise<TensorSource>;
}
