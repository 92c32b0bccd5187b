/**
 * Permutation specs for weight matching: which tensor axes share one permutation of hidden units.
 * A group is one set of units (e.g. fc1's outputs = fc2's inputs); permuting it reorders fc1.weight
 * rows, fc1.bias and fc2.weight columns together, which leaves the network's function unchanged.
 * Specs come from inferMlpSpec or from the user as JSON; both go through validatePermutationSpec.
 */
import { FormatError, UnsupportedError } from '../../base/errors';
import { MAX_ASSIGNMENT_CELLS } from '../../base/limits';

export interface PermutationAxis {
  tensor: string;
  axis: number;
}

export interface PermutationGroup {
  name: string;
  size: number;
  axes: PermutationAxis[];
}

export interface PermutationSpec {
  groups: PermutationGroup[];
}

/** A decoded tensor: name, shape and float32 values in row-major order. */
export interface NamedTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** Perms by group name: perm[i] = the unit of the original that lands at position i. */
export type Permutations = Record<string, Int32Array>;

/** A group's size is a linear assignment of size² cells; the same bound applies. */
export const MAX_GROUP_SIZE = Math.floor(Math.sqrt(MAX_ASSIGNMENT_CELLS));

const bad = (label: string, msg: string) => new FormatError('bad-spec', `${label}: ${msg}`);

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Parses JSON text and validates it against the model's tensors. */
export function parsePermutationSpec(text: string, tensors: readonly { name: string; shape: readonly number[] }[], label = 'permutation spec'): PermutationSpec {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new FormatError('invalid-json', `${label}: not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  return validatePermutationSpec(json, tensors, label);
}

/**
 * Checks shape and content: { groups: [{ name, size, axes: [{ tensor, axis }] }] }, names unique,
 * every tensor in the model, every axis in range and of length `size`, no axis in two groups, no
 * tensor twice in one group. Returns a clean copy (extra keys dropped).
 */
export function validatePermutationSpec(spec: unknown, tensors: readonly { name: string; shape: readonly number[] }[], label = 'permutation spec'): PermutationSpec {
  if (!isRecord(spec)) throw bad(label, 'expected an object { "groups": [...] }');
  const groups = spec.groups;
  if (!Array.isArray(groups)) throw bad(label, '"groups" must be an array of { name, size, axes }');
  const shapes = new Map(tensors.map((t) => [t.name, t.shape]));
  const names = new Set<string>();
  const claimed = new Map<string, string>(); // "tensor#axis" → group name
  const out: PermutationGroup[] = [];
  groups.forEach((g: unknown, gi) => {
    const where = `groups[${gi}]`;
    if (!isRecord(g)) throw bad(label, `${where} must be an object { name, size, axes }`);
    const { name, size, axes } = g;
    if (typeof name !== 'string' || name === '') throw bad(label, `${where}.name must be a non-empty string`);
    if (names.has(name)) throw bad(label, `${where}: group name "${name}" is used twice`);
    names.add(name);
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 1) throw bad(label, `${where} ("${name}"): size must be a positive integer, got ${JSON.stringify(size)}`);
    if (size > MAX_GROUP_SIZE) throw bad(label, `${where} ("${name}"): size ${size} exceeds the limit of ${MAX_GROUP_SIZE}`);
    if (!Array.isArray(axes) || axes.length === 0) throw bad(label, `${where} ("${name}"): axes must be a non-empty array of { tensor, axis }`);
    const inGroup = new Set<string>();
    const clean: PermutationAxis[] = axes.map((a: unknown, ai) => {
      const at = `${where}.axes[${ai}]`;
      if (!isRecord(a)) throw bad(label, `${at} must be an object { tensor, axis }`);
      const { tensor, axis } = a;
      if (typeof tensor !== 'string') throw bad(label, `${at}.tensor must be a string`);
      const shape = shapes.get(tensor);
      if (!shape) throw bad(label, `${at}: tensor "${tensor}" is not in the model`);
      if (typeof axis !== 'number' || !Number.isInteger(axis) || axis < 0 || axis >= shape.length) {
        throw bad(label, `${at}: axis ${JSON.stringify(axis)} is out of range for "${tensor}" of shape [${shape.join(', ')}]`);
      }
      if (shape[axis] !== size) throw bad(label, `${at}: "${tensor}" axis ${axis} has length ${shape[axis]}, group "${name}" has size ${size}`);
      const key = `${tensor}#${axis}`;
      const other = claimed.get(key);
      if (other !== undefined) throw bad(label, `${at}: "${tensor}" axis ${axis} is already in group "${other}"`);
      claimed.set(key, name);
      // Permuting two axes of one tensor by the same group makes the matching objective quadratic
      // in that permutation; one linear assignment per step would no longer be exact.
      if (inGroup.has(tensor)) throw new UnsupportedError('spec-tensor-twice', `${label}: ${at}: "${tensor}" appears twice in group "${name}"; not supported`);
      inGroup.add(tensor);
      return { tensor, axis };
    });
    out.push({ name, size, axes: clean });
  });
  return { groups: out };
}

/** Checks that each given permutation is a permutation of 0..size−1 for a group of the spec. */
export function checkPermutations(spec: PermutationSpec, perms: Permutations, label = 'permutation'): void {
  const known = new Set(spec.groups.map((g) => g.name));
  for (const name of Object.keys(perms)) if (!known.has(name)) throw new RangeError(`${label}: no group "${name}" in the spec`);
  for (const g of spec.groups) {
    const p = perms[g.name];
    if (!p) continue;
    if (p.length !== g.size) throw new RangeError(`${label}: group "${g.name}" has size ${g.size}, permutation has ${p.length} entries`);
    const seen = new Uint8Array(g.size);
    for (let i = 0; i < p.length; i++) {
      const j = p[i]!;
      if (!(j >= 0 && j < g.size) || seen[j]) throw new RangeError(`${label}: group "${g.name}" is not a permutation (entry ${i} = ${j})`);
      seen[j] = 1;
    }
  }
}
