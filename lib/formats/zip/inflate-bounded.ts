import { Inflate } from 'fflate';
import { FormatError, throwIfAborted } from '../../base/errors';
import type { ByteSource } from '../../io/byte-source';

/**
 * Compressed bytes fetched per request: the first read is small (an .npy header needs only the
 * start of a member), later ones grow to a few MB so HTTP sources make few round trips.
 */
const FIRST_READ_BYTES = 64 * 2 ** 10;
const MAX_READ_BYTES = 4 * 2 ** 20;
/**
 * Compressed bytes handed to the inflater at once. Deflate expands at most ~1032x, so one push
 * can make fflate hold ~66 MB before we see it and can refuse output past the declared size.
 */
const PUSH_CHUNK_BYTES = 64 * 2 ** 10;

class StopInflate extends Error {}

/**
 * Inflates raw deflate data from `src[offset, offset + compressedSize)` into a buffer of
 * `expectedBytes` (the size the zip directory declares, already checked against a limit by the
 * caller). Output beyond `expectedBytes` is refused as soon as it appears, so a zip bomb costs
 * at most one push of work. With `stopAfter`, inflation stops once that many bytes exist (reading
 * an .npy header from a compressed member without inflating the whole tensor).
 */
export async function inflateBounded(
  src: ByteSource,
  offset: number,
  compressedSize: number,
  expectedBytes: number,
  what: string,
  signal?: AbortSignal,
  stopAfter?: number,
): Promise<Uint8Array> {
  const want = stopAfter === undefined ? expectedBytes : Math.min(stopAfter, expectedBytes);
  const out = new Uint8Array(want);
  let produced = 0;
  let overflow = false;
  let finished = false;
  const inflater = new Inflate((chunk, final) => {
    if (produced + chunk.length > expectedBytes) {
      overflow = true;
      throw new StopInflate();
    }
    const room = want - produced;
    out.set(room >= chunk.length ? chunk : chunk.subarray(0, room), produced);
    produced += chunk.length;
    if (final) finished = true;
    if (stopAfter !== undefined && produced >= want) throw new StopInflate();
  });
  const push = (chunk: Uint8Array, final: boolean): boolean => {
    try {
      inflater.push(chunk, final);
      return true;
    } catch (e) {
      if (e instanceof StopInflate) return false;
      throw new FormatError('bad-zip', `${src.name}: ${what} is not valid deflate data (${(e as Error).message})`);
    }
  };
  let done = 0;
  let readBytes = FIRST_READ_BYTES;
  outer: while (done < compressedSize) {
    throwIfAborted(signal);
    const n = Math.min(readBytes, compressedSize - done);
    readBytes = Math.min(MAX_READ_BYTES, readBytes * 2);
    const block = await src.read(offset + done, n, signal);
    for (let p = 0; p < block.length; p += PUSH_CHUNK_BYTES) {
      const piece = block.subarray(p, Math.min(block.length, p + PUSH_CHUNK_BYTES));
      const last = done + p + piece.length >= compressedSize;
      if (!push(piece, last)) break outer;
    }
    done += n;
  }
  if (compressedSize === 0) push(new Uint8Array(0), true);
  if (overflow) throw new FormatError('size-mismatch', `${src.name}: ${what} inflates to more than the ${expectedBytes} bytes its zip directory declares`);
  if (stopAfter !== undefined && produced >= want) return out;
  if (produced !== expectedBytes || !finished) {
    throw new FormatError('size-mismatch', `${src.name}: ${what} inflates to ${produced} bytes, its zip directory declares ${expectedBytes}`);
  }
  return out;
}
