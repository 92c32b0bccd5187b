import { throwIfAborted, UnsupportedError } from '../base/errors';
import { analyzeLayer } from '../analysis/spectra/analyze-layer';
import { applyPermutation } from '../analysis/merge/apply-permutation';
import { inferMlpSpec } from '../analysis/merge/infer-mlp-spec';
import { mergeModels } from '../analysis/merge/merge-methods';
import { pairModels, type Pairing } from '../analysis/merge/pairing';
import { alphaGrid, modelSimilarity, taskVectorSimilarity, weightPathCurves } from '../analysis/merge/path-curves';
import { parsePermutationSpec, type NamedTensor, type PermutationSpec } from '../analysis/merge/permutation-spec';
import { weightMatching, type WeightMatchingResult } from '../analysis/merge/weight-matching';
import type { TensorSource } from '../formats/types';
import { buildLayers } from '../model';
import type { Backend, ExportFiles, MergeAnalysis, MergeJobSpec, MergeWeightSets, ModelRef } from './job-types';
import { buildMergedSafetensors, buildPermutedSafetensors } from '../analysis/merge/export-merged';
import { safetensorsRawReader } from '../analysis/quant/export-quantized';
import { openSpec } from './open-spec';
import { stem } from './export-job';

/**
 * Worker side of the Merge view: the weight-space analysis of two models (pairing, path curves,
 * similarity, task-vector cosine, weight matching, spectral α along the path, merge statistics)
 * and the weights the function-space curves evaluate (θ(α) along the path, naive or after
 * matching, and the merged model), handed to the inference worker by the page.
 */

export interface MergeJobContext {
  signal: AbortSignal;
  progress(done: number, total: number, label?: string): void;
}

export type OpenRef = (ref: ModelRef) => Promise<TensorSource>;

/** Points of the spectral-α-along-the-path chart (each one analyzes every layer). */
export const ALPHA_PATH_POINTS = [0, 0.25, 0.5, 0.75, 1];

async function readPaired(src: TensorSource, pairing: Pairing, signal: AbortSignal): Promise<NamedTensor[]> {
  const out: NamedTensor[] = [];
  for (const p of pairing.paired) out.push({ name: p.name, shape: p.shape, data: await src.read(p.name, signal) });
  return out;
}

/** A TensorSource over tensors in memory (the permuted model B). */
function memorySourceOf(like: TensorSource, tensors: readonly NamedTensor[], name: string): TensorSource {
  const byName = new Map(tensors.map((t) => [t.name, t.data]));
  return {
    ...like,
    name,
    read: async (n: string) => byName.get(n) ?? like.read(n),
  };
}

/** Matched B per (A, B, spec, seed): the analysis, the curves and the export reuse one matching. Whole models, so only a few are kept. */
const MATCH_CACHE_ENTRIES = 2;
const matchCache = new Map<string, { spec: PermutationSpec; result: WeightMatchingResult; permuted: NamedTensor[]; l2Before: number; l2After: number }>();

async function matchB(a: TensorSource, b: TensorSource, refs: [ModelRef, ModelRef], pairing: Pairing, specJson: string | null, seed: number, ctx: MergeJobContext) {
  const key = [refs[0].modelId, refs[1].modelId, specJson ?? '', seed].join('|');
  const hit = matchCache.get(key);
  if (hit) return hit;
  ctx.progress(0, 1, 'weight matching');
  const ta = await readPaired(a, pairing, ctx.signal);
  const tb = await readPaired(b, pairing, ctx.signal);
  const spec = specJson ? parsePermutationSpec(specJson, ta) : inferMlpSpec(ta, a.name);
  const result = weightMatching(ta, tb, spec, { seed, signal: ctx.signal });
  const permuted = applyPermutation(tb, spec, result.perms);
  const out = { spec, result, permuted, l2Before: l2(ta, tb), l2After: l2(ta, permuted) };
  matchCache.set(key, out);
  if (matchCache.size > MATCH_CACHE_ENTRIES) matchCache.delete(matchCache.keys().next().value!);
  return out;
}

function l2(x: readonly NamedTensor[], y: readonly NamedTensor[]): number {
  let s = 0;
  for (let t = 0; t < x.length; t++) {
    const a = x[t]!.data;
    const b = y[t]!.data;
    for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  }
  return Math.sqrt(s);
}


