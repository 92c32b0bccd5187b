import { FormatError, LimitError, UnsupportedError, throwIfAborted } from '../base/errors';
import { MAX_PICKLE_BYTES, MAX_TENSOR_BYTES, MAX_TENSOR_ELEMENTS } from '../base/limits';
import { fmtBytes } from '../base/assert';
import type { ModelInput } from '../io/byte-source';
import { DTYPE_BYTES, decodeToF32, elementCount } from './dtype';
import { collectTensors } from './pickle/collect-tensors';
import { unpickleTorch, type TorchTensor } from './pickle/torch-unpickle';
import { contiguousStrides, stridedGather, swapBytesInPlace } from './strided-gather';
import type { TensorInfo, TensorSource } from './types';
import { openZip, type ZipArchive, type ZipEntry } from './zip/open-zip';
import { readEntryBytes, readStoredRange } from './zip/read-zip-entry';

/**
 * PyTorch checkpoints written by torch.save since 1.6 (.pt, .pth, pytorch_model.bin): a zip with
 *   <archive>/data.pkl                 pickle of the saved object; tensors are persistent ids
 *   <archive>/data/<key>               raw little-endian bytes of each storage (stored, 64-byte aligned)
 *   <archive>/byteorder                "little" or "big" (torch >= 2.1; absent means little)
 *   <archive>/version, .format_version, .storage_alignment, .data/serialization_id
 * (torch/serialization.py _save/_load, caffe2/serialize/inline_container.cc). <archive> is the
 * file's stem, or "archive" when saved to a buffer. The pickle is read by a restricted unpickler
 * that never runs code; tensors are views (offset, size, stride) into storages, read lazily.
 */

/** Small text records (byteorder, version, serialization id) are a few bytes; refuse big ones. */
const MAX_RECORD_TEXT_BYTES = 4096;

interface PtTensor {
  info: TensorInfo;
  t: TorchTensor;
  entry: ZipEntry;
  /** Storage elements from the tensor's offset to its last element (the span a strided read covers). */
  span: number;
  contiguous: boolean;
}

function isContiguous(shape: number[], stride: number[]): boolean {
  const c = contiguousStrides(shape);
  // Strides of size-1 dims never move, so torch may record anything there.
  return shape.every((d, k) => d === 1 || stride[k] === c[k]);
}

async function readText(zip: ZipArchive, name: string, signal?: AbortSignal): Promise<string | undefined> {
  const e = zip.byName.get(name);
  if (!e) return undefined;
  const bytes = await readEntryBytes(zip, e, MAX_RECORD_TEXT_BYTES, 'MAX_RECORD_TEXT_BYTES', signal);
  return new TextDecoder().decode(bytes).trim();
}

/** The archive folder holding data.pkl (the zip's single top-level folder in torch's layout). */
export function findPytorchRoot(zip: ZipArchive): string | undefined {
  const roots = zip.entries.map((e) => /^([^/]+)\/data\.pkl$/.exec(e.name)?.[1]).filter((r): r is string => r !== undefined);
  if (roots.length > 1) throw new FormatError('bad-zip', `${zip.source.name}: several PyTorch archives in one zip (${roots.slice(0, 4).join(', ')})`);
  return roots[0];
}

