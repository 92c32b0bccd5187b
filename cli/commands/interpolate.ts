import { readFile } from 'node:fs/promises';
import { lossBarrier } from '../../lib/charts/merge/line-chart';
import { basename } from 'node:path';
import { isFloatDtype } from '../../lib/analysis/merge/pairing';
import { lerpTensor } from '../../lib/analysis/merge/merge-methods';
import { alphaGrid } from '../../lib/analysis/merge/path-curves';
import type { NamedTensor } from '../../lib/analysis/merge/permutation-spec';
import { loadEvalSet } from '../../lib/inference/eval-set';
import { evaluateClassifier, type WeightTensor } from '../../lib/inference/evaluate';
import { describeGraph, initializersToInputs } from '../../lib/inference/graph-inputs';
import { createSession, type InferenceSession } from '../../lib/inference/ort';
import type { InterpolateCommand } from '../args';
import { fmtNum, table } from '../format-text';
import { decodeFloatTensors, matchModels, modelL2 } from './match';
import { namingFile, withModels } from './merge';

/**
 * `weightlens interpolate a b --onnx G --data D`: loss and accuracy of θ(α) = (1−α)a + αb on an
 * evaluation set at every α of a grid, and the loss barrier max_α L(α) − ½(L(0) + L(1)); with
 * --match, the same along the path to b permuted onto a (weight matching). One onnxruntime session
 * serves every point: the graph's initializers that the models hold are turned into graph inputs
 * and fed each point's weights.
 */

export interface CurveResult {
  loss: number[];
  accuracy: number[];
  /** max_α L(α) − ½(L(0) + L(1)). */
  barrier: number;
  /** ½(acc(0) + acc(1)) − min_α acc(α). */
  accuracy_barrier: number;
  /** α where the loss peaks. */
  peak_alpha: number;
}

export interface InterpolateCliResult {
  a: string;
  b: string;
  onnx: string;
  data: string;
  n: number;
  provider: string;
  /** Graph initializers fed from the models at every point. */
  weights: string[];
  alphas: number[];
  naive: CurveResult;
  matched?: CurveResult & { objectives: number[]; l2_before: number; l2_after: number };
}

/** Barrier of a loss curve whose first and last points are the end models. */
async function curve(session: InferenceSession, set: Awaited<ReturnType<typeof loadEvalSet>>, names: readonly string[], a: Map<string, NamedTensor>, b: Map<string, NamedTensor>, alphas: readonly number[]): Promise<CurveResult> {
  const loss: number[] = [];
  const accuracy: number[] = [];
  for (const alpha of alphas) {
    const weights = new Map<string, WeightTensor>();
    for (const n of names) {
      const ta = a.get(n)!;
      weights.set(n, { data: lerpTensor(ta.data, b.get(n)!.data, alpha), shape: ta.shape });
    }
    const m = await evaluateClassifier(session, set, weights);
    loss.push(m.loss);
    accuracy.push(m.accuracy);
  }
  const { barrier, at } = lossBarrier(alphas, loss);
  return {
    loss, accuracy, barrier,
    accuracy_barrier: 0.5 * (accuracy[0]! + accuracy[accuracy.length - 1]!) - Math.min(...accuracy),
    peak_alpha: at,
  };
}

