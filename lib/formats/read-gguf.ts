import { LimitError, NotFoundError, UnsupportedError, throwIfAborted } from '../base/errors';
import { MAX_TENSOR_ELEMENTS } from '../base/limits';
import type { ModelInput } from '../io/byte-source';
import { GGML_DECODERS } from './gguf/dequantize';
import { buildTensorTable, type GgufTensor } from './gguf/build-tensor-table';
import { parseGgufHeader } from './gguf/parse-gguf-header';
import type { TensorSource } from './types';

/** Raw bytes fetched per request while decoding one tensor, so cancellation is prompt. */
const READ_CHUNK_BYTES = 16 * 2 ** 20;

const DECODED_TYPES = Object.keys(GGML_DECODERS).join(', ');

/**
 * GGUF (llama.cpp) reader: parses the header progressively, lists every tensor with its
 * row-major shape, and dequantizes F32/F16/BF16/F64, integer, Q4_0/Q4_1/Q5_0/Q5_1/Q8_0 and
 * Q2_K..Q6_K tensors to float32 on `read`. Other quants (IQ*, TQ*, MXFP4, ...) are listed with
 * decodable: false.
 */
export async function readGguf(input: ModelInput, signal?: AbortSignal): Promise<TensorSource> {
  const src = input.primary;
  const header = await parseGgufHeader(src, signal);
  const table = buildTensorTable(src, header);
  const byName = new Map<string, GgufTensor>(table.map((t) => [t.info.name, t]));

  const metadata: Record<string, unknown> = { 'gguf.version': header.version };
  for (const [k, v] of Object.entries(header.metadata)) {
    Object.defineProperty(metadata, k, { value: v, enumerable: true, writable: true, configurable: true });
  }

  async function read(name: string, readSignal?: AbortSignal): Promise<Float32Array> {
    const t = byName.get(name);
    if (!t) throw new NotFoundError('tensor', `${src.name}: no tensor named "${name}"`);
    if (!t.type || !t.decoder) {
      throw new UnsupportedError('gguf-type', `${src.name}: tensor "${name}" has type ${t.info.dtype}, which WeightLens does not decode (it decodes ${DECODED_TYPES})`);
    }
    if (t.elements > MAX_TENSOR_ELEMENTS) {
      throw new LimitError('tensor-elements', `${src.name}: tensor "${name}" has ${t.elements} elements, over the ${MAX_TENSOR_ELEMENTS} one float32 array can hold`);
    }
    const { blockSize, typeSize } = t.type;
    const out = new Float32Array(t.elements);
    const nBlocks = t.elements / blockSize;
    const blocksPerChunk = Math.max(1, Math.floor(READ_CHUNK_BYTES / typeSize));
    for (let b = 0; b < nBlocks; b += blocksPerChunk) {
      throwIfAborted(readSignal);
      const n = Math.min(blocksPerChunk, nBlocks - b);
      const bytes = await src.read(t.start + b * typeSize, n * typeSize, readSignal);
      t.decoder(bytes, n, out, b * blockSize);
    }
    return out;
  }

  return {
    format: 'gguf',
    name: input.label,
    tensors: table.map((t) => t.info),
    metadata,
    totalBytes: src.size,
    read,
  };
}
