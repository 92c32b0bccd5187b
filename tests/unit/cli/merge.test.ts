import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openModel } from '../../../lib/formats/registry';
import type { TensorSource } from '../../../lib/formats/types';
import { writeSafetensors } from '../../../lib/formats/write-safetensors';
import { memorySource, singleFileModel } from '../../../lib/io/byte-source';
import { accuracy, mlpForward, mlpFromTensors, softmaxCrossEntropy } from '../../../lib/math/mlp';
import { ROOT, runCli as cli, TIMEOUT_MS } from './run-cli';

/**
 * `weightlens merge`, `match` and `interpolate` as a user runs them (the real CLI in a child
 * process) on the MNIST demo models. Every printed number is recomputed here from the files:
 * merges in float64 from the inputs, TIES sign conflicts by trimming the task vectors here, L2
 * distances, the permuted model's logits with the TypeScript forward pass (lib/math/mlp.ts), and
 * the path's loss with it too; the end points' accuracy is the one recorded in each file.
 */

const M = join(ROOT, 'public/models/mnist');
const F = (name: string) => join(M, `${name}.safetensors`);
const ONNX = join(M, 'mlp.onnx');
const DATA = join(M, 'mnist-eval.safetensors');
const SIZES = [784, 128, 128, 10];
const NAMES = ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias', 'fc3.weight', 'fc3.bias'];

const openBytes = (bytes: Uint8Array, name: string) => openModel(singleFileModel(memorySource(bytes, name)));
const openPath = (path: string) => openBytes(new Uint8Array(readFileSync(path)), path.split('/').pop()!);

async function tensors(src: TensorSource): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const t of src.tensors) out.set(t.name, await src.read(t.name));
  return out;
}

const l2 = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(s);
};

interface MergeJson {
  method: string;
  settings: Record<string, unknown>;
  sources: string[];
  base: string | null;
  pairing: { paired: number; non_float: string[]; unmatched: { name: string; shapes: (number[] | null)[]; reason: string }[] };
  tensors: { name: string; shape: number[]; norm: number; dist: number[]; lambda?: number; sign_conflicts?: number; sign_conflict_rate?: number }[];
  summary: { tensors: number; entries: number; signConflicts?: number; signConflictRate?: number };
  output?: { file: string; bytes: number; dtype: string };
}

