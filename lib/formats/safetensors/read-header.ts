import { FormatError, LimitError, throwIfAborted } from '../../base/errors';
import { fmtBytes } from '../../base/assert';
import type { ByteSource } from '../../io/byte-source';
import { parseSafetensorsHeader, type ParsedHeader } from './parse-header';
import type { ResolvedSafetensorsOptions } from './safetensors-options';

export interface OpenedSafetensorsFile extends ParsedHeader {
  src: ByteSource;
  /** File offset of the data section: 8 + header length. */
  dataStart: number;
}

const LENGTH_BYTES = 8;

/** Reads only the 8-byte length and the JSON header of one .safetensors file (never tensor data). */
export async function readSafetensorsHeader(src: ByteSource, opts: ResolvedSafetensorsOptions, signal?: AbortSignal): Promise<OpenedSafetensorsFile> {
  throwIfAborted(signal);
  if (src.size < LENGTH_BYTES) {
    throw new FormatError('truncated', `${src.name}: file has ${src.size} bytes, a safetensors file starts with an 8-byte header length`);
  }
  const lenBytes = await src.read(0, LENGTH_BYTES, signal);
  const n64 = new DataView(lenBytes.buffer, lenBytes.byteOffset, LENGTH_BYTES).getBigUint64(0, true);
  // The limit comes first: a huge declared length is refused before it is compared or read.
  if (n64 > BigInt(opts.maxHeaderBytes)) {
    throw new LimitError(
      'header-too-large',
      `${src.name}: header declares ${fmtBytes(Number(n64))} bytes, more than the limit of ${fmtBytes(opts.maxHeaderBytes)}`,
    );
  }
  const n = Number(n64);
  if (LENGTH_BYTES + n > src.size) {
    throw new FormatError('truncated', `${src.name}: header declares ${fmtBytes(n)} bytes but the file has only ${fmtBytes(src.size - LENGTH_BYTES)} after the length`);
  }
  const headerBytes = await src.read(LENGTH_BYTES, n, signal);
  const dataStart = LENGTH_BYTES + n;
  const parsed = parseSafetensorsHeader(src.name, headerBytes, src.size - dataStart, opts);
  return { ...parsed, src, dataStart };
}
