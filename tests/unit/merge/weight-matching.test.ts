/**
 * Git Re-Basin weight matching on the committed MNIST demo MLPs (784-128-128-10, two seeds):
 * permutations preserve the function (logits recomputed by the reference forward pass), a model
 * matched to a shuffled copy of itself is unshuffled exactly, the objective never decreases, and
 * matching brings seed 2 closer to seed 1. Plus spec inference and JSON spec validation.
 */
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openModel, pickPrimary } from '@/lib/formats/registry';
import { openNodeModel } from '@/lib/io/node/node-file-source';
import { mlpForward, mlpFromTensors } from '@/lib/math/mlp';
import { Rng } from '@/lib/base/rng';
import { CancelledError, FormatError, UnsupportedError } from '@/lib/base/errors';
import { inferMlpSpec } from '@/lib/analysis/merge/infer-mlp-spec';
import { applyPermutation } from '@/lib/analysis/merge/apply-permutation';
import { matchingObjective, weightMatching } from '@/lib/analysis/merge/weight-matching';
import { parsePermutationSpec, validatePermutationSpec, type NamedTensor, type PermutationSpec, type Permutations } from '@/lib/analysis/merge/permutation-spec';

const DIR = path.resolve(__dirname, '../../../public/models/mnist');
const SIZES = [784, 128, 128, 10];
const N_EVAL = 500;

async function load(file: string): Promise<NamedTensor[]> {
  const input = await openNodeModel(path.join(DIR, file), (n) => pickPrimary(n));
  try {
    const src = await openModel(input);
    const out: NamedTensor[] = [];
    for (const t of src.tensors) out.push({ name: t.name, shape: [...t.shape], data: await src.read(t.name) });
    return out;
  } finally {
    await input.close();
  }
}

const get = (ts: readonly NamedTensor[]) => (name: string) => ts.find((t) => t.name === name)?.data;
const logits = (ts: readonly NamedTensor[]) => mlpForward(mlpFromTensors(get(ts), SIZES), x, N_EVAL);

function randomPerms(spec: PermutationSpec, seed: number): Permutations {
  const rng = new Rng(seed);
  const out: Permutations = {};
  for (const g of spec.groups) {
    const p = Int32Array.from({ length: g.size }, (_, i) => i);
    rng.shuffle(p);
    out[g.name] = p;
  }
  return out;
}

function inverse(p: Int32Array): Int32Array {
  const q = new Int32Array(p.length);
  p.forEach((j, i) => (q[j] = i));
  return q;
}

/** Whole-model L2 distance, float64. */
function l2(a: readonly NamedTensor[], b: readonly NamedTensor[]): number {
  let s = 0;
  for (const ta of a) {
    const tb = get(b)(ta.name)!;
    for (let k = 0; k < ta.data.length; k++) s += (ta.data[k]! - tb[k]!) ** 2;
  }
  return Math.sqrt(s);
}

let seed1: NamedTensor[];
let seed2: NamedTensor[];
let x: Float32Array;
let spec: PermutationSpec;

beforeAll(async () => {
  seed1 = await load('mlp-seed1.safetensors');
  seed2 = await load('mlp-seed2.safetensors');
  const input = await openNodeModel(path.join(DIR, 'mnist-eval.safetensors'), (n) => pickPrimary(n));
  try {
    const pixels = await (await openModel(input)).read('inputs');
    x = new Float32Array(N_EVAL * 784);
    for (let i = 0; i < x.length; i++) x[i] = pixels[i]! / 255;
  } finally {
    await input.close();
  }
  spec = inferMlpSpec(seed1, 'mlp-seed1.safetensors');
});