export async function readPytorch(input: ModelInput, signal?: AbortSignal, opened?: ZipArchive): Promise<TensorSource> {
  const zip = opened ?? (await openZip(input.primary, signal));
  const file = zip.source.name;
  const root = findPytorchRoot(zip);
  if (root === undefined) throw new FormatError('unknown-format', `${file}: a zip without <archive>/data.pkl, so not a torch.save checkpoint`);
  if (zip.byName.has(`${root}/constants.pkl`) || zip.entries.some((e) => e.name.startsWith(`${root}/code/`))) {
    throw new UnsupportedError('torchscript', `${file}: a TorchScript archive (torch.jit.save); its weights need the TorchScript runtime. Save model.state_dict() with torch.save, or export to ONNX or safetensors`);
  }
  const pklEntry = zip.byName.get(`${root}/data.pkl`)!;
  const pkl = await readEntryBytes(zip, pklEntry, MAX_PICKLE_BYTES, 'MAX_PICKLE_BYTES', signal);
  const byteorder = (await readText(zip, `${root}/byteorder`, signal)) ?? 'little';
  if (byteorder !== 'little' && byteorder !== 'big') throw new FormatError('bad-header', `${file}: byteorder record says "${byteorder.slice(0, 40)}", expected little or big`);
  const version = (await readText(zip, `${root}/version`, signal)) ?? (await readText(zip, `${root}/.data/version`, signal));
  const serializationId = await readText(zip, `${root}/.data/serialization_id`, signal);
  throwIfAborted(signal);

  const pklName = `${file}/${pklEntry.name}`;
  const { root: obj, storages } = unpickleTorch(pkl, pklName);
  const storageEntries = new Map<string, ZipEntry>();
  for (const s of storages.values()) {
    const name = `${root}/data/${s.key}`;
    const e = zip.byName.get(name);
    if (!e) throw new FormatError('missing-file', `${file}: data.pkl refers to storage "${s.key}" but the archive has no ${name}`);
    const need = s.numel * DTYPE_BYTES[s.dtype]!;
    if (e.uncompressedSize < need) {
      throw new FormatError('size-mismatch', `${file}: storage ${name} holds ${e.uncompressedSize} bytes, data.pkl declares ${s.numel} x ${s.dtype} = ${need}`);
    }
    storageEntries.set(s.key, e);
  }

  const { tensors: named, skippedKeys } = collectTensors(obj, pklName);
  const byName = new Map<string, PtTensor>();
  const infos: TensorInfo[] = [];
  for (const { name, tensor: t } of named) {
    const numel = elementCount(t.shape, file, name);
    if (numel > MAX_TENSOR_ELEMENTS) throw new LimitError('elements', `${file}: tensor "${name}" has ${numel} elements, over the limit of ${MAX_TENSOR_ELEMENTS}`);
    let last = t.offset;
    for (let k = 0; k < t.shape.length; k++) last += (t.shape[k]! - 1) * t.stride[k]!;
    const span = numel === 0 ? 0 : last - t.offset + 1;
    if (numel > 0 && last >= t.storage.numel) {
      throw new FormatError(
        'bad-offsets',
        `${file}: tensor "${name}" (offset ${t.offset}, size [${t.shape.join(', ')}], stride [${t.stride.join(', ')}]) reaches element ${last} of storage "${t.storage.key}", which has ${t.storage.numel}`,
      );
    }
    const width = DTYPE_BYTES[t.storage.dtype]!;
    if (span * width > MAX_TENSOR_BYTES) throw new LimitError('tensor-bytes', `${file}: tensor "${name}" spans ${fmtBytes(span * width)} bytes of its storage, over the limit of ${fmtBytes(MAX_TENSOR_BYTES)}`);
    const contiguous = isContiguous(t.shape, t.stride);
    const entry = storageEntries.get(t.storage.key)!;
    const notes: string[] = [];
    if (!contiguous) notes.push(`strided view of storage ${t.storage.key} (gathered on read)`);
    if (byteorder === 'big') notes.push('big-endian');
    const info: TensorInfo = { name, shape: t.shape, dtype: t.storage.dtype, byteLength: numel * width, decodable: true, file: entry.name };
    if (notes.length) info.note = notes.join('; ');
    infos.push(info);
    byName.set(name, { info, t, entry, span, contiguous });
  }

  return {
    format: 'pytorch',
    name: input.label,
    tensors: infos,
    metadata: {
      archive: root,
      byteorder,
      ...(version !== undefined ? { version } : {}),
      ...(serializationId !== undefined ? { serializationId } : {}),
      storages: storages.size,
      ...(skippedKeys ? { skippedNonStringKeys: skippedKeys } : {}),
    },
    totalBytes: zip.source.size,
    async read(name, sig) {
      const pt = byName.get(name);
      if (!pt) throw new FormatError('bad-header', `${file}: no tensor "${name}"`);
      const { t, entry, span, contiguous } = pt;
      const width = DTYPE_BYTES[t.storage.dtype]!;
      const numel = elementCount(t.shape, file, name);
      if (numel === 0) return new Float32Array(0);
      const count = contiguous ? numel : span;
      let bytes: Uint8Array;
      if (entry.method === 0) {
        bytes = await readStoredRange(zip, entry, t.offset * width, count * width, sig);
      } else {
        // Someone re-zipped the checkpoint with compression: inflate the storage, bounded.
        const all = await readEntryBytes(zip, entry, MAX_TENSOR_BYTES, 'MAX_TENSOR_BYTES', sig);
        bytes = all.subarray(t.offset * width, (t.offset + count) * width);
      }
      throwIfAborted(sig);
      if (byteorder === 'big' && width > 1) {
        bytes = bytes.slice(); // the source may hand out a shared buffer
        swapBytesInPlace(bytes, width);
      }
      const flat = decodeToF32(t.storage.dtype, bytes, count, file, name);
      return contiguous ? flat : stridedGather(flat, t.shape, t.stride);
    },
  };
}
