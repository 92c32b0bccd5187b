/**
 * Git Re-Basin weight matching (Ainsworth, Hayase & Srinivasa, ICLR 2023, §3.2): permute model B's
 * hidden units to align with model A by maximising Σ_t ⟨A_t, π(B)_t⟩ over the tensors of the spec.
 * The objective is linear in each group's permutation when the others are held fixed, so coordinate
 * descent solves one linear assignment per group: C[i][j] = Σ over the group's axes of the dot
 * product between slice i of A and slice j of B (its other axes already permuted), maximised.
 * Groups are visited in a seeded random order each iteration; it stops when a full pass changes no
 * permutation. A permutation is only replaced when it strictly improves its assignment, so the
 * objective never decreases and ties cannot make the descent cycle.
 */
import { throwIfAborted } from '../../base/errors';
import { Rng } from '../../base/rng';
import { linearAssignment } from '../../math/linear-assignment';
import { applyPermutation, axisPermutations, gatherAxisMajor } from './apply-permutation';
import { checkPermutations, validatePermutationSpec, type NamedTensor, type PermutationSpec, type Permutations } from './permutation-spec';

export interface WeightMatchingOptions {
  /** Seed of the group order (lib/base/rng). Default 0. */
  seed?: number;
  /** Full passes over the groups at most. Default 100 (MLPs converge in a handful). */
  maxIterations?: number;
  /** Starting permutations (identity for groups not given). */
  initial?: Permutations;
  signal?: AbortSignal;
  /** Called after every pass with its number (1-based) and the objective. */
  onIteration?: (iteration: number, objective: number) => void;
}

export interface WeightMatchingResult {
  /** perm[i] = the unit of B placed at position i; apply with applyPermutation(B, spec, perms). */
  perms: Permutations;
  /** Σ_t ⟨A_t, π(B)_t⟩ over the spec's tensors: [before any step, after pass 1, after pass 2, …]. */
  objectives: number[];
  /** Passes run (the last one changed nothing when converged). */
  iterations: number;
  converged: boolean;
}

/** Steps whose assignment gains less than this fraction of its value are treated as ties. */
const REL_TOL = 1e-12;

/** Σ_t ⟨A_t, π(B)_t⟩ over the tensors the spec touches (float64 accumulation). */
export function matchingObjective(a: readonly NamedTensor[], b: readonly NamedTensor[], spec: PermutationSpec, perms: Permutations): number {
  const byTensor = axisPermutations(spec, perms);
  const aByName = new Map(a.map((t) => [t.name, t]));
  const bByName = new Map(b.map((t) => [t.name, t]));
  let total = 0;
  for (const name of specTensors(spec)) {
    const ta = aByName.get(name)!;
    const pb = gatherAxisMajor(bByName.get(name)!.data, ta.shape, byTensor.get(name) ?? [], -1);
    let s = 0;
    for (let k = 0; k < pb.length; k++) s += ta.data[k]! * pb[k]!;
    total += s;
  }
  return total;
}

function specTensors(spec: PermutationSpec): string[] {
  return [...new Set(spec.groups.flatMap((g) => g.axes.map((x) => x.tensor)))];
}

export function weightMatching(a: readonly NamedTensor[], b: readonly NamedTensor[], specIn: PermutationSpec, opts: WeightMatchingOptions = {}): WeightMatchingResult {
  const spec = validatePermutationSpec(specIn, a, 'permutation spec (model A)');
  validatePermutationSpec(specIn, b, 'permutation spec (model B)');
  const aByName = new Map(a.map((t) => [t.name, t]));
  const bByName = new Map(b.map((t) => [t.name, t]));
  for (const name of specTensors(spec)) {
    const sa = aByName.get(name)!.shape;
    const sb = bByName.get(name)!.shape;
    if (sa.join(',') !== sb.join(',')) throw new RangeError(`weight matching: "${name}" is [${sa.join(', ')}] in model A but [${sb.join(', ')}] in model B`);
  }
  if (opts.initial) checkPermutations(spec, opts.initial, 'weight matching: initial');
  const perms: Permutations = {};
  for (const g of spec.groups) perms[g.name] = opts.initial?.[g.name]?.slice() ?? Int32Array.from({ length: g.size }, (_, i) => i);

  // A's slices along each claimed axis never change: lay them out once, axis-major.
  const aRows = new Map<string, Float64Array>();
  for (const g of spec.groups) for (const x of g.axes) aRows.set(`${x.tensor}#${x.axis}`, gatherAxisMajor(aByName.get(x.tensor)!.data, aByName.get(x.tensor)!.shape, [], x.axis));

  const rng = new Rng(opts.seed ?? 0);
  const maxIter = opts.maxIterations ?? 100;
  const objectives = [matchingObjective(a, b, spec, perms)];
  let converged = false;
  let iterations = 0;
  const order = Array.from({ length: spec.groups.length }, (_, i) => i);
  while (iterations < maxIter) {
    iterations++;
    rng.shuffle(order);
    let changed = false;
    for (const gi of order) {
      throwIfAborted(opts.signal);
      const g = spec.groups[gi]!;
      const n = g.size;
      const byTensor = axisPermutations(spec, perms);
      const cost = new Float64Array(n * n);
      for (const x of g.axes) {
        const tb = bByName.get(x.tensor)!;
        const ar = aRows.get(`${x.tensor}#${x.axis}`)!;
        const br = gatherAxisMajor(tb.data, tb.shape, byTensor.get(x.tensor) ?? [], x.axis);
        const rest = ar.length / n;
        // cost[i][j] += ⟨A slice i, B slice j⟩
        for (let i = 0; i < n; i++) {
          const ao = i * rest;
          for (let j = 0; j < n; j++) {
            const bo = j * rest;
            let s = 0;
            for (let k = 0; k < rest; k++) s += ar[ao + k]! * br[bo + k]!;
            cost[i * n + j] = cost[i * n + j]! + s;
          }
        }
      }
      const cur = perms[g.name]!;
      let curVal = 0;
      for (let i = 0; i < n; i++) curVal += cost[i * n + cur[i]!]!;
      const best = linearAssignment(cost, n, n, { maximize: true, label: `weight matching: group "${g.name}"` });
      if (best.objective > curVal + REL_TOL * Math.max(1, Math.abs(curVal))) {
        let differs = false;
        for (let i = 0; i < n; i++) if (best.rowToCol[i] !== cur[i]) differs = true;
        if (differs) {
          perms[g.name] = best.rowToCol;
          changed = true;
        }
      }
    }
    const obj = matchingObjective(a, b, spec, perms);
    objectives.push(obj);
    opts.onIteration?.(iterations, obj);
    if (!changed) {
      converged = true;
      break;
    }
  }
  return { perms, objectives, iterations, converged };
}

// One import for callers (CLI, worker): the spec helpers live in their own files.
export { applyPermutation };
export { inferMlpSpec } from './infer-mlp-spec';
export { parsePermutationSpec, validatePermutationSpec, type NamedTensor, type PermutationSpec, type Permutations } from './permutation-spec';
