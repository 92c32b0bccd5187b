/**
 * Applies group permutations to tensors: along every axis a group claims, position i of the result
 * takes index perm[i] of the input. With a spec from inferMlpSpec the permuted model computes the
 * same function as the original (hidden units are only relabelled).
 */
import { checkPermutations, type NamedTensor, type PermutationSpec, type Permutations } from './permutation-spec';

/** Per tensor, the permutation of each axis (null = unchanged). Tensors no group touches are absent. */
export function axisPermutations(spec: PermutationSpec, perms: Permutations): Map<string, (Int32Array | null)[]> {
  const out = new Map<string, (Int32Array | null)[]>();
  for (const g of spec.groups) {
    const p = perms[g.name];
    if (!p) continue;
    for (const { tensor, axis } of g.axes) {
      let list = out.get(tensor);
      if (!list) {
        list = [];
        out.set(tensor, list);
      }
      list[axis] = p;
    }
  }
  return out;
}

/**
 * Copies `data` (row-major, `shape`) with the chosen axis moved to the front and every other axis
 * gathered by its permutation: row i of the result is the slice at index i of `axis` (itself not
 * permuted), flattened in the original order of the remaining axes. axis = −1 keeps the layout.
 * Returns float64 so dot products over the rows accumulate without float32 rounding.
 */
export function gatherAxisMajor(data: ArrayLike<number>, shape: readonly number[], perAxis: readonly (Int32Array | null | undefined)[], axis: number): Float64Array {
  const rank = shape.length;
  const strides = new Array<number>(rank);
  let s = 1;
  for (let d = rank - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d]!;
  }
  const out = new Float64Array(s);
  if (s === 0) return out;
  // Output order: `axis` first (when ≥ 0), then the others in their order.
  const order = axis >= 0 ? [axis, ...Array.from({ length: rank }, (_, d) => d).filter((d) => d !== axis)] : Array.from({ length: rank }, (_, d) => d);
  const dims = order.map((d) => shape[d]!);
  // Source offset contributed by index k of output dim q: stride × (perm ? perm[k] : k).
  const contrib = order.map((d) => {
    const p = d === axis ? null : perAxis[d];
    return Int32Array.from({ length: shape[d]! }, (_, k) => strides[d]! * (p ? p[k]! : k));
  });
  const idx = new Int32Array(rank);
  const last = rank - 1;
  let base = 0; // Σ contrib over all dims but the last
  for (let q = 0; q < last; q++) base += contrib[q]![0]!;
  const inner = rank > 0 ? contrib[last]! : Int32Array.of(0);
  const innerLen = rank > 0 ? dims[last]! : 1;
  let o = 0;
  for (;;) {
    for (let k = 0; k < innerLen; k++) out[o++] = data[base + inner[k]!]!;
    // Odometer over the outer dims.
    let q = last - 1;
    while (q >= 0) {
      base -= contrib[q]![idx[q]!]!;
      idx[q]!++;
      if (idx[q]! < dims[q]!) {
        base += contrib[q]![idx[q]!]!;
        break;
      }
      idx[q] = 0;
      base += contrib[q]![0]!;
      q--;
    }
    if (q < 0) break;
  }
  return out;
}

/** The tensors with every permutation applied (float32, new arrays); tensors no group touches are returned as they are. */
export function applyPermutation(tensors: readonly NamedTensor[], spec: PermutationSpec, perms: Permutations): NamedTensor[] {
  checkPermutations(spec, perms);
  const byTensor = axisPermutations(spec, perms);
  return tensors.map((t) => {
    const perAxis = byTensor.get(t.name);
    if (!perAxis) return t;
    return { name: t.name, shape: [...t.shape], data: Float32Array.from(gatherAxisMajor(t.data, t.shape, perAxis, -1)) };
  });
}
