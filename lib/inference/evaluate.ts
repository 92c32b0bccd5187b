import { FormatError, throwIfAborted } from '../base/errors';
import type { EvalSet } from './eval-set';
import type { LinearInput } from './graph-inputs';
import type { FeedTensor, InferenceSession } from './ort';

/**
 * Classifier metrics and activation statistics from an ONNX session whose weights are graph
 * inputs. Sums run in float64 so the figures do not depend on the batch size.
 */

export interface WeightTensor {
  data: Float32Array;
  shape: readonly number[];
}

export interface EvalOptions {
  /** Samples per run (default 500). */
  batch?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** The logits output (default the graph's first output). */
  output?: string;
}

export interface ClassifierMetrics {
  /** Mean softmax cross-entropy, natural log. */
  loss: number;
  accuracy: number;
  n: number;
  /** Per true class: samples, correct predictions and summed loss — accuracy on any subset of classes (e.g. the digits a fine-tune saw). */
  perClass: { n: number[]; correct: number[]; lossSum: number[] };
}

export const DEFAULT_EVAL_BATCH = 500;

function weightFeeds(session: InferenceSession, weights: ReadonlyMap<string, WeightTensor>): { feeds: Record<string, FeedTensor>; data: string } {
  const feeds: Record<string, FeedTensor> = {};
  const missing: string[] = [];
  for (const name of session.inputNames) {
    const w = weights.get(name);
    if (w) feeds[name] = { data: w.data, dims: w.shape };
    else missing.push(name);
  }
  if (missing.length !== 1) {
    throw new FormatError(
      'bad-shape',
      missing.length === 0
        ? `graph inputs are all weights: no data input left for the evaluation set`
        : `graph inputs ${missing.map((m) => `"${m}"`).join(', ')} have no weights; exactly one data input is expected`,
    );
  }
  return { feeds, data: missing[0]! };
}

function* batches(set: EvalSet, batch: number): Generator<{ start: number; count: number; x: Float32Array }> {
  const per = set.sampleShape.reduce((a, b) => a * b, 1);
  for (let start = 0; start < set.n; start += batch) {
    const count = Math.min(batch, set.n - start);
    yield { start, count, x: set.inputs.subarray(start * per, (start + count) * per) };
  }
}

export async function evaluateClassifier(
  session: InferenceSession,
  set: EvalSet,
  weights: ReadonlyMap<string, WeightTensor>,
  opts: EvalOptions = {},
): Promise<ClassifierMetrics> {
  const batch = Math.max(1, Math.floor(opts.batch ?? DEFAULT_EVAL_BATCH));
  const { feeds, data } = weightFeeds(session, weights);
  const output = opts.output ?? session.outputNames[0];
  if (!output) throw new FormatError('bad-shape', 'the graph has no outputs');
  let lossSum = 0;
  let correct = 0;
  const perClass: ClassifierMetrics['perClass'] = { n: [], correct: [], lossSum: [] };
  for (const b of batches(set, batch)) {
    throwIfAborted(opts.signal);
    feeds[data] = { data: b.x, dims: [b.count, ...set.sampleShape] };
    const res = await session.run(feeds, [output]);
    const logits = res[output]!;
    const classes = logits.data.length / b.count;
    if (!Number.isInteger(classes) || classes < 1) throw new FormatError('bad-shape', `output "${output}" has ${logits.data.length} values for ${b.count} samples`);
    for (let i = 0; i < b.count; i++) {
      const y = set.labels[b.start + i]!;
      if (y >= classes) throw new FormatError('bad-shape', `${set.file}: label ${b.start + i} is ${y}, the graph has ${classes} classes`);
      const o = i * classes;
      let max = -Infinity;
      let arg = 0;
      for (let c = 0; c < classes; c++) {
        const v = logits.data[o + c]!;
        if (v > max) {
          max = v;
          arg = c;
        }
      }
      let z = 0;
      for (let c = 0; c < classes; c++) z += Math.exp(logits.data[o + c]! - max);
      const l = Math.log(z) + max - logits.data[o + y]!;
      lossSum += l;
      if (arg === y) correct++;
      while (perClass.n.length < classes) {
        perClass.n.push(0);
        perClass.correct.push(0);
        perClass.lossSum.push(0);
      }
      perClass.n[y]!++;
      perClass.lossSum[y]! += l;
      if (arg === y) perClass.correct[y]!++;
    }
    opts.onProgress?.(b.start + b.count, set.n);
  }
  return { loss: lossSum / set.n, accuracy: correct / set.n, n: set.n, perClass };
}

/**
 * ‖X_j‖₂ over all evaluation samples (and all leading positions, e.g. tokens) for each input
 * feature j of each linear weight: the activation term of Wanda's |W_ij|·‖X_j‖₂. The session
 * must expose every non-data activation as an output (exposeOutputs).
 */
export async function activationNorms(
  session: InferenceSession,
  set: EvalSet,
  weights: ReadonlyMap<string, WeightTensor>,
  linear: readonly LinearInput[],
  opts: EvalOptions = {},
): Promise<Map<string, Float32Array>> {
  const batch = Math.max(1, Math.floor(opts.batch ?? DEFAULT_EVAL_BATCH));
  const { feeds, data } = weightFeeds(session, weights);
  const acts = [...new Set(linear.map((l) => l.activation))];
  const fetch = acts.filter((a) => a !== data);
  for (const a of fetch) if (!session.outputNames.includes(a)) throw new FormatError('bad-shape', `activation "${a}" is not a graph output; expose it first`);
  const sums = new Map<string, Float64Array>();
  for (const b of batches(set, batch)) {
    throwIfAborted(opts.signal);
    feeds[data] = { data: b.x, dims: [b.count, ...set.sampleShape] };
    const res = fetch.length ? await session.run(feeds, fetch) : {};
    for (const a of acts) {
      const t = a === data ? { data: b.x, dims: [b.count, ...set.sampleShape] } : res[a]!;
      const features = t.dims[t.dims.length - 1] ?? 0;
      if (features < 1) throw new FormatError('bad-shape', `activation "${a}" has shape [${t.dims.join(', ')}]`);
      let s = sums.get(a);
      if (!s) sums.set(a, (s = new Float64Array(features)));
      if (s.length !== features) throw new FormatError('bad-shape', `activation "${a}" changed width from ${s.length} to ${features}`);
      for (let i = 0; i < t.data.length; i++) {
        const v = t.data[i]!;
        s[i % features]! += v * v;
      }
    }
    opts.onProgress?.(b.start + b.count, set.n);
  }
  const out = new Map<string, Float32Array>();
  for (const l of linear) {
    const s = sums.get(l.activation)!;
    const w = weights.get(l.weight);
    const inFeatures = w?.shape[l.inAxis];
    if (inFeatures !== undefined && inFeatures !== s.length) {
      throw new FormatError('bad-shape', `weight "${l.weight}" [${w!.shape.join(', ')}] has ${inFeatures} input features, its activation "${l.activation}" has ${s.length}`);
    }
    out.set(l.weight, Float32Array.from(s, Math.sqrt));
  }
  return out;
}
