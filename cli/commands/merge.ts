import { writeFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { buildMergedSafetensors, commonHalfDtype, summarizeMerge, type MergeSummary } from '../../lib/analysis/merge/export-merged';
import { mergeModels, type MergeMethod, type TensorMergeStats } from '../../lib/analysis/merge/merge-methods';
import type { UnmatchedTensor } from '../../lib/analysis/merge/pairing';
import { safetensorsRawReader } from '../../lib/analysis/quant/export-quantized';
import { openModel } from '../../lib/formats/registry';
import type { TensorSource } from '../../lib/formats/types';
import type { ModelInput } from '../../lib/io/byte-source';
import type { MergeCommand } from '../args';
import { fmtNum, fmtSize, table } from '../format-text';
import { isUrl, openInput } from '../open-target';

/**
 * `weightlens merge`: pairs the models' tensors by name and shape, merges every paired float
 * tensor with one method (lib/analysis/merge/merge-methods), and prints the pairing (what was left
 * out and why), each tensor's stats — its L2 norm, its L2 distance to every input model, and the
 * method's own figures (λ, TIES sign conflicts, SLERP fallback, DARE drops, TSV mode) — and the
 * totals; --out writes the merged model (lib/analysis/merge/export-merged).
 */

export interface OpenedModel {
  path: string;
  input: ModelInput;
  source: TensorSource;
  close(): Promise<void>;
}

/** The error, prefixed with the path unless its message already starts with it (or its basename). */
export function namingFile(path: string, e: unknown): Error {
  const msg = e instanceof Error ? e.message : String(e);
  if ([path, basename(path)].some((n) => n && msg.startsWith(`${n}:`))) return e instanceof Error ? e : new Error(msg);
  return new Error(`${path}: ${msg}`);
}

/** Opens a model file, folder or URL; every failure names the path. */
export async function openModelPath(path: string): Promise<OpenedModel> {
  let opened: Awaited<ReturnType<typeof openInput>>;
  try {
    opened = await openInput(path);
  } catch (e) {
    throw namingFile(path, e);
  }
  const { input, close } = opened;
  try {
    return { path, input, source: await openModel(input), close };
  } catch (e) {
    await close();
    throw namingFile(path, e);
  }
}

/** Runs `fn` with every path opened, closing them all afterwards. */
export async function withModels<T>(paths: readonly string[], fn: (models: OpenedModel[]) => Promise<T>): Promise<T> {
  const opened: OpenedModel[] = [];
  try {
    for (const p of paths) opened.push(await openModelPath(p));
    return await fn(opened);
  } finally {
    for (const m of opened) await m.close();
  }
}

/** Refuses an output path that is one of the inputs. */
export function checkOutput(flag: string, out: string | undefined, inputs: readonly string[]): void {
  if (out === undefined) return;
  for (const i of inputs) if (!isUrl(i) && resolve(i) === resolve(out)) throw new Error(`${flag} ${out} would overwrite the input ${i}`);
}

export interface MergeTensorRow {
  name: string;
  shape: number[];
  /** ‖merged‖₂. */
  norm: number;
  /** ‖merged − model_i‖₂ for each source, in `sources` order. */
  dist: number[];
  lambda?: number;
  slerp_fallback?: string | null;
  sign_conflicts?: number;
  overlapping?: number;
  sign_conflict_rate?: number;
  dropped?: number[];
  tsv_mode?: string;
}

export interface MergeCliResult {
  method: MergeMethod['kind'];
  /** The method object mergeModels ran, with every setting (defaults filled in). */
  settings: MergeMethod;
  /** Paths as given: the base first for task-vector methods, then the models. */
  sources: string[];
  base: string | null;
  reference: string;
  pairing: {
    paired: number;
    non_float: string[];
    unmatched: UnmatchedTensor[];
  };
  tensors: MergeTensorRow[];
  summary: MergeSummary;
  output?: { file: string; bytes: number; dtype: string };
}

export const DEFAULT_DARE_DROP = 0.5;

export function mergeMethodOf(cmd: MergeCommand): MergeMethod {
  const lambda = cmd.lambda ?? 1;
  const blocks = cmd.blockLambdas.length ? { blockLambdas: cmd.blockLambdas.map((b) => ({ pattern: b.pattern, lambda: b.lambda })) } : {};
  switch (cmd.method) {
    case 'linear':
      return { kind: 'linear', alpha: cmd.alpha ?? 0.5 };
    case 'slerp':
      return { kind: 'slerp', alpha: cmd.alpha ?? 0.5 };
    case 'ta':
      return { kind: 'ta', lambda, ...blocks };
    case 'ties':
      return { kind: 'ties', lambda, keep: cmd.trim ?? 0.2, ...blocks };
    case 'dare':
      return { kind: 'dare', lambda, dropRate: cmd.drop ?? DEFAULT_DARE_DROP, seed: cmd.seed ?? 0, ...blocks };
    case 'tsv':
      return { kind: 'tsv', lambda, seed: cmd.seed ?? 0, ...blocks };
  }
}

function statCells(s: TensorMergeStats | undefined): Partial<MergeTensorRow> {
  if (!s) return {};
  const out: Partial<MergeTensorRow> = {};
  if (s.lambda !== undefined) out.lambda = s.lambda;
  if (s.slerpFallback !== undefined) out.slerp_fallback = s.slerpFallback;
  if (s.signConflicts !== undefined) out.sign_conflicts = s.signConflicts;
  if (s.overlapping !== undefined) out.overlapping = s.overlapping;
  if (s.signConflictRate !== undefined) out.sign_conflict_rate = s.signConflictRate;
  if (s.dropped !== undefined) out.dropped = s.dropped;
  if (s.tsvMode !== undefined) out.tsv_mode = s.tsvMode;
  return out;
}

export async function collectMerge(cmd: MergeCommand): Promise<MergeCliResult> {
  const paths = cmd.base !== undefined ? [cmd.base, ...cmd.models] : [...cmd.models];
  checkOutput('--out', cmd.out, paths);
  const method = mergeMethodOf(cmd);
  return withModels(paths, async (opened) => {
    const sources = opened.map((m) => m.source);
    const r = await mergeModels(cmd.base !== undefined ? { models: sources.slice(1), base: sources[0]!, method } : { models: sources, method });
    const stats = new Map(r.stats.map((s) => [s.name, s]));
    const tensors: MergeTensorRow[] = [];
    for (const t of r.tensors) {
      if (t.copied) continue;
      let nn = 0;
      for (let i = 0; i < t.data.length; i++) nn += t.data[i]! * t.data[i]!;
      const dist: number[] = [];
      for (const s of sources) {
        const v = await s.read(t.name);
        let d = 0;
        for (let i = 0; i < v.length; i++) d += (t.data[i]! - v[i]!) ** 2;
        dist.push(Math.sqrt(d));
      }
      tensors.push({ name: t.name, shape: [...t.shape], norm: Math.sqrt(nn), dist, ...statCells(stats.get(t.name)) });
    }
    const result: MergeCliResult = {
      method: method.kind,
      settings: method,
      sources: paths,
      base: cmd.base ?? null,
      reference: paths[0]!,
      pairing: { paired: r.pairing.paired.length, non_float: r.pairing.nonFloat.map((t) => t.name), unmatched: r.pairing.unmatched },
      tensors,
      summary: summarizeMerge(r),
    };
    if (cmd.out !== undefined) {
      if (r.pairing.paired.length === 0) throw new Error(`no tensor is shared by all models (same name and shape); nothing to write to ${cmd.out}`);
      const ref = opened[0]!;
      const readRaw = ref.source.format === 'safetensors' ? await safetensorsRawReader(ref.input) : undefined;
      const bytes = await buildMergedSafetensors(r, ref.source, { ...(readRaw ? { readRaw } : {}), metadata: { 'weightlens:command': `merge --method ${cmd.method}` } });
      await writeFile(cmd.out, bytes);
      result.output = { file: cmd.out, bytes: bytes.byteLength, dtype: commonHalfDtype(r.pairing) };
    }
    return result;
  });
}

function settingsText(m: MergeMethod): string {
  switch (m.kind) {
    case 'linear':
    case 'slerp':
      return `${m.kind} α = ${m.alpha}`;
    case 'ta':
      return `task arithmetic λ = ${m.lambda}`;
    case 'ties':
      return `TIES λ = ${m.lambda}, keep ${m.keep}`;
    case 'dare':
      return `DARE λ = ${m.lambda}, drop ${m.dropRate}, seed ${m.seed}`;
    case 'tsv':
      return `TSV-merge λ = ${m.lambda}, seed ${m.seed}`;
  }
}

const shapeText = (s: number[] | null) => (s ? `[${s.join(', ')}]` : '-');

export function formatMergeText(r: MergeCliResult): string {
  const names = r.sources.map((s) => basename(s));
  const out: string[] = [
    `${settingsText(r.settings)}${r.base ? ` on base ${names[0]}` : ''} of ${(r.base ? names.slice(1) : names).join(', ')}`,
    `pairing: ${r.pairing.paired} tensors merged, ${r.pairing.non_float.length} non-float copied from ${names[0]}, ${r.pairing.unmatched.length} unmatched (left out)`,
  ];
  if (r.pairing.unmatched.length) {
    out.push('unmatched:');
    out.push(table(['name', 'reason', ...names], r.pairing.unmatched.map((u) => [u.name, u.reason, ...u.shapes.map(shapeText)])));
  }
  const extra: [string, (t: MergeTensorRow) => string][] = [];
  if (r.method !== 'linear' && r.method !== 'slerp') extra.push(['>lambda', (t) => fmtNum(t.lambda ?? NaN)]);
  if (r.method === 'slerp') extra.push(['fallback', (t) => t.slerp_fallback ?? '-']);
  if (r.method === 'ties') extra.push(['>sign_conflicts', (t) => String(t.sign_conflicts)], ['>conflict_rate', (t) => fmtNum(t.sign_conflict_rate ?? NaN)]);
  if (r.method === 'dare') extra.push(['dropped', (t) => (t.dropped ?? []).join(' ')]);
  if (r.method === 'tsv') extra.push(['tsv_mode', (t) => t.tsv_mode ?? '-']);
  if (r.tensors.length) {
    out.push(table(
      ['name', 'shape', '>norm', ...names.map((n) => `>dist ${n}`), ...extra.map((e) => e[0])],
      r.tensors.map((t) => [t.name, shapeText(t.shape), fmtNum(t.norm), ...t.dist.map(fmtNum), ...extra.map((e) => e[1](t))]),
    ));
  }
  const s = r.summary;
  const parts = [`${s.tensors} tensors, ${s.entries} values merged`];
  if (s.signConflictRate !== undefined) parts.push(`sign conflicts ${s.signConflicts} (${fmtNum(s.signConflictRate * 100)}% of values)`);
  if (s.slerpFallbacks) parts.push(`lerp fallbacks: ${s.slerpFallbacks.parallel} parallel, ${s.slerpFallbacks.zeroNorm} zero-norm`);
  if (s.dropped) parts.push(`dropped per model: ${s.dropped.join(', ')}`);
  if (s.tsvModes) parts.push(`TSV: ${s.tsvModes.svd} by SVD, ${s.tsvModes.mean} by mean task vector`);
  out.push(`total: ${parts.join('; ')}`);
  if (r.output) out.push(`wrote ${r.output.file} (${r.output.dtype}, ${fmtSize(r.output.bytes)})`);
  return `${out.join('\n')}\n`;
}

export async function merge(cmd: MergeCommand): Promise<string> {
  const r = await collectMerge(cmd);
  return cmd.json ? `${JSON.stringify(r, null, 1)}\n` : formatMergeText(r);
}
