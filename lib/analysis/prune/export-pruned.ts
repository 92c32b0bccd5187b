import { FormatError, UnsupportedError, throwIfAborted } from '../../base/errors';
import { MAX_TENSOR_ELEMENTS } from '../../base/limits';
import { DTYPE_BYTES, elementCount } from '../../formats/dtype';
import { readSafetensors } from '../../formats/read-safetensors';
import type { TensorSource } from '../../formats/types';
import { writeSafetensors, type SafetensorsTensorInput } from '../../formats/write-safetensors';
import type { ModelInput } from '../../io/byte-source';
import type { Layer } from '../../model/layer';
import { copyTensor, exactBytesFromF32, type ExportOptions } from '../quant/export-quantized';
import { storedFromQuantMatrix } from '../quant/quant-matrix';
import type { Mask, PruneSettings } from './prune-types';

/**
 * Writing a pruned model and its masks, and reading the masks back.
 *
 * - Pruned safetensors: every tensor of the source under its own name, shape and dtype. Pruned
 *   tensors hold zeros where their mask removes a weight, in the stored layout (the mask lives on
 *   the QuantMatrix, rows = output channels; storedFromQuantMatrix maps it back). F32, F16 and
 *   BF16 tensors keep their dtype — +0 is exact in all three and kept weights keep their bits;
 *   any other dtype is written as F32. Every other tensor is copied byte for byte.
 * - Masks safetensors: one tensor `<tensor>.mask` per pruned tensor, 1 = kept, 0 = removed, in
 *   the stored layout: U8 in the tensor's shape (`numpy: W * mask`), or with `packed` one U8 byte
 *   per 8 weights in the flattened stored order, least significant bit first
 *   (`np.unpackbits(m, bitorder="little")[:n].reshape(shape)`), 8× smaller for large models.
 *
 * Both files record the method, the settings and every pruned tensor's sparsity in
 * `__metadata__` (JSON strings, as safetensors allows only strings there).
 */

export const PRUNED_FORMAT = 'weightlens-pruned';
export const MASKS_FORMAT = 'weightlens-prune-masks';
export const PRUNE_FORMAT_VERSION = 1;
export const MASK_SUFFIX = '.mask';

/** Dtypes a pruned tensor keeps (zero and every kept value are exact in them). */
const KEEP_DTYPES = new Set(['F32', 'F16', 'BF16']);

/** One pruned tensor as the export sees it. */
export interface PrunedTensor {
  layer: Layer;
  mask: Mask;
  /** Sparsity the allocation asked of this layer (recorded in the metadata). */
  target?: number;
  /** α the allocation used, when it was α-driven. */
  alpha?: number | null;
}

/** Per-tensor record in both files' metadata (`weightlens:pruned`, keyed by tensor name). */
export interface PrunedTensorMeta {
  layer: string;
  shape: number[];
  /** dtype in the source, and as written to the pruned file. */
  dtype: string;
  stored_dtype: string;
  weights: number;
  kept: number;
  sparsity: number;
  target: number | null;
  alpha: number | null;
}

export interface PruneExportInfo {
  method: string;
  settings: PruneSettings;
}

export interface MaskExportOptions {
  /** Bit-packed masks (8 weights a byte) instead of one byte per weight. */
  packed?: boolean;
  signal?: AbortSignal;
}

function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/** Kept weights of a mask (bits past rows·cols, if any were set, are not counted). */
export function maskKept(mask: Mask): number {
  const n = mask.rows * mask.cols;
  const full = n >>> 5;
  let kept = 0;
  for (let w = 0; w < full; w++) kept += popcount32(mask.bits[w]!);
  const rem = n & 31;
  if (rem) kept += popcount32(mask.bits[full]! & ((1 << rem) - 1));
  return kept;
}

/**
 * The mask as 0/1 per weight in the tensor's stored layout (row-major over its shape), checked
 * against the layer's shape.
 */
export function storedMask(file: string, p: PrunedTensor): Uint8Array {
  const { layer, mask } = p;
  const n = elementCount(layer.tensor.shape, file, layer.tensor.name);
  if (mask.rows * mask.cols !== n || mask.bits.length < Math.ceil(n / 32)) {
    throw new UnsupportedError('prune-mask-shape', `${file}: the mask of "${layer.tensor.name}" is ${mask.rows} x ${mask.cols} (${mask.bits.length} words), the tensor [${layer.tensor.shape.join(', ')}] has ${n} weights`);
  }
  const m = new Float32Array(n);
  for (let i = 0; i < n; i++) m[i] = (mask.bits[i >>> 5]! >>> (i & 31)) & 1;
  const stored = storedFromQuantMatrix(layer, m);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = stored[i]!;
  return out;
}