export async function runMergeAnalysis(open: OpenRef, job: MergeJobSpec, ctx: MergeJobContext): Promise<{ data: MergeAnalysis; backend: Backend }> {
  const t0 = performance.now();
  const a = await open(job.a);
  const b = await open(job.b);
  const base = job.base ? await open(job.base) : null;
  const pairing = pairModels([a, b].map((s) => ({ label: s.name, tensors: s.tensors })));
  if (pairing.paired.length === 0) throw new UnsupportedError('bad-models', `${a.name} and ${b.name} share no tensor with the same name and shape`);
  ctx.progress(0, 5, 'path curves');
  const path = await weightPathCurves(a, b, { points: job.points, pairing, signal: ctx.signal });
  ctx.progress(1, 5, 'similarity');
  const sims = await modelSimilarity(base ? [a, b, base] : [a, b], { signal: ctx.signal });
  const taskCos = base ? await taskVectorSimilarity(base, [a, b], { signal: ctx.signal }) : null;
  let matching: MergeAnalysis['matching'] = null;
  let pathMatched: MergeAnalysis['pathMatched'] = null;
  let bMatched: TensorSource | null = null;
  if (job.match) {
    ctx.progress(2, 5, 'weight matching');
    const m = await matchB(a, b, [job.a, job.b], pairing, job.spec, job.seed, ctx);
    bMatched = memorySourceOf(b, m.permuted, `${b.name} (matched)`);
    pathMatched = await weightPathCurves(a, bMatched, { points: job.points, pairing, signal: ctx.signal });
    matching = {
      groups: m.spec.groups.map((g) => ({ name: g.name, size: g.size, perm: m.result.perms[g.name]! })),
      objectives: m.result.objectives,
      iterations: m.result.iterations,
      converged: m.result.converged,
      l2Before: m.l2Before,
      l2After: m.l2After,
    };
  }
  ctx.progress(3, 5, 'merge statistics');
  let mergeStats: MergeAnalysis['mergeStats'] = null;
  if (job.method.kind === 'linear' || job.method.kind === 'slerp' || base) {
    const r = await mergeModels({ models: [a, b], ...(base && job.method.kind !== 'linear' && job.method.kind !== 'slerp' ? { base } : {}), method: job.method, signal: ctx.signal });
    mergeStats = r.stats;
  }
  ctx.progress(4, 5, 'spectral α along the path');
  const alphaPath = await alphaAlongPath(a, b, bMatched, ctx);
  ctx.progress(5, 5);
  return {
    data: {
      labels: [a.name, b.name, ...(base ? [base.name] : [])],
      pairing: { paired: pairing.paired.length, unmatched: pairing.unmatched, nonFloat: pairing.nonFloat.length },
      path: { alphas: path.alphas, model: path.model, layers: path.layers },
      pathMatched: pathMatched ? { alphas: pathMatched.alphas, model: pathMatched.model, layers: pathMatched.layers } : null,
      similarity: { labels: sims.labels, layers: sims.layers, model: sims.model },
      taskCosine: taskCos ? { labels: taskCos.labels, layers: taskCos.layers, model: taskCos.model } : null,
      matching,
      mergeStats,
      alphaPath,
      ms: performance.now() - t0,
    },
    backend: 'cpu',
  };
}

async function alphaAlongPath(a: TensorSource, b: TensorSource, bMatched: TensorSource | null, ctx: MergeJobContext): Promise<MergeAnalysis['alphaPath']> {
  const layers = buildLayers(a.tensors, a.format).filter((l) => l.analyzable && b.tensors.some((t) => t.name === l.tensor.name && t.shape.join() === l.tensor.shape.join()));
  const out: MergeAnalysis['alphaPath'] = { alphas: ALPHA_PATH_POINTS, layers: [] };
  for (const l of layers) {
    throwIfAborted(ctx.signal);
    const wa = await a.read(l.tensor.name, ctx.signal);
    const curve = async (src: TensorSource | null) => {
      if (!src) return null;
      const wb = await src.read(l.tensor.name, ctx.signal);
      return ALPHA_PATH_POINTS.map((t) => {
        const w = new Float32Array(wa.length);
        for (let i = 0; i < w.length; i++) w[i] = (1 - t) * wa[i]! + t * wb[i]!;
        const s = analyzeLayer(l, w, { fit: 'auto', mpFit: false, farms: false, signal: ctx.signal });
        return s.ok && s.status === 'ok' ? s.alpha : null;
      });
    };
    out.layers.push({ name: l.name, naive: (await curve(b))!, matched: await curve(bMatched) });
  }
  return out;
}

/**
 * Weight sets for the inference worker: θ(α) = (1−α)θ_A + αθ_B at each α (B after matching when
 * asked), and/or the merged model under `method`. Only paired float tensors are sent; the graph's
 * other inputs come from model A's file (the page passes A as the base of each weight set).
 */
