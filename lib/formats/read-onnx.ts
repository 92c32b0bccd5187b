import { FormatError, LimitError, NotFoundError, UnsupportedError } from '../base/errors';
import { fmtBytes } from '../base/assert';
import { MAX_TENSOR_ELEMENTS } from '../base/limits';
import type { ByteSource, ModelInput } from '../io/byte-source';
import { normalizePath } from '../io/byte-source';
import { decodeToF32 } from './dtype';
import type { TensorInfo, TensorSource } from './types';
import { DEFAULT_SCAN_OPTIONS, scanOnnx, type OnnxScanOptions } from './onnx/scan-onnx';
import type { OnnxTensor } from './onnx/onnx-tensor';
import { readTypedValues } from './onnx/read-typed-values';

/**
 * ONNX reader: one streaming pass over the protobuf lists every weight (initializers,
 * Constant nodes, tensors inside If/Loop/Scan subgraphs, external data) with where its bytes
 * are; `read` fetches and decodes one tensor. See onnx/scan-onnx.ts for the walk.
 */
export function readOnnx(input: ModelInput, signal?: AbortSignal): Promise<TensorSource> {
  return readOnnxWith(input, {}, signal);
}

/** readOnnx with scan options (window size, limits) overridden: for tests and the bench. */
export async function readOnnxWith(input: ModelInput, options: Partial<OnnxScanOptions>, signal?: AbortSignal): Promise<TensorSource> {
  const primary = input.primary;
  const file = primary.name;
  const scan = await scanOnnx(primary, { ...DEFAULT_SCAN_OPTIONS, ...options }, signal);

  // External data files are resolved and bounds-checked now, so a missing file or a tensor past
  // the end of one is reported when the model opens, not when a chart asks for it.
  const externals = new Map<string, ByteSource>();
  for (const t of scan.tensors) {
    if (t.data.kind !== 'external') continue;
    const { location, offset, length } = t.data;
    let src = externals.get(location);
    if (!src) {
      const rel = normalizePath(location);
      if (location.startsWith('/') || location.includes('\\') || rel === '' || rel.split('/')[0] === '..') {
        throw new FormatError('missing-file', `${file}: tensor "${t.name}" points to external data "${location}", outside the model's folder`);
      }
      src = await input.resolve(rel);
      if (!src) throw new FormatError('missing-file', `${file}: tensor "${t.name}" needs external data file "${location}", which was not given`);
      externals.set(location, src);
    }
    if (offset + length > src.size) {
      throw new FormatError('bad-offsets', `${file}: tensor "${t.name}" ends at byte ${fmtBytes(offset + length)} of "${location}", file has ${fmtBytes(src.size)}`);
    }
  }

  const byName = new Map<string, OnnxTensor>(scan.tensors.map((t) => [t.name, t]));
  const tensors: TensorInfo[] = scan.tensors.map((t) => {
    const info: TensorInfo = { name: t.name, shape: t.dims, dtype: t.dtype, byteLength: t.byteLength, decodable: t.decodable };
    if (t.note) info.note = t.note;
    if (t.consumer) info.consumer = t.consumer;
    if (t.data.kind === 'external') info.file = t.data.location;
    return info;
  });
  let totalBytes = primary.size;
  for (const s of externals.values()) totalBytes += s.size;

  return {
    format: 'onnx',
    name: input.label,
    tensors,
    metadata: scan.metadata,
    totalBytes,
    async read(name, sig) {
      const t = byName.get(name);
      if (!t) throw new NotFoundError('tensor', `${file}: no tensor named "${name}"`);
      if (!t.decodable) throw new UnsupportedError('dtype', `${file}: tensor "${name}" (${t.dtype}) cannot be decoded: ${t.note ?? 'no values'}`);
      if (t.count > MAX_TENSOR_ELEMENTS) {
        throw new LimitError('tensor-elements', `${file}: tensor "${name}" has ${t.count} elements, over MAX_TENSOR_ELEMENTS`);
      }
      switch (t.data.kind) {
        case 'raw':
          return decodeToF32(t.dtype, await primary.read(t.data.offset, t.data.length, sig), t.count, file, name);
        case 'external': {
          const src = externals.get(t.data.location)!;
          return decodeToF32(t.dtype, await src.read(t.data.offset, t.data.length, sig), t.count, src.name, name);
        }
        case 'typed': {
          const bytes = await readTypedValues(primary, t.data, t.dtype, t.count, name, sig);
          return decodeToF32(t.dtype, bytes, t.count, file, name);
        }
        case 'empty':
          return new Float32Array(0);
        case 'none':
          throw new UnsupportedError('dtype', `${file}: tensor "${name}" has no values WeightLens can read`);
      }
    },
  };
}