describe('inferMlpSpec', () => {
  it('MNIST MLP: groups fc1 out/fc2 in and fc2 out/fc3 in, sizes 128 and 128; logits not permuted', () => {
    expect(spec.groups).toEqual([
      {
        name: 'fc1.out/fc2.in',
        size: 128,
        axes: [
          { tensor: 'fc1.weight', axis: 0 },
          { tensor: 'fc1.bias', axis: 0 },
          { tensor: 'fc2.weight', axis: 1 },
        ],
      },
      {
        name: 'fc2.out/fc3.in',
        size: 128,
        axes: [
          { tensor: 'fc2.weight', axis: 0 },
          { tensor: 'fc2.bias', axis: 0 },
          { tensor: 'fc3.weight', axis: 1 },
        ],
      },
    ]);
    expect(validatePermutationSpec(spec, seed1)).toEqual(spec);
  });
  it('orders layers by natural name order (fc2 before fc10) and handles missing biases and conv (OIHW) chains', () => {
    const s = inferMlpSpec([
      { name: 'fc10.weight', shape: [3, 5] },
      { name: 'fc2.weight', shape: [5, 4] },
      { name: 'fc2.bias', shape: [5] },
      { name: 'conv.weight', shape: [4, 1, 3, 3] },
    ]);
    expect(s.groups.map((g) => [g.name, g.size, g.axes.map((a) => `${a.tensor}:${a.axis}`).join(' ')])).toEqual([
      ['conv.out/fc2.in', 4, 'conv.weight:0 fc2.weight:1'],
      ['fc2.out/fc10.in', 5, 'fc2.weight:0 fc2.bias:0 fc10.weight:1'],
    ]);
  });
  it('refuses what is not a plain chain, naming the tensors', () => {
    expect(() => inferMlpSpec([{ name: 'fc1.weight', shape: [4, 3] }])).toThrow(UnsupportedError);
    expect(() =>
      inferMlpSpec([
        { name: 'fc1.weight', shape: [4, 3] },
        { name: 'fc2.weight', shape: [2, 5] },
      ]),
    ).toThrow('"fc1.weight" has 4 outputs but the next layer "fc2.weight" takes 5 inputs');
    expect(() =>
      inferMlpSpec([
        { name: 'fc1.weight', shape: [4, 3] },
        { name: 'ln.gamma', shape: [4] },
        { name: 'fc2.weight', shape: [2, 4] },
      ]),
    ).toThrow('"ln.gamma" [4] are not Linear/Conv weights or biases; give the permutation spec as JSON');
    expect(() =>
      inferMlpSpec([
        { name: 'fc1.weight', shape: [4, 3] },
        { name: 'fc1.bias', shape: [3] },
        { name: 'fc2.weight', shape: [2, 4] },
      ]),
    ).toThrow('"fc1.bias" has shape [3], expected [4]');
  });
});

describe('applyPermutation', () => {
  it('a permuted seed 2 computes the same logits as seed 2 (within 1e-5)', () => {
    const perms = randomPerms(spec, 42);
    const permuted = applyPermutation(seed2, spec, perms);
    // Something really moved: fc1.weight row 0 is now the row perm[0] of the original.
    const p = perms['fc1.out/fc2.in']!;
    expect(p[0]).not.toBe(0);
    expect(Array.from(get(permuted)('fc1.weight')!.subarray(0, 784))).toEqual(Array.from(get(seed2)('fc1.weight')!.subarray(p[0]! * 784, p[0]! * 784 + 784)));
    expect(get(permuted)('fc2.weight')![0]).toBe(get(seed2)('fc2.weight')![perms['fc2.out/fc3.in']![0]! * 128 + p[0]!]);
    const before = logits(seed2);
    const after = logits(permuted);
    let maxDiff = 0;
    for (let k = 0; k < before.length; k++) maxDiff = Math.max(maxDiff, Math.abs(before[k]! - after[k]!));
    expect(maxDiff).toBeLessThan(1e-5);
    // fc3.bias is untouched and passed through as is.
    expect(get(permuted)('fc3.bias')).toBe(get(seed2)('fc3.bias'));
  });
  it('applying p then its inverse restores the tensors exactly', () => {
    const perms = randomPerms(spec, 3);
    const inv = Object.fromEntries(Object.entries(perms).map(([k, v]) => [k, inverse(v)]));
    const back = applyPermutation(applyPermutation(seed2, spec, perms), spec, inv);
    for (const t of seed2) expect(Array.from(get(back)(t.name)!)).toEqual(Array.from(t.data));
  });
  it('refuses permutations that are not permutations or belong to no group', () => {
    expect(() => applyPermutation(seed2, spec, { 'fc1.out/fc2.in': new Int32Array(128) })).toThrow('group "fc1.out/fc2.in" is not a permutation (entry 1 = 0)');
    expect(() => applyPermutation(seed2, spec, { 'fc1.out/fc2.in': new Int32Array(3) })).toThrow('has size 128, permutation has 3 entries');
    expect(() => applyPermutation(seed2, spec, { nope: new Int32Array(3) })).toThrow('no group "nope"');
  });
});

