import { isScalarDType } from '../../formats/dtype';
import type { TensorInfo } from '../../formats/types';

/**
 * Pairs the tensors of two or more models by name and shape, the first step of every merge and
 * path curve. Nothing here throws on a mismatch: a tensor missing from a model, shaped
 * differently, or not decodable goes into `unmatched` (a table the view shows as is), so a user
 * merging two slightly different checkpoints sees what was left out instead of an error.
 *
 * Only float tensors are merged: F64/F32/F16/BF16/F8 and GGUF block-quantised types (they decode
 * to float weights). Integer and boolean tensors (BatchNorm's num_batches_tracked, position ids,
 * masks) matched by name and shape in every model go to `nonFloat`: averaging a counter or an
 * index makes no sense, so merge drivers copy them unchanged from the reference model.
 */

export interface ModelTensors {
  label: string;
  tensors: readonly TensorInfo[];
}

export interface PairedTensor {
  name: string;
  shape: number[];
  /** The first model's dtype (read() decodes every model's copy to float32 whatever it stores). */
  dtype: string;
  /** Each model's stored dtype, in model order; they may differ (an F16 and an F32 copy pair). */
  dtypes: string[];
}

export type UnmatchedReason = 'missing' | 'shape' | 'not-decodable';

export interface UnmatchedTensor {
  name: string;
  /** Shape in each model, in model order; null where the model lacks the tensor. */
  shapes: (number[] | null)[];
  reason: UnmatchedReason;
}

export interface NonFloatTensor {
  name: string;
  shape: number[];
  dtypes: string[];
}

export interface Pairing {
  labels: string[];
  paired: PairedTensor[];
  unmatched: UnmatchedTensor[];
  nonFloat: NonFloatTensor[];
}

const FLOAT_DTYPES = new Set(['F64', 'F32', 'F16', 'BF16', 'F8_E4M3', 'F8_E5M2']);

/** Float storage, or a GGUF block quant (non-scalar dtype) that decodes to float weights. */
export function isFloatDtype(dtype: string): boolean {
  return FLOAT_DTYPES.has(dtype) || !isScalarDType(dtype);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function pairModels(models: readonly ModelTensors[]): Pairing {
  const maps = models.map((m) => {
    const byName = new Map<string, TensorInfo>();
    // A name listed twice in one model keeps its first entry, as the readers do.
    for (const t of m.tensors) if (!byName.has(t.name)) byName.set(t.name, t);
    return byName;
  });
  // Union of names in order of first appearance (first model's order, then the others' extras).
  const names: string[] = [];
  const seen = new Set<string>();
  for (const m of maps) for (const name of m.keys()) if (!seen.has(name)) { seen.add(name); names.push(name); }

  const paired: PairedTensor[] = [];
  const unmatched: UnmatchedTensor[] = [];
  const nonFloat: NonFloatTensor[] = [];
  for (const name of names) {
    const infos = maps.map((m) => m.get(name));
    const shapes = infos.map((t) => (t ? [...t.shape] : null));
    const present = infos.filter((t): t is TensorInfo => t !== undefined);
    if (present.length < infos.length) {
      unmatched.push({ name, shapes, reason: 'missing' });
      continue;
    }
    const first = present[0]!;
    if (!present.every((t) => sameShape(t.shape, first.shape))) {
      unmatched.push({ name, shapes, reason: 'shape' });
      continue;
    }
    if (!present.every((t) => t.decodable)) {
      unmatched.push({ name, shapes, reason: 'not-decodable' });
      continue;
    }
    const dtypes = present.map((t) => t.dtype);
    if (dtypes.every(isFloatDtype)) paired.push({ name, shape: [...first.shape], dtype: first.dtype, dtypes });
    else nonFloat.push({ name, shape: [...first.shape], dtypes });
  }
  return { labels: models.map((m) => m.label), paired, unmatched, nonFloat };
}
