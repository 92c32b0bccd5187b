/**
 * Named safety limits for hostile input. Readers check these before every allocation so that
 * a crafted file cannot make WeightLens allocate gigabytes or loop for minutes.
 */

/** safetensors' own reference implementation refuses headers over 100 MB. */
export const MAX_SAFETENSORS_HEADER_BYTES = 100_000_000;

/** The largest real checkpoints have ~10^5 tensors (MoE LLMs); 10^6 leaves headroom. */
export const MAX_TENSOR_COUNT = 1_000_000;

/** No real weight tensor has more than 8 dims (conv3d + groups is 6). */
export const MAX_TENSOR_RANK = 8;

/** Float32Array is capped by the JS engine near 2^31 elements; we decode one tensor at a time. */
export const MAX_TENSOR_ELEMENTS = 2 ** 31 - 1;

/** One decoded tensor read at once: 8 GB of float64 is already more than a tab can hold. */
export const MAX_TENSOR_BYTES = 8 * 2 ** 30;

/** JSON index files (sharded safetensors) are a few hundred KB in practice. */
export const MAX_INDEX_JSON_BYTES = 64 * 2 ** 20;

/** Pickle streams in PyTorch zips describe structure only (tensors live elsewhere). */
export const MAX_PICKLE_BYTES = 256 * 2 ** 20;

/** Pickle memo / stack growth bound. */
export const MAX_PICKLE_OPS = 50_000_000;

/** GGUF metadata: key/value counts and string/array lengths. */
export const MAX_GGUF_KV_COUNT = 1_000_000;
export const MAX_GGUF_STRING_BYTES = 64 * 2 ** 20;
export const MAX_GGUF_ARRAY_LENGTH = 50_000_000;

/** Zip: central directory entries; a decompressed member we hold in memory at once (pickles, npy headers). */
export const MAX_ZIP_ENTRIES = 1_000_000;

/** ONNX protobuf nesting (subgraphs inside If/Loop/Scan). */
export const MAX_PROTOBUF_DEPTH = 64;

/** Bytes of a structure read into memory at once when parsing ONNX metadata (not raw tensor data). */
export const MAX_ONNX_METADATA_BYTES = 512 * 2 ** 20;

/** Shards of one sharded checkpoint: the largest public models use a few hundred; each is a file handle or HTTP probe. */
export const MAX_SHARD_COUNT = 10_000;

/**
 * GGUF header (metadata + tensor table) bytes held while parsing: the largest real headers
 * (256k-token vocab plus merges) are ~30 MB; the per-item limits alone would allow far more.
 */
export const MAX_GGUF_HEADER_BYTES = 256 * 2 ** 20;

/** GGUF arrays may nest; real files nest at most once, and a deep chain would overflow the stack. */
export const MAX_GGUF_ARRAY_DEPTH = 16;

/** Linear assignment cost matrix cells (8192²): weight matching never needs more than the widest layer squared. */
export const MAX_ASSIGNMENT_CELLS = 2 ** 26;