function metaOf(file: string, p: PrunedTensor, storedDtype: string): PrunedTensorMeta {
  const weights = p.mask.rows * p.mask.cols;
  const kept = maskKept(p.mask);
  return {
    layer: p.layer.name,
    shape: [...p.layer.tensor.shape],
    dtype: p.layer.tensor.dtype,
    stored_dtype: storedDtype,
    weights,
    kept,
    sparsity: weights === 0 ? 0 : (weights - kept) / weights,
    target: p.target ?? null,
    alpha: p.alpha === undefined || p.alpha === null || !Number.isFinite(p.alpha) ? null : p.alpha,
  };
}

/** The stored dtype a pruned tensor is written in. */
export function prunedDtype(dtype: string): string {
  return KEEP_DTYPES.has(dtype) ? dtype : 'F32';
}

/** Zeros the element bytes of removed weights (all-zero bits are +0 in F32, F16 and BF16). */
function zeroRemoved(bytes: Uint8Array, keep: Uint8Array, width: number): Uint8Array {
  const out = bytes.slice();
  for (let i = 0; i < keep.length; i++) if (!keep[i]) out.fill(0, i * width, (i + 1) * width);
  return out;
}

async function prunedTensor(source: TensorSource, p: PrunedTensor, opts: ExportOptions): Promise<{ input: SafetensorsTensorInput; dtype: string }> {
  const t = p.layer.tensor;
  const keep = storedMask(source.name, p);
  if (KEEP_DTYPES.has(t.dtype)) {
    const bytes = opts.readRaw ? await opts.readRaw(t, opts.signal) : exactBytesFromF32(t.dtype, await source.read(t.name, opts.signal));
    if (bytes) return { input: { name: t.name, shape: t.shape, dtype: t.dtype, data: zeroRemoved(bytes, keep, DTYPE_BYTES[t.dtype]!) }, dtype: t.dtype };
    // A decoded F16/BF16 with NaNs cannot be re-encoded bit for bit: fall through to F32.
  }
  const v = await source.read(t.name, opts.signal);
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = keep[i] ? v[i]! : 0;
  return { input: { name: t.name, shape: t.shape, dtype: 'F32', data: out }, dtype: 'F32' };
}

function sourceMetadata(source: TensorSource): Record<string, string> {
  const out: Record<string, string> = {};
  if (source.format !== 'safetensors' && source.format !== 'safetensors-sharded') return out;
  for (const [k, v] of Object.entries(source.metadata)) if (typeof v === 'string' && !k.startsWith('weightlens:')) out[k] = v;
  return out;
}

function byTensor(source: TensorSource, pruned: readonly PrunedTensor[]): Map<string, PrunedTensor> {
  const names = new Set(source.tensors.map((t) => t.name));
  const m = new Map<string, PrunedTensor>();
  for (const p of pruned) {
    const name = p.layer.tensor.name;
    if (!names.has(name)) throw new UnsupportedError('prune-unknown-tensor', `${source.name}: no tensor "${name}" to prune`);
    if (m.has(name)) throw new UnsupportedError('prune-duplicate', `${source.name}: tensor "${name}" is pruned twice`);
    m.set(name, p);
  }
  return m;
}

function commonMetadata(source: TensorSource, info: PruneExportInfo, format: string): Record<string, string> {
  return {
    ...sourceMetadata(source),
    'weightlens:format': format,
    'weightlens:format_version': String(PRUNE_FORMAT_VERSION),
    'weightlens:source': source.name,
    'weightlens:method': info.method,
    'weightlens:settings': JSON.stringify(info.settings),
  };
}

/** The pruned model: every tensor as in the source, pruned ones with zeros where their mask removes. */
export async function buildPrunedSafetensors(
  source: TensorSource, pruned: readonly PrunedTensor[], info: PruneExportInfo, opts: ExportOptions = {},
): Promise<Uint8Array> {
  const q = byTensor(source, pruned);
  const tensors: SafetensorsTensorInput[] = [];
  const summary: Record<string, PrunedTensorMeta> = {};
  for (const t of source.tensors) {
    throwIfAborted(opts.signal);
    const p = q.get(t.name);
    if (!p) {
      tensors.push(await copyTensor(source, t, opts));
      continue;
    }
    const { input, dtype } = await prunedTensor(source, p, opts);
    tensors.push(input);
    summary[t.name] = metaOf(source.name, p, dtype);
  }
  return writeSafetensors(tensors, { ...commonMetadata(source, info, PRUNED_FORMAT), 'weightlens:pruned': JSON.stringify(summary) });
}

/** Bit-packs 0/1 bytes, least significant bit first (numpy packbits bitorder="little"). */
export function packMaskBits(keep: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(keep.length / 8));
  for (let i = 0; i < keep.length; i++) if (keep[i]) out[i >>> 3]! |= 1 << (i & 7);
  return out;
}

