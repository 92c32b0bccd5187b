import { FormatError, LimitError, throwIfAborted } from '../base/errors';
import { MAX_TENSOR_BYTES, MAX_TENSOR_COUNT } from '../base/limits';
import type { ModelInput } from '../io/byte-source';
import { checkNpyDataLength, decodeNpyData, noteOf, npyDataBytes, npyHeaderLength, NPY_PREFIX_BYTES, parseNpyHeader, type NpyHeader } from './read-npy';
import type { TensorInfo, TensorSource } from './types';
import { openZip, type ZipArchive, type ZipEntry } from './zip/open-zip';
import { readEntryBytes, readEntryPrefix, readStoredRange } from './zip/read-zip-entry';

/**
 * NumPy .npz: a zip of .npy members (np.savez stores them, np.savez_compressed deflates them).
 * Member `name.npy` becomes tensor `name`. Opening reads only each member's header; a stored
 * member's data is read by range on read(), a deflated one is inflated then, one at a time.
 */

interface NpzTensor {
  entry: ZipEntry;
  header: NpyHeader;
}

async function readMemberHeader(zip: ZipArchive, e: ZipEntry, signal?: AbortSignal): Promise<NpyHeader> {
  const file = `${zip.source.name}/${e.name}`;
  const prefix = await readEntryPrefix(zip, e, NPY_PREFIX_BYTES, signal);
  const total = npyHeaderLength(prefix, file);
  if (total > e.uncompressedSize) throw new FormatError('truncated', `${file}: .npy header needs ${total} bytes, member has ${e.uncompressedSize}`);
  return parseNpyHeader(await readEntryPrefix(zip, e, total, signal), file);
}

export async function readNpz(input: ModelInput, signal?: AbortSignal, opened?: ZipArchive): Promise<TensorSource> {
  const zip = opened ?? (await openZip(input.primary, signal));
  const file = zip.source.name;
  const members = zip.entries.filter((e) => e.name.toLowerCase().endsWith('.npy'));
  if (members.length > MAX_TENSOR_COUNT) throw new LimitError('tensor-count', `${file}: ${members.length} arrays, over the limit of ${MAX_TENSOR_COUNT}`);
  const byName = new Map<string, NpzTensor>();
  const tensors: TensorInfo[] = [];
  for (const e of members) {
    throwIfAborted(signal);
    const name = e.name.slice(0, -4);
    const header = await readMemberHeader(zip, e, signal);
    const where = `${file}/${e.name}`;
    checkNpyDataLength(header, e.uncompressedSize - header.headerBytes, where, name);
    const byteLength = npyDataBytes(header, where, name);
    byName.set(name, { entry: e, header });
    tensors.push({ name, shape: header.shape, dtype: header.dtype, byteLength, decodable: true, note: noteOf(header), file: e.name });
  }
  const ignored = zip.entries.filter((e) => !e.name.toLowerCase().endsWith('.npy') && !e.name.endsWith('/')).map((e) => e.name);
  return {
    format: 'npz',
    name: input.label,
    tensors,
    metadata: {
      arrays: tensors.length,
      compressed: members.filter((e) => e.method !== 0).length,
      ...(ignored.length ? { ignoredMembers: ignored.slice(0, 100) } : {}),
    },
    totalBytes: zip.source.size,
    async read(name, sig) {
      const t = byName.get(name);
      if (!t) throw new FormatError('bad-header', `${file}: no array "${name}"`);
      const { entry, header } = t;
      const where = `${file}/${entry.name}`;
      const dataBytes = npyDataBytes(header, where, name);
      let data: Uint8Array;
      if (entry.method === 0) {
        data = await readStoredRange(zip, entry, header.headerBytes, dataBytes, sig);
      } else {
        // The whole member (header + data) is inflated, bounded by its declared size and by the
        // largest tensor we decode at once, and checked against its CRC.
        const all = await readEntryBytes(zip, entry, MAX_TENSOR_BYTES + header.headerBytes, 'MAX_TENSOR_BYTES', sig);
        data = all.subarray(header.headerBytes);
      }
      throwIfAborted(sig);
      return decodeNpyData(header, data, where, name);
    },
  };
}
