import { readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { buildPermutedSafetensors } from '../../lib/analysis/merge/export-merged';
import { applyPermutation, inferMlpSpec, parsePermutationSpec, weightMatching, type NamedTensor, type PermutationSpec, type Permutations } from '../../lib/analysis/merge/weight-matching';
import { isFloatDtype } from '../../lib/analysis/merge/pairing';
import { safetensorsRawReader } from '../../lib/analysis/quant/export-quantized';
import type { TensorSource } from '../../lib/formats/types';
import type { MatchCommand } from '../args';
import { fmtNum, fmtSize, table } from '../format-text';
import { checkOutput, namingFile, withModels } from './merge';

/**
 * `weightlens match a b`: Git Re-Basin weight matching of b's hidden units onto a
 * (lib/analysis/merge/weight-matching). The spec is inferred for Linear/Conv chains or read from
 * --spec; prints the objective Σ⟨A, π(B)⟩ after every pass and the whole-model L2 distance a↔b
 * before and after; --out writes the permuted b, which computes the same function as b.
 */

export interface MatchCliResult {
  a: string;
  b: string;
  spec: PermutationSpec;
  spec_source: 'inferred' | string;
  seed: number;
  /** Objective before any step, then after each pass. */
  objectives: number[];
  iterations: number;
  converged: boolean;
  /** Whole-model L2 distance over the float tensors both models share (same name and shape). */
  l2_before: number;
  l2_after: number;
  /** Per group: units that moved, and the permutation (perm[i] = b's unit placed at position i). */
  groups: { name: string; size: number; moved: number; perm: number[] }[];
  output?: { file: string; bytes: number };
}

/** Every float tensor of a model, decoded (weight matching needs them all at once). */
export async function decodeFloatTensors(src: TensorSource): Promise<NamedTensor[]> {
  const out: NamedTensor[] = [];
  for (const t of src.tensors) {
    if (!t.decodable || !isFloatDtype(t.dtype)) continue;
    out.push({ name: t.name, shape: [...t.shape], data: await src.read(t.name) });
  }
  return out;
}

/** Whole-model L2 distance over the tensors present in both with the same shape (float64). */
export function modelL2(a: readonly NamedTensor[], b: readonly NamedTensor[]): number {
  const bByName = new Map(b.map((t) => [t.name, t]));
  let s = 0;
  for (const ta of a) {
    const tb = bByName.get(ta.name);
    if (!tb || tb.data.length !== ta.data.length || tb.shape.join(',') !== ta.shape.join(',')) continue;
    for (let k = 0; k < ta.data.length; k++) s += (ta.data[k]! - tb.data[k]!) ** 2;
  }
  return Math.sqrt(s);
}

export interface MatchedModels {
  spec: PermutationSpec;
  specSource: string;
  perms: Permutations;
  objectives: number[];
  iterations: number;
  converged: boolean;
  permuted: NamedTensor[];
}

/** Spec (from --spec or inferred from a), weight matching, b permuted. */
export async function matchModels(aPath: string, a: readonly NamedTensor[], b: readonly NamedTensor[], opts: { spec?: string; seed?: number }): Promise<MatchedModels> {
  let spec: PermutationSpec;
  if (opts.spec !== undefined) {
    let text: string;
    try {
      text = await readFile(opts.spec, 'utf8');
    } catch (e) {
      throw namingFile(opts.spec, e);
    }
    spec = parsePermutationSpec(text, a, opts.spec);
  } else {
    spec = inferMlpSpec(a, aPath);
  }
  const r = weightMatching(a, b, spec, { seed: opts.seed ?? 0 });
  return {
    spec, specSource: opts.spec ?? 'inferred', perms: r.perms, objectives: r.objectives, iterations: r.iterations, converged: r.converged,
    permuted: applyPermutation(b, spec, r.perms),
  };
}

export async function collectMatch(cmd: MatchCommand): Promise<MatchCliResult> {
  checkOutput('--out', cmd.out, [cmd.a, cmd.b]);
  return withModels([cmd.a, cmd.b], async ([ma, mb]) => {
    const a = await decodeFloatTensors(ma!.source);
    const b = await decodeFloatTensors(mb!.source);
    const m = await matchModels(cmd.a, a, b, { ...(cmd.spec !== undefined ? { spec: cmd.spec } : {}), ...(cmd.seed !== undefined ? { seed: cmd.seed } : {}) });
    const result: MatchCliResult = {
      a: cmd.a,
      b: cmd.b,
      spec: m.spec,
      spec_source: m.specSource,
      seed: cmd.seed ?? 0,
      objectives: m.objectives,
      iterations: m.iterations,
      converged: m.converged,
      l2_before: modelL2(a, b),
      l2_after: modelL2(a, m.permuted),
      groups: m.spec.groups.map((g) => {
        const p = Array.from(m.perms[g.name]!);
        return { name: g.name, size: g.size, moved: p.filter((v, i) => v !== i).length, perm: p };
      }),
    };
    if (cmd.out !== undefined) {
      const src = mb!.source;
      const readRaw = src.format === 'safetensors' ? await safetensorsRawReader(mb!.input) : undefined;
      const bytes = await buildPermutedSafetensors(src, m.permuted, m.spec, m.perms, {
        ...(readRaw ? { readRaw } : {}),
        metadata: { 'weightlens:matched_to': basename(cmd.a) },
      });
      await writeFile(cmd.out, bytes);
      result.output = { file: cmd.out, bytes: bytes.byteLength };
    }
    return result;
  });
}

export function formatMatchText(r: MatchCliResult): string {
  const out = [
    `weight matching of ${basename(r.b)} onto ${basename(r.a)}: ${r.spec.groups.length} groups (spec ${r.spec_source === 'inferred' ? 'inferred from names and shapes' : `from ${r.spec_source}`}), seed ${r.seed}`,
    table(['>iteration', '>objective'], r.objectives.map((o, i) => [i === 0 ? 'start' : String(i), fmtNum(o)])),
    `${r.converged ? 'converged' : 'stopped without converging'} after ${r.iterations} passes`,
    table(['group', '>size', '>moved'], r.groups.map((g) => [g.name, String(g.size), String(g.moved)])),
    `L2 distance a↔b: ${fmtNum(r.l2_before)} before, ${fmtNum(r.l2_after)} after matching`,
  ];
  if (r.output) out.push(`wrote ${r.output.file} (${basename(r.b)} permuted, ${fmtSize(r.output.bytes)})`);
  return `${out.join('\n')}\n`;
}

export async function match(cmd: MatchCommand): Promise<string> {
  const r = await collectMatch(cmd);
  return cmd.json ? `${JSON.stringify(r, null, 1)}\n` : formatMatchText(r);
}