export async function runMergeWeights(
  open: OpenRef, job: MergeJobSpec & { alphas: number[]; withMerged: boolean }, ctx: MergeJobContext,
): Promise<{ data: MergeWeightSets; backend: Backend; transfer: Transferable[] }> {
  const a = await open(job.a);
  const b = await open(job.b);
  const pairing = pairModels([a, b].map((s) => ({ label: s.name, tensors: s.tensors })));
  const ta = await readPaired(a, pairing, ctx.signal);
  const tb = job.match ? (await matchB(a, b, [job.a, job.b], pairing, job.spec, job.seed, ctx)).permuted : await readPaired(b, pairing, ctx.signal);
  const sets: MergeWeightSets['sets'] = [];
  const transfer: Transferable[] = [];
  // An empty list with withMerged = false means the whole path: alphaGrid(points).
  const alphas = job.alphas.length === 0 && !job.withMerged ? alphaGrid(job.points) : job.alphas;
  for (const [k, alpha] of alphas.entries()) {
    throwIfAborted(ctx.signal);
    ctx.progress(k, alphas.length, `α = ${alpha.toFixed(3)}`);
    const tensors = ta.map((t, i) => {
      const d = new Float32Array(t.data.length);
      const bd = tb[i]!.data;
      for (let j = 0; j < d.length; j++) d[j] = (1 - alpha) * t.data[j]! + alpha * bd[j]!;
      transfer.push(d.buffer as ArrayBuffer);
      return { name: t.name, shape: t.shape, data: d };
    });
    sets.push({ label: `α = ${alpha}`, alpha, tensors });
  }
  if (job.withMerged) {
    const base = job.base ? await open(job.base) : null;
    const taskMethod = job.method.kind !== 'linear' && job.method.kind !== 'slerp';
    if (taskMethod && !base) throw new UnsupportedError('bad-models', `${job.method.kind}: task-vector methods need a base model`);
    const r = await mergeModels({ models: [a, b], ...(taskMethod && base ? { base } : {}), method: job.method, signal: ctx.signal });
    const tensors = r.tensors.filter((t) => !t.copied).map((t) => ({ name: t.name, shape: t.shape, data: t.data }));
    for (const t of tensors) transfer.push(t.data.buffer as ArrayBuffer);
    sets.push({ label: job.method.kind, alpha: null, tensors });
  }
  return { data: { sets }, backend: 'cpu', transfer };
}

/** The merged model (and, with matching on, B permuted onto A) as the command line writes them. */
export async function runMergeExport(open: OpenRef, job: MergeJobSpec, ctx: MergeJobContext): Promise<{ data: ExportFiles; backend: Backend; transfer: Transferable[] }> {
  const a = await open(job.a);
  const b = await open(job.b);
  const base = job.base ? await open(job.base) : null;
  const taskMethod = job.method.kind !== 'linear' && job.method.kind !== 'slerp';
  if (taskMethod && !base) throw new UnsupportedError('bad-models', `${job.method.kind}: task-vector methods need a base model`);
  ctx.progress(0, 2, 'merging');
  const r = await mergeModels({ models: [a, b], ...(taskMethod && base ? { base } : {}), method: job.method, signal: ctx.signal });
  const reference = taskMethod && base ? base : a;
  const refSpec = taskMethod && job.base ? job.base.spec : job.a.spec;
  const raw = reference.format === 'safetensors' ? { readRaw: await safetensorsRawReader(await openSpec(refSpec, ctx.signal), ctx.signal) } : {};
  const merged = await buildMergedSafetensors(r, reference, { ...raw, signal: ctx.signal });
  const files: ExportFiles['files'] = [{ name: `${stem(a.name)}+${stem(b.name)}-${job.method.kind}.safetensors`, bytes: merged }];
  if (job.match) {
    ctx.progress(1, 2, 'permuting B');
    const pairing = pairModels([a, b].map((s) => ({ label: s.name, tensors: s.tensors })));
    const m = await matchB(a, b, [job.a, job.b], pairing, job.spec, job.seed, ctx);
    const rawB = b.format === 'safetensors' ? { readRaw: await safetensorsRawReader(await openSpec(job.b.spec, ctx.signal), ctx.signal) } : {};
    files.push({ name: `${stem(b.name)}-matched-to-${stem(a.name)}.safetensors`, bytes: await buildPermutedSafetensors(b, m.permuted, m.spec, m.result.perms, { ...rawB, signal: ctx.signal }) });
  }
  return { data: { files, layers: r.stats.length }, backend: 'cpu', transfer: files.map((f) => f.bytes.buffer as ArrayBuffer) };
}