describe('weightMatching', () => {
  it('recovers a hidden permutation of a model exactly: objective = ‖W‖² over the spec tensors', () => {
    const hidden = randomPerms(spec, 9);
    const shuffled = applyPermutation(seed1, spec, hidden);
    const r = weightMatching(seed1, shuffled, spec, { seed: 1 });
    expect(r.converged).toBe(true);
    for (const g of spec.groups) expect(Array.from(r.perms[g.name]!)).toEqual(Array.from(inverse(hidden[g.name]!)));
    const restored = applyPermutation(shuffled, spec, r.perms);
    for (const t of seed1) expect(Array.from(get(restored)(t.name)!)).toEqual(Array.from(t.data));
    const specNames = new Set(spec.groups.flatMap((g) => g.axes.map((a) => a.tensor)));
    let sq = 0;
    for (const t of seed1) if (specNames.has(t.name)) for (const v of t.data) sq += v * v;
    expect(r.objectives.at(-1)!).toBeCloseTo(sq, 6);
    expect(r.objectives[0]!).toBeLessThan(0.5 * sq);
  });
  it('seed 2 matched to seed 1: objective never decreases, stops when nothing changes, same function, closer in L2', () => {
    const seen: number[] = [];
    const r = weightMatching(seed1, seed2, spec, { seed: 4, onIteration: (_, o) => seen.push(o) });
    expect(r.converged).toBe(true);
    expect(r.objectives.length).toBe(r.iterations + 1);
    expect(seen).toEqual(r.objectives.slice(1));
    for (let k = 1; k < r.objectives.length; k++) expect(r.objectives[k]!).toBeGreaterThanOrEqual(r.objectives[k - 1]!);
    expect(r.objectives.at(-1)!).toBeGreaterThan(r.objectives[0]!);
    // The last pass changed nothing: its objective equals the one before it.
    expect(r.objectives.at(-1)).toBe(r.objectives.at(-2));
    const matched = applyPermutation(seed2, spec, r.perms);
    expect(matchingObjective(seed1, matched, spec, {})).toBeCloseTo(r.objectives.at(-1)!, 6);
    expect(l2(seed1, matched)).toBeLessThan(l2(seed1, seed2));
    const before = logits(seed2);
    const after = logits(matched);
    let maxDiff = 0;
    for (let k = 0; k < before.length; k++) maxDiff = Math.max(maxDiff, Math.abs(before[k]! - after[k]!));
    expect(maxDiff).toBeLessThan(1e-5);
    // A local optimum of the coordinate descent: one more pass from it changes nothing.
    const again = weightMatching(seed1, seed2, spec, { seed: 99, initial: r.perms });
    expect(again.iterations).toBe(1);
    for (const g of spec.groups) expect(Array.from(again.perms[g.name]!)).toEqual(Array.from(r.perms[g.name]!));
  });
  it('is reproducible from its seed', () => {
    const a = weightMatching(seed1, seed2, spec, { seed: 7 });
    const b = weightMatching(seed1, seed2, spec, { seed: 7 });
    expect(a.objectives).toEqual(b.objectives);
    for (const g of spec.groups) expect(Array.from(a.perms[g.name]!)).toEqual(Array.from(b.perms[g.name]!));
  });
  it('each step is an exact assignment: no single swap of two units improves the objective at convergence', () => {
    const r = weightMatching(seed1, seed2, spec, { seed: 2 });
    const best = r.objectives.at(-1)!;
    const rng = new Rng(5);
    for (let t = 0; t < 20; t++) {
      const g = spec.groups[t % 2]!;
      const p = r.perms[g.name]!.slice();
      const i = rng.int(128);
      const j = (i + 1 + rng.int(127)) % 128;
      [p[i], p[j]] = [p[j]!, p[i]!];
      expect(matchingObjective(seed1, seed2, spec, { ...r.perms, [g.name]: p })).toBeLessThanOrEqual(best + 1e-9);
    }
  });
});

