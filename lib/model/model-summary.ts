import type { FormatName, TensorInfo } from '../formats/types';
import type { Layer, LayerKind } from './layer';
import { tensorParams } from './module-tree';

/** The landing view's and `weightlens info`'s one-glance description of a checkpoint. */

export interface DtypeShare {
  dtype: string;
  tensors: number;
  params: number;
  bytes: number;
}

export interface KindCount {
  kind: LayerKind;
  layers: number;
  analyzable: number;
  params: number;
}

export interface ModelSummary {
  format: FormatName | string;
  tensors: number;
  /** Total elements over all tensors. */
  params: number;
  /** Sum of stored tensor bytes. */
  tensorBytes: number;
  /** Bytes of the files that make up the model (headers included), when known. */
  fileBytes?: number;
  /** Largest share first. */
  dtypes: DtypeShare[];
  /** Tensors by rank: rank -> count (biases and norms are rank 1). */
  ranks: Record<string, number>;
  layers: number;
  analyzable: number;
  /** Layer counts by kind, in a fixed order, kinds with no layers left out. */
  kinds: KindCount[];
}

const KIND_ORDER: LayerKind[] = ['dense', 'embedding', 'conv2d', 'conv1d', 'other'];

export function modelSummary(
  format: FormatName | string,
  tensors: readonly TensorInfo[],
  layers: readonly Layer[],
  fileBytes?: number,
): ModelSummary {
  const byDtype = new Map<string, DtypeShare>();
  const ranks: Record<string, number> = {};
  let params = 0;
  let tensorBytes = 0;
  for (const t of tensors) {
    const p = tensorParams(t.shape);
    params += p;
    tensorBytes += t.byteLength;
    let d = byDtype.get(t.dtype);
    if (!d) byDtype.set(t.dtype, (d = { dtype: t.dtype, tensors: 0, params: 0, bytes: 0 }));
    d.tensors += 1;
    d.params += p;
    d.bytes += t.byteLength;
    const r = String(t.shape.length);
    ranks[r] = (ranks[r] ?? 0) + 1;
  }
  const kinds: KindCount[] = [];
  for (const kind of KIND_ORDER) {
    const of = layers.filter((l) => l.kind === kind);
    if (of.length === 0) continue;
    kinds.push({
      kind,
      layers: of.length,
      analyzable: of.filter((l) => l.analyzable).length,
      params: of.reduce((s, l) => s + tensorParams(l.tensor.shape), 0),
    });
  }
  return {
    format,
    tensors: tensors.length,
    params,
    tensorBytes,
    ...(fileBytes !== undefined ? { fileBytes } : {}),
    dtypes: [...byDtype.values()].sort((a, b) => b.bytes - a.bytes || b.params - a.params),
    ranks,
    layers: layers.length,
    analyzable: layers.filter((l) => l.analyzable).length,
    kinds,
  };
}
