import { throwIfAborted, UnsupportedError } from '../../base/errors';
import type { TensorInfo, TensorSource } from '../../formats/types';
import { writeSafetensors, type SafetensorsTensorInput } from '../../formats/write-safetensors';
import { exactTensorBytes, type RawTensorReader } from '../quant/export-quantized';
import type { MergeResult, TensorMergeStats } from './merge-methods';
import type { Pairing } from './pairing';
import type { NamedTensor, PermutationSpec, Permutations } from './permutation-spec';

/**
 * Merged and permuted models as safetensors files.
 *
 * Float dtype of a merged tensor (decision): merges run in float64 and round to float32, so the
 * file holds F32 — except when every model stores every merged tensor in one half-precision type
 * (all F16, or all BF16), where the merge is written in that type: the user merged half-precision
 * checkpoints and gets one of the same size and kind back (rounded to nearest-even once). Mixed
 * dtypes, F64, F8 and GGUF block quants all give F32. `dtype: 'F32'` forces F32 (bit-exact with
 * mergeModels' tensors whatever the inputs).
 *
 * Non-float tensors (counters, ids) are copied from the reference model (the base, or model A):
 * its stored bytes when a raw reader is given, else re-encoded from float32 where that is
 * provably exact (exactBytesFromF32), else refused rather than silently changed.
 *
 * Metadata, all strings (safetensors allows nothing else): weightlens:format, :method (JSON of
 * the method and its settings), :sources (JSON list of model names, base first for task-vector
 * methods), :reference, :summary (TIES conflict rate over all merged entries, SLERP fallbacks,
 * DARE drops, TSV modes), :stats (JSON, one entry per merged tensor), :unmatched (JSON, tensors
 * left out of the merge with their shape in each model).
 */

export const MERGED_FORMAT = 'weightlens-merged';
export const PERMUTED_FORMAT = 'weightlens-permuted';

export type MergedDtype = 'auto' | 'F32' | 'F16' | 'BF16';

export interface MergedExportOptions {
  /** 'auto' (default): see the file comment. */
  dtype?: MergedDtype;
  /** Stored bytes of the reference model's tensors, for bit-exact copies of non-float tensors. */
  readRaw?: RawTensorReader;
  /** Extra string metadata (e.g. the command line), written under its own keys. */
  metadata?: Record<string, string>;
  signal?: AbortSignal;
}

/** F16 or BF16 when every model stores every paired tensor in that one type; else F32. */
export function commonHalfDtype(pairing: Pairing): 'F32' | 'F16' | 'BF16' {
  const all = pairing.paired.flatMap((p) => p.dtypes);
  if (all.length > 0 && all.every((d) => d === 'F16')) return 'F16';
  if (all.length > 0 && all.every((d) => d === 'BF16')) return 'BF16';
  return 'F32';
}

/** The summary figures of a merge, over all merged tensors. */
export interface MergeSummary {
  tensors: number;
  entries: number;
  /** TIES: entries whose trimmed task vectors disagree in sign / all merged entries. */
  signConflicts?: number;
  signConflictRate?: number;
  /** SLERP: tensors that fell back to lerp, by reason. */
  slerpFallbacks?: { parallel: number; zeroNorm: number };
  /** DARE: entries dropped from each task vector, summed over tensors. */
  dropped?: number[];
  /** TSV: tensors merged by SVD and by the mean task vector. */
  tsvModes?: { svd: number; mean: number };
}

export function summarizeMerge(result: MergeResult): MergeSummary {
  const sizes = new Map(result.tensors.map((t) => [t.name, t.data.length]));
  const merged = result.stats;
  const entries = merged.reduce((s, st) => s + (sizes.get(st.name) ?? 0), 0);
  const out: MergeSummary = { tensors: merged.length, entries };
  const kind = result.method.kind;
  if (kind === 'ties') {
    const c = merged.reduce((s, st) => s + (st.signConflicts ?? 0), 0);
    out.signConflicts = c;
    out.signConflictRate = entries > 0 ? c / entries : 0;
  } else if (kind === 'slerp') {
    out.slerpFallbacks = {
      parallel: merged.filter((s) => s.slerpFallback === 'parallel').length,
      zeroNorm: merged.filter((s) => s.slerpFallback === 'zero-norm').length,
    };
  } else if (kind === 'dare') {
    const d: number[] = [];
    for (const st of merged) (st.dropped ?? []).forEach((v, i) => (d[i] = (d[i] ?? 0) + v));
    out.dropped = d;
  } else if (kind === 'tsv') {
    out.tsvModes = { svd: merged.filter((s) => s.tsvMode === 'svd').length, mean: merged.filter((s) => s.tsvMode === 'mean').length };
  }
  return out;
}