/** Naive 2-D convolution, OIHW weights, stride 1, zero padding `pad`, input [C, H, W]; optional ReLU. */
function conv2d(x: Float64Array, c: number, h: number, w: number, weight: NamedTensor, bias: NamedTensor, pad: number, relu: boolean): Float64Array {
  const [o, i, kh, kw] = weight.shape as [number, number, number, number];
  expect(i).toBe(c);
  const oh = h + 2 * pad - kh + 1;
  const ow = w + 2 * pad - kw + 1;
  const y = new Float64Array(o * oh * ow);
  for (let oc = 0; oc < o; oc++) {
    for (let r = 0; r < oh; r++) {
      for (let q = 0; q < ow; q++) {
        let s = bias.data[oc]!;
        for (let ic = 0; ic < c; ic++) {
          for (let dr = 0; dr < kh; dr++) {
            for (let dq = 0; dq < kw; dq++) {
              const rr = r + dr - pad;
              const qq = q + dq - pad;
              if (rr < 0 || rr >= h || qq < 0 || qq >= w) continue;
              s += x[(ic * h + rr) * w + qq]! * weight.data[((oc * i + ic) * kh + dr) * kw + dq]!;
            }
          }
        }
        y[(oc * oh + r) * ow + q] = relu && s < 0 ? 0 : s;
      }
    }
  }
  return y;
}

describe('conv chains (OIHW)', () => {
  const rng = new Rng(12);
  const mk = (name: string, shape: number[]): NamedTensor => ({ name, shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal() * 0.3) });
  const net = [mk('conv1.weight', [6, 3, 3, 3]), mk('conv1.bias', [6]), mk('conv2.weight', [5, 6, 3, 3]), mk('conv2.bias', [5]), mk('conv3.weight', [2, 5, 1, 1]), mk('conv3.bias', [2])];
  const run = (ts: readonly NamedTensor[], input: Float64Array): Float64Array => {
    const t = (n: string) => ts.find((z) => z.name === n)!;
    const h1 = conv2d(input, 3, 8, 8, t('conv1.weight'), t('conv1.bias'), 1, true);
    const h2 = conv2d(h1, 6, 8, 8, t('conv2.weight'), t('conv2.bias'), 1, true);
    return conv2d(h2, 5, 8, 8, t('conv3.weight'), t('conv3.bias'), 0, false);
  };
  it('inferred spec permutes output channels with the next input channels; the permuted net computes the same outputs', () => {
    const cspec = inferMlpSpec(net);
    expect(cspec.groups.map((g) => [g.name, g.size])).toEqual([
      ['conv1.out/conv2.in', 6],
      ['conv2.out/conv3.in', 5],
    ]);
    const input = Float64Array.from({ length: 3 * 8 * 8 }, () => rng.normal());
    const perms = randomPerms(cspec, 8);
    const y0 = run(net, input);
    const y1 = run(applyPermutation(net, cspec, perms), input);
    for (let k = 0; k < y0.length; k++) expect(Math.abs(y0[k]! - y1[k]!)).toBeLessThan(1e-9);
  });
  it('matching a shuffled copy of a conv chain recovers the permutation', () => {
    const cspec = inferMlpSpec(net);
    const hidden = randomPerms(cspec, 21);
    const r = weightMatching(net, applyPermutation(net, cspec, hidden), cspec, { seed: 3 });
    for (const g of cspec.groups) expect(Array.from(r.perms[g.name]!)).toEqual(Array.from(inverse(hidden[g.name]!)));
  });
});