/** The masks file: `<tensor>.mask` per pruned tensor, 1 = kept, in the stored layout. */
export function buildMaskSafetensors(
  source: TensorSource, pruned: readonly PrunedTensor[], info: PruneExportInfo, opts: MaskExportOptions = {},
): Uint8Array {
  const q = byTensor(source, pruned);
  const tensors: SafetensorsTensorInput[] = [];
  const summary: Record<string, PrunedTensorMeta> = {};
  for (const t of source.tensors) {
    throwIfAborted(opts.signal);
    const p = q.get(t.name);
    if (!p) continue;
    const keep = storedMask(source.name, p);
    tensors.push(opts.packed
      ? { name: `${t.name}${MASK_SUFFIX}`, shape: [Math.ceil(keep.length / 8)], dtype: 'U8', data: packMaskBits(keep) }
      : { name: `${t.name}${MASK_SUFFIX}`, shape: t.shape, dtype: 'U8', data: keep });
    summary[t.name] = metaOf(source.name, p, prunedDtype(t.dtype));
  }
  return writeSafetensors(tensors, {
    ...commonMetadata(source, info, MASKS_FORMAT),
    'weightlens:mask_encoding': opts.packed ? 'packbits-little' : 'u8',
    'weightlens:decode': opts.packed
      ? 'Each "<tensor>.mask" is np.unpackbits(m, bitorder="little")[:n].reshape(shape) with shape from "weightlens:pruned"; 1 = kept, in the tensor\'s stored layout.'
      : 'Each "<tensor>.mask" has the tensor\'s shape; 1 = kept, 0 = removed; pruned = W * mask.',
    'weightlens:pruned': JSON.stringify(summary),
  });
}

export interface ReadMasks {
  method: string;
  settings: unknown;
  /** Tensor name -> 0/1 per weight in the stored layout (flattened). */
  masks: Map<string, Uint8Array>;
  meta: Record<string, PrunedTensorMeta>;
}

/** Reads a masks file written by buildMaskSafetensors (either encoding). */
export async function readMaskSafetensors(input: ModelInput, signal?: AbortSignal): Promise<ReadMasks> {
  const src = await readSafetensors(input, signal);
  const file = src.name;
  if (src.metadata['weightlens:format'] !== MASKS_FORMAT) {
    throw new FormatError('bad-header', `${file}: not a WeightLens masks file (no "weightlens:format": "${MASKS_FORMAT}" in its metadata)`);
  }
  const json = (key: string): unknown => {
    const raw = src.metadata[key];
    try {
      return typeof raw === 'string' ? JSON.parse(raw) : undefined;
    } catch {
      return undefined;
    }
  };
  const meta = json('weightlens:pruned');
  if (typeof meta !== 'object' || meta === null) throw new FormatError('bad-header', `${file}: metadata "weightlens:pruned" is missing or not JSON`);
  const encoding = src.metadata['weightlens:mask_encoding'];
  if (encoding !== 'u8' && encoding !== 'packbits-little') throw new FormatError('bad-header', `${file}: unknown mask encoding ${JSON.stringify(encoding)}`);
  const infos = new Map(src.tensors.map((t) => [t.name, t]));
  const masks = new Map<string, Uint8Array>();
  for (const [name, m] of Object.entries(meta as Record<string, PrunedTensorMeta>)) {
    throwIfAborted(signal);
    const shape = m?.shape;
    if (!Array.isArray(shape)) throw new FormatError('bad-header', `${file}: "${name}" has no shape in "weightlens:pruned"`);
    const n = elementCount(shape, file, name);
    if (n > MAX_TENSOR_ELEMENTS) throw new FormatError('bad-shape', `${file}: "${name}" has ${n} weights, more than ${MAX_TENSOR_ELEMENTS}`);
    const info = infos.get(`${name}${MASK_SUFFIX}`);
    if (!info || info.dtype !== 'U8') throw new FormatError('missing-file', `${file}: no U8 tensor "${name}${MASK_SUFFIX}"`);
    const want = encoding === 'u8' ? n : Math.ceil(n / 8);
    const have = elementCount(info.shape, file, info.name);
    if (have !== want) throw new FormatError('size-mismatch', `${file}: "${info.name}" has ${have} bytes, expected ${want}`);
    // U8 decodes to float32 exactly.
    const bytes = await src.read(info.name, signal);
    let keep: Uint8Array;
    if (encoding === 'u8') {
      keep = Uint8Array.from(bytes);
    } else {
      keep = new Uint8Array(n);
      for (let i = 0; i < n; i++) keep[i] = (bytes[i >>> 3]! >>> (i & 7)) & 1;
    }
    masks.set(name, keep);
  }
  return { method: String(src.metadata['weightlens:method'] ?? ''), settings: json('weightlens:settings'), masks, meta: meta as Record<string, PrunedTensorMeta> };
}
