import type { Layer } from '@/lib/model/layer';

/** A layer present in both compared models: same tensor name and same shape. */
export interface MatchedLayer {
  a: Layer;
  b: Layer;
}

const sameShape = (x: readonly number[], y: readonly number[]) => x.length === y.length && x.every((d, i) => d === y[i]);

/** Layers of `a` (in its order) that `b` has under the same tensor name with the same shape. */
export function matchLayers(a: readonly Layer[], b: readonly Layer[]): MatchedLayer[] {
  const byName = new Map(b.map((l) => [l.tensor.name, l]));
  const out: MatchedLayer[] = [];
  for (const la of a) {
    const lb = byName.get(la.tensor.name);
    if (lb && sameShape(la.tensor.shape, lb.tensor.shape)) out.push({ a: la, b: lb });
  }
  return out;
}
