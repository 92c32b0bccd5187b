import { MAX_SAFETENSORS_HEADER_BYTES, MAX_TENSOR_COUNT, MAX_TENSOR_RANK, MAX_INDEX_JSON_BYTES, MAX_SHARD_COUNT } from '../../base/limits';

/**
 * Knobs of the safetensors reader. The limits default to the named ones in lib/base/limits.ts;
 * tests lower them to exercise the checks without building gigabyte inputs.
 */
export interface SafetensorsOptions {
  maxHeaderBytes?: number;
  maxTensorCount?: number;
  maxTensorRank?: number;
  maxIndexJsonBytes?: number;
  maxShardCount?: number;
  /**
   * The reference implementation also rejects holes between tensors and bytes after the last
   * tensor ("the buffer must be entirely indexed", against polyglot files). Such files are still
   * unambiguous to read, so by default WeightLens opens them and notes the gap on the tensor
   * (`TensorInfo.note`) and in `metadata["weightlens:warnings"]`; `strict` rejects them instead.
   */
  strict?: boolean;
}

export type ResolvedSafetensorsOptions = Required<SafetensorsOptions>;

export function resolveOptions(o: SafetensorsOptions = {}): ResolvedSafetensorsOptions {
  return {
    maxHeaderBytes: o.maxHeaderBytes ?? MAX_SAFETENSORS_HEADER_BYTES,
    maxTensorCount: o.maxTensorCount ?? MAX_TENSOR_COUNT,
    maxTensorRank: o.maxTensorRank ?? MAX_TENSOR_RANK,
    maxIndexJsonBytes: o.maxIndexJsonBytes ?? MAX_INDEX_JSON_BYTES,
    maxShardCount: o.maxShardCount ?? MAX_SHARD_COUNT,
    strict: o.strict ?? false,
  };
}
