import { fmtBytes } from '../../base/assert';
import { FormatError } from '../../base/errors';
import type { ByteSource } from '../../io/byte-source';
import { elementCount } from '../dtype';
import type { TensorInfo } from '../types';
import { decoderFor, type BlockDecoder } from './dequantize';
import { ggmlType, type GgmlType } from './ggml-types';
import type { GgufHeader } from './parse-gguf-header';

export interface GgufTensor {
  info: TensorInfo;
  /** Undefined for a type id this reader does not know (its size is then unknown too). */
  type: GgmlType | undefined;
  decoder: BlockDecoder | undefined;
  elements: number;
  /** Absolute byte offset in the file. */
  start: number;
}

/**
 * Turns the raw tensor infos into TensorInfo (shape in row-major order, i.e. GGUF's ne
 * reversed), sizing each tensor from its type's block size and checking that the data lies in
 * the file, is aligned, and that no two tensors share bytes.
 */
export function buildTensorTable(src: ByteSource, header: GgufHeader): GgufTensor[] {
  const file = src.name;
  const out: GgufTensor[] = [];
  for (const t of header.tensors) {
    const shape = [...t.ne].reverse();
    const elements = elementCount(shape, file, t.name);
    const type = ggmlType(t.typeId);
    let byteLength = 0;
    if (type) {
      const rowLength = t.ne[0] ?? 1;
      if (rowLength % type.blockSize !== 0) {
        throw new FormatError('bad-shape', `${file}: tensor "${t.name}" has rows of ${rowLength} elements, not a multiple of the ${type.name} block of ${type.blockSize}`);
      }
      byteLength = (elements / type.blockSize) * type.typeSize;
    }
    if (!Number.isSafeInteger(t.offset) || t.offset % header.alignment !== 0) {
      throw new FormatError('bad-offsets', `${file}: tensor "${t.name}" has data offset ${t.offset}, not a multiple of the alignment ${header.alignment}`);
    }
    const start = header.dataStart + t.offset;
    if (start > src.size) {
      throw new FormatError('bad-offsets', `${file}: tensor "${t.name}" starts at byte ${fmtBytes(start)}, past the end of the file (${fmtBytes(src.size)})`);
    }
    if (start + byteLength > src.size) {
      throw new FormatError('truncated', `${file}: tensor "${t.name}" ends at byte ${fmtBytes(start + byteLength)}, file has ${fmtBytes(src.size)}`);
    }
    const decoder = type ? decoderFor(type.name) : undefined;
    const dtype = type ? type.name : `unknown type ${t.typeId}`;
    const info: TensorInfo = { name: t.name, shape, dtype, byteLength, decodable: decoder !== undefined };
    if (!decoder) info.note = `not decoded (${dtype})`;
    out.push({ info, type, decoder, elements, start });
  }
  checkOverlaps(file, out);
  sizeUnknownTypes(src, out);
  return out;
}

function checkOverlaps(file: string, tensors: GgufTensor[]): void {
  const sized = tensors.filter((t) => t.type && t.info.byteLength > 0).sort((a, b) => a.start - b.start);
  for (let i = 1; i < sized.length; i++) {
    const prev = sized[i - 1]!;
    const cur = sized[i]!;
    const prevEnd = prev.start + prev.info.byteLength;
    if (cur.start < prevEnd) {
      throw new FormatError('overlap', `${file}: tensors "${prev.info.name}" (bytes ${fmtBytes(prev.start)}..${fmtBytes(prevEnd)}) and "${cur.info.name}" (from byte ${fmtBytes(cur.start)}) overlap`);
    }
  }
}

/** A tensor of unknown type is shown as spanning up to the next tensor (or the end of file). */
function sizeUnknownTypes(src: ByteSource, tensors: GgufTensor[]): void {
  const starts = Float64Array.from(tensors, (t) => t.start).sort();
  for (const t of tensors) {
    if (t.type) continue;
    // Binary search for the first start past this one.
    let lo = 0;
    let hi = starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid]! > t.start) hi = mid;
      else lo = mid + 1;
    }
    t.info.byteLength = (lo < starts.length ? starts[lo]! : src.size) - t.start;
  }
}