/** Per-tensor stats without the name-only entries (linear merges have nothing else to say). */
function compactStats(stats: readonly TensorMergeStats[]): TensorMergeStats[] {
  return stats.filter((s) => Object.keys(s).length > 1);
}

function copyExact(source: TensorInfo, data: Float32Array, what: string, opts: { readRaw?: RawTensorReader; signal?: AbortSignal }): Promise<Uint8Array> {
  return exactTensorBytes(source, () => Promise.resolve(data), what, opts, { from: 'its float32 decoding' });
}

/**
 * The merged model as safetensors bytes: merged tensors in pairing order, then the copied
 * non-float ones. `reference` is the model the non-float tensors come from (result.reference).
 */
export async function buildMergedSafetensors(result: MergeResult, reference: TensorSource, opts: MergedExportOptions = {}): Promise<Uint8Array> {
  const want = opts.dtype ?? 'auto';
  const floatDtype = want === 'auto' ? commonHalfDtype(result.pairing) : want;
  const infos = new Map(reference.tensors.map((t) => [t.name, t]));
  const tensors: SafetensorsTensorInput[] = [];
  for (const t of result.tensors) {
    throwIfAborted(opts.signal);
    if (!t.copied) {
      tensors.push({ name: t.name, shape: t.shape, dtype: floatDtype, data: t.data });
      continue;
    }
    const info = infos.get(t.name);
    if (!info) throw new UnsupportedError('export-missing', `${reference.name}: no tensor "${t.name}" to copy into the merged model`);
    tensors.push({ name: t.name, shape: t.shape, dtype: info.dtype, data: await copyExact(info, t.data, reference.name, opts) });
  }
  const metadata: Record<string, string> = {
    ...(opts.metadata ?? {}),
    'weightlens:format': MERGED_FORMAT,
    'weightlens:method': JSON.stringify(result.method),
    'weightlens:sources': JSON.stringify(result.pairing.labels),
    'weightlens:reference': result.reference,
    'weightlens:dtype': floatDtype,
    'weightlens:summary': JSON.stringify(summarizeMerge(result)),
    'weightlens:stats': JSON.stringify(compactStats(result.stats)),
    'weightlens:unmatched': JSON.stringify(result.pairing.unmatched),
  };
  return writeSafetensors(tensors, metadata);
}

export interface PermutedExportOptions {
  /** Stored bytes of the source model's tensors, for bit-exact copies of untouched tensors. */
  readRaw?: RawTensorReader;
  metadata?: Record<string, string>;
  signal?: AbortSignal;
}

/** Dtypes a permutation (values only move) re-encodes exactly from float32. */
const PERMUTE_SAME_DTYPE = new Set(['F32', 'F16', 'BF16']);

/**
 * A permuted model (weight matching's output) as safetensors bytes, every tensor of `source` in
 * its order: permuted tensors (from `permuted`, applyPermutation's output) in their stored dtype
 * when that is F32/F16/BF16 (values only move, so re-encoding is exact), else F32; the others
 * copied unchanged. The permutation of each group goes into the metadata (weightlens:perms, JSON
 * of group → perm, perm[i] = the source unit placed at position i) with the spec.
 */
export async function buildPermutedSafetensors(
  source: TensorSource,
  permuted: readonly NamedTensor[],
  spec: PermutationSpec,
  perms: Permutations,
  opts: PermutedExportOptions = {},
): Promise<Uint8Array> {
  const touched = new Set(spec.groups.flatMap((g) => g.axes.map((x) => x.tensor)));
  const byName = new Map(permuted.map((t) => [t.name, t]));
  const tensors: SafetensorsTensorInput[] = [];
  for (const info of source.tensors) {
    throwIfAborted(opts.signal);
    const p = touched.has(info.name) ? byName.get(info.name) : undefined;
    if (touched.has(info.name) && !p) throw new UnsupportedError('export-missing', `${source.name}: permuted tensor "${info.name}" was not given`);
    if (p) {
      tensors.push({ name: info.name, shape: info.shape, dtype: PERMUTE_SAME_DTYPE.has(info.dtype) ? info.dtype : 'F32', data: p.data });
      continue;
    }
    const data = opts.readRaw ? new Float32Array(0) : await source.read(info.name, opts.signal);
    tensors.push({ name: info.name, shape: info.shape, dtype: info.dtype, data: await copyExact(info, data, source.name, opts) });
  }
  const permsJson: Record<string, number[]> = {};
  for (const g of spec.groups) permsJson[g.name] = Array.from(perms[g.name] ?? Int32Array.from({ length: g.size }, (_, i) => i));
  const metadata: Record<string, string> = {
    ...(opts.metadata ?? {}),
    'weightlens:format': PERMUTED_FORMAT,
    'weightlens:source': source.name,
    'weightlens:spec': JSON.stringify(spec),
    'weightlens:perms': JSON.stringify(permsJson),
  };
  return writeSafetensors(tensors, metadata);
}