describe('weightMatching input checks', () => {
  it('a spec that does not fit model B names model B', () => {
    const small = seed2.map((t) => (t.name === 'fc1.bias' ? { ...t, shape: [64], data: t.data.subarray(0, 64) } : t));
    expect(() => weightMatching(seed1, small, spec)).toThrow('permutation spec (model B): groups[0].axes[1]: "fc1.bias" axis 0 has length 64, group "fc1.out/fc2.in" has size 128');
  });
  it('an aborted signal stops it with CancelledError', () => {
    const ac = new AbortController();
    ac.abort();
    expect(() => weightMatching(seed1, seed2, spec, { signal: ac.signal })).toThrow(CancelledError);
  });
});

describe('permutation spec from JSON', () => {
  const ok = JSON.stringify({ groups: [{ name: 'h', size: 128, axes: [{ tensor: 'fc1.weight', axis: 0 }, { tensor: 'fc1.bias', axis: 0 }, { tensor: 'fc2.weight', axis: 1 }] }] });
  it('a valid spec parses and drives matching and permutation', () => {
    const s = parsePermutationSpec(ok, seed1);
    expect(s.groups.length).toBe(1);
    const r = weightMatching(seed1, seed2, s, { seed: 1 });
    const matched = applyPermutation(seed2, s, r.perms);
    const before = logits(seed2);
    const after = logits(matched);
    for (let k = 0; k < before.length; k += 97) expect(Math.abs(before[k]! - after[k]!)).toBeLessThan(1e-5);
  });
  const cases: [string, string][] = [
    ['{ "groups": [', 'spec.json: not valid JSON'],
    ['[1, 2]', 'spec.json: expected an object { "groups": [...] }'],
    ['{"groups": {}}', '"groups" must be an array'],
    ['{"groups": [{"size": 128, "axes": []}]}', 'groups[0].name must be a non-empty string'],
    ['{"groups": [{"name": "h", "size": 0, "axes": [{"tensor": "fc1.bias", "axis": 0}]}]}', 'groups[0] ("h"): size must be a positive integer, got 0'],
    ['{"groups": [{"name": "h", "size": 128, "axes": []}]}', 'groups[0] ("h"): axes must be a non-empty array'],
    ['{"groups": [{"name": "h", "size": 128, "axes": [{"tensor": "fc9.weight", "axis": 0}]}]}', 'groups[0].axes[0]: tensor "fc9.weight" is not in the model'],
    ['{"groups": [{"name": "h", "size": 128, "axes": [{"tensor": "fc1.weight", "axis": 2}]}]}', 'axis 2 is out of range for "fc1.weight" of shape [128, 784]'],
    ['{"groups": [{"name": "h", "size": 128, "axes": [{"tensor": "fc1.weight", "axis": 1}]}]}', '"fc1.weight" axis 1 has length 784, group "h" has size 128'],
    [
      '{"groups": [{"name": "h", "size": 128, "axes": [{"tensor": "fc1.bias", "axis": 0}]}, {"name": "h", "size": 128, "axes": [{"tensor": "fc2.bias", "axis": 0}]}]}',
      'groups[1]: group name "h" is used twice',
    ],
    [
      '{"groups": [{"name": "a", "size": 128, "axes": [{"tensor": "fc1.bias", "axis": 0}]}, {"name": "b", "size": 128, "axes": [{"tensor": "fc1.bias", "axis": 0}]}]}',
      'groups[1].axes[0]: "fc1.bias" axis 0 is already in group "a"',
    ],
  ];
  for (const [text, msg] of cases) {
    it(`rejects ${text.slice(0, 60)} with "${msg}"`, () => {
      expect(() => parsePermutationSpec(text, seed1, 'spec.json')).toThrow(FormatError);
      expect(() => parsePermutationSpec(text, seed1, 'spec.json')).toThrow(msg);
    });
  }
  it('refuses a tensor twice in one group (the step would not be a linear assignment)', () => {
    const t = [{ name: 'r.weight', shape: [4, 4] }];
    expect(() => validatePermutationSpec({ groups: [{ name: 'h', size: 4, axes: [{ tensor: 'r.weight', axis: 0 }, { tensor: 'r.weight', axis: 1 }] }] }, t)).toThrow(UnsupportedError);
  });
});