let dir: string;
const model = new Map<string, Map<string, Float32Array>>();
let x: Float32Array;
let labels: Uint8Array;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wl-merge-cli-'));
  for (const name of ['mlp-seed1', 'mlp-seed2', 'mlp-base', 'mlp-ft-low', 'mlp-ft-high']) model.set(name, await tensors(await openPath(F(name))));
  const set = await openPath(DATA);
  const pixels = await set.read('inputs');
  x = new Float32Array(pixels.length);
  for (let i = 0; i < x.length; i++) x[i] = pixels[i]! / 255;
  labels = Uint8Array.from(await set.read('labels'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const w = (m: string, t: string) => model.get(m)!.get(t)!;

describe('weightlens merge', () => {
  it('linear at α = ½: the written model is exactly the average; norms and distances recomputed', async () => {
    const out = join(dir, 'avg.safetensors');
    const r = await cli(['merge', F('mlp-seed1'), F('mlp-seed2'), '--method', 'linear', '--alpha', '0.5', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as MergeJson;
    expect(j.settings).toEqual({ kind: 'linear', alpha: 0.5 });
    expect(j.pairing).toEqual({ paired: 6, non_float: [], unmatched: [] });
    const merged = await tensors(await openPath(out));
    expect([...merged.keys()]).toEqual(NAMES);
    for (const name of NAMES) {
      const a = w('mlp-seed1', name);
      const b = w('mlp-seed2', name);
      const m = merged.get(name)!;
      for (let i = 0; i < a.length; i++) if (m[i] !== Math.fround((a[i]! + b[i]!) / 2)) throw new Error(`${name}[${i}]: ${m[i]} is not the average`);
      const row = j.tensors.find((t) => t.name === name)!;
      expect(row.norm).toBeCloseTo(l2(m, new Float32Array(m.length)), 10);
      expect(row.dist[0]).toBeCloseTo(l2(m, a), 10);
      expect(row.dist[1]).toBeCloseTo(l2(m, b), 10);
    }
    expect(j.output).toMatchObject({ file: out, dtype: 'F32' });
  }, TIMEOUT_MS);

  it('ta with a base: base + λ·Στ, with a per-block λ for fc3', async () => {
    const out = join(dir, 'ta.safetensors');
    const r = await cli(['merge', F('mlp-ft-low'), F('mlp-ft-high'), '--base', F('mlp-base'), '--method', 'ta', '--lambda', '0.7', '--block-lambda', 'fc3\\.=0.3', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as MergeJson;
    expect(j.sources).toEqual([F('mlp-base'), F('mlp-ft-low'), F('mlp-ft-high')]);
    const merged = await tensors(await openPath(out));
    for (const name of NAMES) {
      const lambda = name.startsWith('fc3.') ? 0.3 : 0.7;
      expect(j.tensors.find((t) => t.name === name)!.lambda).toBe(lambda);
      const b0 = w('mlp-base', name);
      const t1 = w('mlp-ft-low', name);
      const t2 = w('mlp-ft-high', name);
      const m = merged.get(name)!;
      for (let i = 0; i < b0.length; i++) {
        const want = Math.fround(b0[i]! + lambda * ((t1[i]! - b0[i]!) + (t2[i]! - b0[i]!)));
        if (m[i] !== want) throw new Error(`${name}[${i}]: ${m[i]}, expected ${want}`);
      }
    }
  }, TIMEOUT_MS);

  it('ties: sign conflicts per tensor recomputed by trimming the task vectors here', async () => {
    const r = await cli(['merge', F('mlp-ft-low'), F('mlp-ft-high'), '--base', F('mlp-base'), '--method', 'ties', '--trim', '0.2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as MergeJson;
    let total = 0;
    let entries = 0;
    for (const name of NAMES) {
      const b0 = w('mlp-base', name);
      const trimmed = ['mlp-ft-low', 'mlp-ft-high'].map((m) => {
        const tau = Array.from(w(m, name), (v, i) => v - b0[i]!);
        const sorted = tau.map(Math.abs).sort((p, q) => p - q);
        const thr = sorted[tau.length - Math.max(1, Math.floor(0.2 * tau.length))]!;
        return tau.map((v) => (v !== 0 && Math.abs(v) >= thr ? v : 0));
      });
      let conflicts = 0;
      for (let i = 0; i < b0.length; i++) if (trimmed[0]![i]! * trimmed[1]![i]! < 0) conflicts++;
      const row = j.tensors.find((t) => t.name === name)!;
      expect(row.sign_conflicts, name).toBe(conflicts);
      expect(row.sign_conflict_rate).toBeCloseTo(conflicts / b0.length, 12);
      total += conflicts;
      entries += b0.length;
    }
    expect(j.summary.signConflicts).toBe(total);
    expect(j.summary.signConflictRate).toBeCloseTo(total / entries, 12);
    expect(total).toBeGreaterThan(0);
  }, TIMEOUT_MS);

  it('reports tensors missing from one model in a table instead of failing, and leaves them out of the file', async () => {
    const partial = join(dir, 'partial.safetensors');
    writeFileSync(partial, writeSafetensors(NAMES.filter((n) => n !== 'fc3.bias').map((n) => ({
      name: n, shape: n === 'fc3.weight' ? [10, 128] : n.endsWith('weight') ? (n === 'fc1.weight' ? [128, 784] : [128, 128]) : [128], dtype: 'F32', data: w('mlp-seed2', n),
    }))));
    const out = join(dir, 'partial-merged.safetensors');
    const j = await cli(['merge', F('mlp-seed1'), partial, '--method', 'slerp', '--out', out, '--json']);
    expect(j.code, j.stderr).toBe(0);
    const res = JSON.parse(j.stdout) as MergeJson;
    expect(res.pairing.unmatched).toEqual([{ name: 'fc3.bias', shapes: [[10], null], reason: 'missing' }]);
    expect(res.pairing.paired).toBe(5);
    const back = await openPath(out);
    expect(back.tensors.map((t) => t.name)).toEqual(NAMES.slice(0, 5));
    expect(JSON.parse(back.metadata['weightlens:unmatched'] as string)).toEqual(res.pairing.unmatched);
    const text = await cli(['merge', F('mlp-seed1'), partial, '--method', 'linear']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/1 unmatched/);
    expect(text.stdout).toMatch(/unmatched:\n.*name\s+reason\s+mlp-seed1\.safetensors\s+partial\.safetensors\n\s+fc3\.bias\s+missing\s+\[10\]\s+-/);
  }, TIMEOUT_MS);
});

describe('weightlens match', () => {
  it('permutes seed 2 onto seed 1: L2 shrinks, objective never falls, the written model computes seed 2\'s logits', async () => {
    const out = join(dir, 'matched.safetensors');
    const r = await cli(['match', F('mlp-seed1'), F('mlp-seed2'), '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { l2_before: number; l2_after: number; objectives: number[]; converged: boolean; groups: { name: string; moved: number }[] };
    const whole = (m: Map<string, Float32Array>) => Math.sqrt(NAMES.reduce((s, n) => s + l2(w('mlp-seed1', n), m.get(n)!) ** 2, 0));
    const permuted = await tensors(await openPath(out));
    expect(j.l2_before).toBeCloseTo(whole(model.get('mlp-seed2')!), 8);
    expect(j.l2_after).toBeCloseTo(whole(permuted), 8);
    expect(j.l2_after).toBeLessThan(j.l2_before);
    for (let i = 1; i < j.objectives.length; i++) expect(j.objectives[i]!).toBeGreaterThanOrEqual(j.objectives[i - 1]!);
    expect(j.converged).toBe(true);
    expect(j.groups.map((g) => g.name)).toEqual(['fc1.out/fc2.in', 'fc2.out/fc3.in']);
    expect(j.groups[0]!.moved).toBeGreaterThan(0);
    const n = 500;
    const xs = x.subarray(0, n * 784);
    const before = mlpForward(mlpFromTensors((k) => w('mlp-seed2', k), SIZES), xs, n);
    const after = mlpForward(mlpFromTensors((k) => permuted.get(k), SIZES), xs, n);
    let maxDiff = 0;
    for (let k = 0; k < before.length; k++) maxDiff = Math.max(maxDiff, Math.abs(before[k]! - after[k]!));
    expect(maxDiff).toBeLessThan(1e-5);
  }, TIMEOUT_MS);

  it('a --spec file that names a missing tensor exits 1 naming the spec file', async () => {
    const spec = join(dir, 'bad-spec.json');
    writeFileSync(spec, JSON.stringify({ groups: [{ name: 'h', size: 128, axes: [{ tensor: 'nope.weight', axis: 0 }] }] }));
    const r = await cli(['match', F('mlp-seed1'), F('mlp-seed2'), '--spec', spec]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(spec);
    expect(r.stderr).toContain('"nope.weight" is not in the model');
  }, TIMEOUT_MS);
});

describe('weightlens interpolate', () => {
  it('--points 5 --match: end points have the recorded accuracy, loss recomputed, barrier ≥ 0 and smaller after matching', async () => {
    const r = await cli(['interpolate', F('mlp-seed1'), F('mlp-seed2'), '--onnx', ONNX, '--data', DATA, '--points', '5', '--match', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as {
      n: number; alphas: number[]; weights: string[];
      naive: { loss: number[]; accuracy: number[]; barrier: number };
      matched: { loss: number[]; accuracy: number[]; barrier: number; l2_before: number; l2_after: number };
    };
    expect(j.n).toBe(2000);
    expect(j.alphas).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(j.weights).toEqual(NAMES);
    const meta1 = Number((await openPath(F('mlp-seed1'))).metadata.eval_accuracy);
    const meta2 = Number((await openPath(F('mlp-seed2'))).metadata.eval_accuracy);
    expect(j.naive.accuracy[0]).toBe(meta1);
    expect(j.naive.accuracy[4]).toBe(meta2);
    expect(j.matched.accuracy[0]).toBe(meta1);
    expect(j.matched.accuracy[4]).toBe(meta2);
    // The midpoint of the naive path, recomputed with the TypeScript forward pass.
    const mid = mlpFromTensors((k) => Float32Array.from(w('mlp-seed1', k), (v, i) => 0.5 * v + 0.5 * w('mlp-seed2', k)[i]!), SIZES);
    const logits = mlpForward(mid, x, 2000);
    expect(j.naive.loss[2]).toBeCloseTo(softmaxCrossEntropy(Float64Array.from(logits), labels, 2000, 10).loss, 4);
    expect(j.naive.accuracy[2]).toBe(accuracy(logits, labels, 10));
    const barrier = (l: number[]) => Math.max(...l) - 0.5 * (l[0]! + l[l.length - 1]!);
    expect(j.naive.barrier).toBeCloseTo(barrier(j.naive.loss), 12);
    expect(j.matched.barrier).toBeCloseTo(barrier(j.matched.loss), 12);
    expect(j.naive.barrier).toBeGreaterThanOrEqual(0);
    expect(j.matched.barrier).toBeGreaterThanOrEqual(0);
    expect(j.matched.barrier).toBeLessThan(j.naive.barrier);
    expect(j.matched.l2_after).toBeLessThan(j.matched.l2_before);
  }, TIMEOUT_MS);

  it('prints a table and the barrier without --json', async () => {
    const r = await cli(['interpolate', F('mlp-base'), F('mlp-ft-low'), '--onnx', ONNX, '--data', DATA, '--points', '3']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/alpha\s+loss\s+accuracy/);
    expect(r.stdout).toMatch(/loss barrier: /);
  }, TIMEOUT_MS);
});

describe('errors', () => {
  const usage: [string[], RegExp][] = [
    [['merge', 'a', 'b'], /merge needs --method/],
    [['merge', 'a', 'b', '--method', 'average'], /--method must be one of linear, slerp, ta, ties, dare, tsv; got "average"/],
    [['merge', 'a', 'b', '--method', 'linear', '--alpha', '1.5'], /--alpha must be a number in \[0, 1\]; got "1.5"/],
    [['merge', 'a', 'b', '--method', 'linear', '--trim', '0.2'], /--trim does not apply to --method linear/],
    [['merge', 'a', 'b', '--method', 'ta'], /needs --base B/],
    [['merge', 'a', 'b', 'c', '--method', 'slerp'], /interpolates exactly two models, got 3/],
    [['merge', 'a', '--base', 'b', '--method', 'ties', '--block-lambda', 'fc1'], /--block-lambda must be REGEX=LAMBDA/],
    [['merge', 'a', '--base', 'b', '--method', 'dare', '--drop', '1'], /--drop must be a number/],
    [['merge', 'a', 'b', '--method', 'linear', '--frobnicate'], /unknown option "--frobnicate" for merge/],
    [['match', 'a'], /match takes two models/],
    [['match', 'a', 'b', '--seed', '-1'], /--seed must be an integer/],
    [['interpolate', 'a', 'b', '--data', 'd'], /interpolate needs --onnx/],
    [['interpolate', 'a', 'b', '--onnx', 'g', '--data', 'd', '--points', '1'], /--points must be an integer in \[2, 10001\]; got "1"/],
    [['interpolate', 'a', 'b', '--onnx', 'g', '--data', 'd', '--seed', '3'], /--seed applies only with --match/],
  ];
  it.each(usage)('usage error %j exits 2 naming the flag', async (args, message) => {
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  }, TIMEOUT_MS);

  it('a corrupt model exits 1 naming the file, for merge, match and interpolate', async () => {
    const bad = join(dir, 'corrupt.safetensors');
    const bytes = new Uint8Array(64);
    new DataView(bytes.buffer).setBigUint64(0, 1000n, true);
    writeFileSync(bad, bytes);
    for (const args of [
      ['merge', F('mlp-seed1'), bad, '--method', 'linear'],
      ['match', bad, F('mlp-seed2')],
      ['interpolate', F('mlp-seed1'), F('mlp-seed2'), '--onnx', ONNX, '--data', bad],
    ]) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(/^weightlens: .*corrupt\.safetensors/);
    }
    const r = await cli(['interpolate', F('mlp-seed1'), F('mlp-seed2'), '--onnx', bad, '--data', DATA]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('corrupt.safetensors');
  }, TIMEOUT_MS);

  it('refuses to overwrite an input with --out', async () => {
    const r = await cli(['merge', F('mlp-seed1'), F('mlp-seed2'), '--method', 'linear', '--out', F('mlp-seed2')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--out .*mlp-seed2\.safetensors would overwrite the input/);
  }, TIMEOUT_MS);

  it('help lists the three commands', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['merge <a> <b> [more]', 'match <a> <b>', 'interpolate <a> <b> --onnx G --data D', '--block-lambda REGEX=L']) expect(r.stdout).toContain(c);
  }, TIMEOUT_MS);
});
