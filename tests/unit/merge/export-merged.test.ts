/**
 * Merged and permuted models written as safetensors and read back with openModel: merged tensors
 * equal mergeModels' float32 values bit for bit, half-precision inputs give a half-precision file
 * (the merge rounded once), non-float tensors are copied byte for byte, and a permuted MNIST MLP
 * read back from its file computes the same logits as the original (lib/math/mlp.ts).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildMergedSafetensors, buildPermutedSafetensors, commonHalfDtype, MERGED_FORMAT, PERMUTED_FORMAT, summarizeMerge,
} from '@/lib/analysis/merge/export-merged';
import { mergeModels, type MergeResult } from '@/lib/analysis/merge/merge-methods';
import { applyPermutation } from '@/lib/analysis/merge/apply-permutation';
import { inferMlpSpec } from '@/lib/analysis/merge/infer-mlp-spec';
import { weightMatching } from '@/lib/analysis/merge/weight-matching';
import type { NamedTensor } from '@/lib/analysis/merge/permutation-spec';
import { safetensorsRawReader } from '@/lib/analysis/quant/export-quantized';
import { UnsupportedError } from '@/lib/base/errors';
import { f16ToF32 } from '@/lib/formats/dtype';
import { openModel } from '@/lib/formats/registry';
import { f32ToBf16Bits, f32ToF16Bits } from '@/lib/formats/safetensors/encode-values';
import type { TensorSource } from '@/lib/formats/types';
import { writeSafetensors } from '@/lib/formats/write-safetensors';
import { memorySource, singleFileModel } from '@/lib/io/byte-source';
import { mlpForward, mlpFromTensors } from '@/lib/math/mlp';

const DIR = path.resolve(__dirname, '../../../public/models/mnist');
const N_EVAL = 500;

const reopen = (bytes: Uint8Array, name = 'merged.safetensors') => openModel(singleFileModel(memorySource(bytes, name)));
const openFile = (f: string) => reopen(new Uint8Array(readFileSync(path.join(DIR, f))), f);

async function tensorsOf(src: TensorSource): Promise<NamedTensor[]> {
  const out: NamedTensor[] = [];
  for (const t of src.tensors) out.push({ name: t.name, shape: [...t.shape], data: await src.read(t.name) });
  return out;
}

async function expectRoundTrip(result: MergeResult, bytes: Uint8Array): Promise<TensorSource> {
  const back = await reopen(bytes);
  expect(back.tensors.map((t) => t.name)).toEqual(result.tensors.map((t) => t.name));
  for (const t of result.tensors) {
    const info = back.tensors.find((x) => x.name === t.name)!;
    expect(info.shape).toEqual(t.shape);
    expect(await back.read(t.name)).toEqual(t.data);
  }
  return back;
}

let seed1: TensorSource;
let seed2: TensorSource;
let base: TensorSource;
let low: TensorSource;
let high: TensorSource;
let x: Float32Array;

beforeAll(async () => {
  const all = await Promise.all(['mlp-seed1', 'mlp-seed2', 'mlp-base', 'mlp-ft-low', 'mlp-ft-high'].map((m) => openFile(`${m}.safetensors`)));
  [seed1, seed2, base, low, high] = all as [TensorSource, TensorSource, TensorSource, TensorSource, TensorSource];
  const pixels = await (await openFile('mnist-eval.safetensors')).read('inputs');
  x = new Float32Array(N_EVAL * 784);
  for (let i = 0; i < x.length; i++) x[i] = pixels[i]! / 255;
});

describe('buildMergedSafetensors on the MNIST demo', () => {
  it('linear α = ½ of the two seeds: F32 file equal to mergeModels bit for bit, metadata names method and sources', async () => {
    const r = await mergeModels({ models: [seed1, seed2], method: { kind: 'linear', alpha: 0.5 } });
    const back = await expectRoundTrip(r, await buildMergedSafetensors(r, seed1));
    expect(back.tensors.every((t) => t.dtype === 'F32')).toBe(true);
    expect(back.metadata['weightlens:format']).toBe(MERGED_FORMAT);
    expect(JSON.parse(back.metadata['weightlens:method'] as string)).toEqual({ kind: 'linear', alpha: 0.5 });
    expect(JSON.parse(back.metadata['weightlens:sources'] as string)).toEqual(['mlp-seed1.safetensors', 'mlp-seed2.safetensors']);
    expect(JSON.parse(back.metadata['weightlens:unmatched'] as string)).toEqual([]);
    // Independent check of one entry: the average, rounded to float32 once.
    const a = await seed1.read('fc2.weight');
    const b = await seed2.read('fc2.weight');
    const m = await back.read('fc2.weight');
    for (const i of [0, 77, 16383]) expect(m[i]).toBe(Math.fround((a[i]! + b[i]!) / 2));
  });

  it('TIES of the two fine-tunes on the base: round trip, and the summary conflict rate is the per-tensor counts pooled', async () => {
    const r = await mergeModels({ models: [low, high], base, method: { kind: 'ties', lambda: 1, keep: 0.2 } });
    const back = await expectRoundTrip(r, await buildMergedSafetensors(r, base));
    const summary = JSON.parse(back.metadata['weightlens:summary'] as string);
    const conflicts = r.stats.reduce((s, st) => s + st.signConflicts!, 0);
    const entries = r.tensors.reduce((s, t) => s + t.data.length, 0);
    expect(summary).toEqual(summarizeMerge(r));
    expect(summary.signConflicts).toBe(conflicts);
    expect(summary.signConflictRate).toBeCloseTo(conflicts / entries, 15);
    expect(conflicts).toBeGreaterThan(0);
    const stats = JSON.parse(back.metadata['weightlens:stats'] as string);
    expect(stats).toHaveLength(6);
    expect(stats[0]).toMatchObject({ name: 'fc1.weight', lambda: 1, signConflicts: r.stats[0]!.signConflicts });
    expect(JSON.parse(back.metadata['weightlens:sources'] as string)).toEqual(['mlp-base.safetensors', 'mlp-ft-low.safetensors', 'mlp-ft-high.safetensors']);
  });
});

describe('dtypes and copied tensors', () => {
  const a16 = [0.1, -2.5, 3.0009765625, 1e-3, 7, 0.5];
  const b16 = [0.3, 1.5, -1.25, 2e-3, -7, 0.25];
  const half = (dtype: 'F16' | 'BF16', vals: number[], step: number, name: string) =>
    reopen(writeSafetensors([
      { name: 'w', shape: [2, 3], dtype, data: Float32Array.from(vals) },
      { name: 'count', shape: [1], dtype: 'I64', data: new Float64Array([step]) },
    ]), name);

  it('all-F16 models give an F16 merge (rounded once from float32); dtype F32 forces bit-exact F32', async () => {
    const a = await half('F16', a16, 5, 'a.safetensors');
    const b = await half('F16', b16, 9, 'b.safetensors');
    const r = await mergeModels({ models: [a, b], method: { kind: 'linear', alpha: 0.25 } });
    expect(commonHalfDtype(r.pairing)).toBe('F16');
    const back = await reopen(await buildMergedSafetensors(r, a));
    expect(back.tensors.find((t) => t.name === 'w')!.dtype).toBe('F16');
    const w = await back.read('w');
    const exact = r.tensors.find((t) => t.name === 'w')!.data;
    for (let i = 0; i < 6; i++) expect(w[i]).toBe(f16ToF32(f32ToF16Bits(exact[i]!)));
    const back32 = await reopen(await buildMergedSafetensors(r, a, { dtype: 'F32' }));
    expect(back32.tensors.find((t) => t.name === 'w')!.dtype).toBe('F32');
    expect(await back32.read('w')).toEqual(exact);
    // The I64 counter is not averaged: model A's value, its dtype kept.
    expect(back.tensors.find((t) => t.name === 'count')!.dtype).toBe('I64');
    expect(Array.from(await back.read('count'))).toEqual([5]);
  });

  it('BF16 with BF16 gives BF16; F16 with BF16 gives F32', async () => {
    const a = await half('BF16', a16, 1, 'a.safetensors');
    const b = await half('BF16', b16, 1, 'b.safetensors');
    const c = await half('F16', b16, 1, 'c.safetensors');
    const rb = await mergeModels({ models: [a, b], method: { kind: 'slerp', alpha: 0.5 } });
    const backB = await reopen(await buildMergedSafetensors(rb, a));
    expect(backB.tensors.find((t) => t.name === 'w')!.dtype).toBe('BF16');
    const w = await backB.read('w');
    const exact = rb.tensors.find((t) => t.name === 'w')!.data;
    for (let i = 0; i < 6; i++) expect(w[i]).toBe(new Float32Array(new Uint32Array([f32ToBf16Bits(exact[i]!) << 16]).buffer)[0]);
    const rm = await mergeModels({ models: [a, c], method: { kind: 'linear', alpha: 0.5 } });
    const backM = await reopen(await buildMergedSafetensors(rm, a));
    expect(backM.tensors.find((t) => t.name === 'w')!.dtype).toBe('F32');
  });

  it('an I64 beyond 2^24 is copied byte for byte from the raw file, and refused without it', async () => {
    const big = 2 ** 40 + 3;
    const bytesA = writeSafetensors([
      { name: 'w', shape: [2], dtype: 'F32', data: new Float32Array([1, 2]) },
      { name: 'step', shape: [1], dtype: 'I64', data: new Float64Array([big]) },
    ]);
    const inputA = singleFileModel(memorySource(bytesA, 'a.safetensors'));
    const a = await openModel(inputA);
    const b = await reopen(writeSafetensors([
      { name: 'w', shape: [2], dtype: 'F32', data: new Float32Array([3, 4]) },
      { name: 'step', shape: [1], dtype: 'I64', data: new Float64Array([7]) },
    ]), 'b.safetensors');
    const r = await mergeModels({ models: [a, b], method: { kind: 'linear', alpha: 0.5 } });
    await expect(buildMergedSafetensors(r, a)).rejects.toThrow(UnsupportedError);
    await expect(buildMergedSafetensors(r, a)).rejects.toThrow(/a\.safetensors: tensor "step" \(I64\) cannot be copied exactly/);
    const out = await buildMergedSafetensors(r, a, { readRaw: await safetensorsRawReader(inputA) });
    const back = await reopen(out);
    const raw = await safetensorsRawReader(singleFileModel(memorySource(out, 'merged.safetensors')));
    const stepBytes = await raw(back.tensors.find((t) => t.name === 'step')!);
    expect(new DataView(stepBytes.buffer, stepBytes.byteOffset, 8).getBigInt64(0, true)).toBe(BigInt(big));
    expect(Array.from(await back.read('w'))).toEqual([2, 3]);
  });

  it('tensors left out of the merge are listed in the metadata', async () => {
    const a = await reopen(writeSafetensors([
      { name: 'w', shape: [2], dtype: 'F32', data: new Float32Array([1, 2]) },
      { name: 'extra', shape: [1], dtype: 'F32', data: new Float32Array([1]) },
    ]), 'a.safetensors');
    const b = await reopen(writeSafetensors([{ name: 'w', shape: [2], dtype: 'F32', data: new Float32Array([3, 4]) }]), 'b.safetensors');
    const r = await mergeModels({ models: [a, b], method: { kind: 'linear', alpha: 0.5 } });
    const back = await reopen(await buildMergedSafetensors(r, a));
    expect(back.tensors.map((t) => t.name)).toEqual(['w']);
    expect(JSON.parse(back.metadata['weightlens:unmatched'] as string)).toEqual([{ name: 'extra', shapes: [[1], null], reason: 'missing' }]);
  });
});

describe('buildPermutedSafetensors', () => {
  it('seed 2 matched to seed 1, written and reopened: same logits as seed 2, the permutation in the metadata', async () => {
    const t1 = await tensorsOf(seed1);
    const t2 = await tensorsOf(seed2);
    const spec = inferMlpSpec(t1);
    const wm = weightMatching(t1, t2, spec, { seed: 0 });
    const permuted = applyPermutation(t2, spec, wm.perms);
    const bytes = await buildPermutedSafetensors(seed2, permuted, spec, wm.perms);
    const back = await reopen(bytes, 'permuted.safetensors');
    expect(back.tensors.map((t) => [t.name, t.dtype, t.shape])).toEqual(seed2.tensors.map((t) => [t.name, t.dtype, t.shape]));
    const backT = await tensorsOf(back);
    for (const t of permuted) expect(backT.find((b) => b.name === t.name)!.data).toEqual(t.data);
    const get = (ts: NamedTensor[]) => (n: string) => ts.find((t) => t.name === n)?.data;
    const before = mlpForward(mlpFromTensors(get(t2), [784, 128, 128, 10]), x, N_EVAL);
    const after = mlpForward(mlpFromTensors(get(backT), [784, 128, 128, 10]), x, N_EVAL);
    let maxDiff = 0;
    for (let k = 0; k < before.length; k++) maxDiff = Math.max(maxDiff, Math.abs(before[k]! - after[k]!));
    expect(maxDiff).toBeLessThan(1e-5);
    // It is a real relabelling, not the identity, and the metadata holds it.
    expect(back.metadata['weightlens:format']).toBe(PERMUTED_FORMAT);
    const perms = JSON.parse(back.metadata['weightlens:perms'] as string) as Record<string, number[]>;
    expect(perms['fc1.out/fc2.in']).toEqual(Array.from(wm.perms['fc1.out/fc2.in']!));
    expect(perms['fc1.out/fc2.in']!.some((v, i) => v !== i)).toBe(true);
    expect(JSON.parse(back.metadata['weightlens:spec'] as string)).toEqual(spec);
  });
});