export async function collectInterpolate(cmd: InterpolateCommand): Promise<InterpolateCliResult> {
  const alphas = alphaGrid(cmd.points);
  let graphBytes: Uint8Array;
  try {
    graphBytes = new Uint8Array(await readFile(cmd.onnx));
  } catch (e) {
    throw namingFile(cmd.onnx, e);
  }
  return withModels([cmd.a, cmd.b, cmd.data], async ([ma, mb, md]) => {
    let set;
    try {
      set = await loadEvalSet(md!.source);
    } catch (e) {
      throw namingFile(cmd.data, e);
    }
    const a = await decodeFloatTensors(ma!.source);
    const b = await decodeFloatTensors(mb!.source);
    const aBy = new Map(a.map((t) => [t.name, t]));
    const bBy = new Map(b.map((t) => [t.name, t]));
    const onnxName = basename(cmd.onnx);
    let info;
    try {
      info = describeGraph(graphBytes, onnxName);
    } catch (e) {
      throw namingFile(cmd.onnx, e);
    }
    // The weights that move along the path: graph inputs and float initializers that both models
    // hold with the same shape. Other initializers keep the graph's own values (shape constants).
    const names: string[] = [];
    const fromInits: string[] = [];
    const candidates = [...info.inputs.map((v) => ({ v, init: false })), ...info.initializers.map((v) => ({ v, init: true }))];
    for (const { v, init } of candidates) {
      const ta = aBy.get(v.name);
      if (!ta || names.includes(v.name)) continue;
      if (init && !isFloatDtype(v.dtype)) continue;
      const tb = bBy.get(v.name);
      if (!tb || tb.shape.join(',') !== ta.shape.join(',')) {
        throw new Error(`${cmd.b}: tensor "${v.name}" is ${tb ? `[${tb.shape.join(', ')}]` : 'missing'}, ${basename(cmd.a)} has [${ta.shape.join(', ')}]`);
      }
      const fits = v.shape === null || (v.shape.length === ta.shape.length && v.shape.every((d, i) => typeof d !== 'number' || d === ta.shape[i]));
      if (!fits) throw new Error(`${cmd.onnx}: "${v.name}" is [${v.shape!.join(', ')}] in the graph, ${basename(cmd.a)} has [${ta.shape.join(', ')}]`);
      names.push(v.name);
      if (init) fromInits.push(v.name);
    }
    if (names.length === 0) {
      const some = [...info.inputs, ...info.initializers].slice(0, 4).map((i) => `"${i.name}"`).join(', ') || 'none';
      throw new Error(`${cmd.onnx}: none of the graph's inputs or initializers is named like a tensor of ${basename(cmd.a)} (graph has ${some})`);
    }
    const runnable = fromInits.length ? initializersToInputs(graphBytes, { names: fromInits, file: onnxName }) : graphBytes;
    const session = await createSession(runnable, { forceCpu: true, file: onnxName });
    try {
      const naive = await curve(session, set, names, aBy, bBy, alphas);
      const result: InterpolateCliResult = {
        a: cmd.a, b: cmd.b, onnx: cmd.onnx, data: cmd.data, n: set.n, provider: session.provider, weights: names, alphas, naive,
      };
      if (cmd.match) {
        const m = await matchModels(cmd.a, a, b, { ...(cmd.spec !== undefined ? { spec: cmd.spec } : {}), ...(cmd.seed !== undefined ? { seed: cmd.seed } : {}) });
        const permuted = new Map(m.permuted.map((t) => [t.name, t]));
        const matched = await curve(session, set, names, aBy, permuted, alphas);
        result.matched = { ...matched, objectives: m.objectives, l2_before: modelL2(a, b), l2_after: modelL2(a, m.permuted) };
      }
      return result;
    } finally {
      await session.release();
    }
  });
}

export function formatInterpolateText(r: InterpolateCliResult): string {
  const pct = (v: number) => `${(v * 100).toFixed(2)}%`;
  const head = ['>alpha', '>loss', '>accuracy', ...(r.matched ? ['>matched_loss', '>matched_accuracy'] : [])];
  const rows = r.alphas.map((al, i) => [
    fmtNum(al), fmtNum(r.naive.loss[i]!), pct(r.naive.accuracy[i]!),
    ...(r.matched ? [fmtNum(r.matched.loss[i]!), pct(r.matched.accuracy[i]!)] : []),
  ]);
  const out = [
    `${basename(r.a)} (α = 0) → ${basename(r.b)} (α = 1) in ${basename(r.onnx)} on ${r.n} samples of ${basename(r.data)} (${r.provider}, ${r.weights.length} weights)`,
    table(head, rows),
    `loss barrier: ${fmtNum(r.naive.barrier)} (peak at α = ${fmtNum(r.naive.peak_alpha)}); accuracy drop ${pct(r.naive.accuracy_barrier)}`,
  ];
  if (r.matched) {
    out.push(`after weight matching: loss barrier ${fmtNum(r.matched.barrier)} (peak at α = ${fmtNum(r.matched.peak_alpha)}); accuracy drop ${pct(r.matched.accuracy_barrier)}; L2 a↔b ${fmtNum(r.matched.l2_before)} → ${fmtNum(r.matched.l2_after)}`);
  }
  return `${out.join('\n')}\n`;
}

export async function interpolate(cmd: InterpolateCommand): Promise<string> {
  const r = await collectInterpolate(cmd);
  return cmd.json ? `${JSON.stringify(r, null, 1)}\n` : formatInterpolateText(r);
}
