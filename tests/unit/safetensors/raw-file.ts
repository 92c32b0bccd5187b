import { memorySource, singleFileModel, type ByteSource, type ModelInput } from '@/lib/io/byte-source';

/**
 * Builds a safetensors file byte by byte: the 8-byte little-endian length (the real one unless
 * `declaredLength` says otherwise), the header text exactly as given, then `data`.
 */
export function rawSafetensors(header: string | object, data: Uint8Array | number = 0, declaredLength?: bigint): Uint8Array {
  const text = typeof header === 'string' ? header : JSON.stringify(header);
  const h = new TextEncoder().encode(text);
  const d = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + h.byteLength + d.byteLength);
  new DataView(out.buffer).setBigUint64(0, declaredLength ?? BigInt(h.byteLength), true);
  out.set(h, 8);
  out.set(d, 8 + h.byteLength);
  return out;
}

export function modelOf(bytes: Uint8Array, name = 'model.safetensors'): ModelInput {
  return singleFileModel(memorySource(bytes, name));
}

/** A ByteSource that records every range read through it (to prove what opening touches). */
export function countingSource(inner: ByteSource): ByteSource & { reads: [number, number][]; bytesRead(): number } {
  const reads: [number, number][] = [];
  return {
    name: inner.name,
    size: inner.size,
    reads,
    bytesRead: () => reads.reduce((s, [, n]) => s + n, 0),
    read(offset, length, signal) {
      reads.push([offset, length]);
      return inner.read(offset, length, signal);
    },
  };
}
