import { FormatError, LimitError, NotFoundError } from '../base/errors';
import { openModel } from '../formats/registry';
import type { TensorSource } from '../formats/types';
import { loadEvalSet, type EvalSet } from '../inference/eval-set';
import { activationNorms, evaluateClassifier, type WeightTensor } from '../inference/evaluate';
import { describeGraph, exposeOutputs, initializersToInputs, linearInputs, type GraphInfo } from '../inference/graph-inputs';
import { createSession, type InferenceSession } from '../inference/ort';
import type { ModelRef } from './job-types';
import type {
  InferenceJob,
  InferenceJobKind,
  InferenceJobOf,
  InferenceResultMap,
  InferenceWorkerOut,
  WeightSet,
} from './inference-types';
import { openSpec } from './open-spec';
import { jobLoop, type JobLoopContext } from './job-loop';
import { SharedOpens } from './shared-open';

/**
 * The worker side of the inference protocol (workers/inference.worker.ts wires it to
 * postMessage). It keeps opened graphs, sessions, evaluation sets and weight files by id, so a
 * 25-point merge curve creates one session and reads the evaluation set once. Runs unchanged in
 * Node, which is how it is unit tested.
 */

export type InferencePost = (msg: InferenceWorkerOut, transfer?: Transferable[]) => void;

/** onnxruntime takes the whole graph as one buffer, and protobuf caps a message at 2 GiB. */
export const MAX_GRAPH_BYTES = 2 ** 31 - 1;

type Ctx = JobLoopContext;

interface Graph {
  file: string;
  bytes: Uint8Array;
  info: GraphInfo;
}

interface Outcome<K extends keyof InferenceResultMap> {
  data: InferenceResultMap[K];
  provider: 'webgpu' | 'wasm';
  transfer?: Transferable[];
}

export function createInferenceRunner(post: InferencePost) {
  // Opened once per worker and shared by the jobs that need them (see SharedOpens).
  const graphs = new SharedOpens<Graph>();
  const sessions = new SharedOpens<InferenceSession>(false);
  const evalSets = new SharedOpens<EvalSet>();
  const files = new SharedOpens<TensorSource>();

  function getGraph(ref: ModelRef, signal: AbortSignal): Promise<Graph> {
    return graphs.get(ref.modelId, signal, async (s) => {
      const input = await openSpec(ref.spec, s);
      const src = input.primary;
      if (src.size > MAX_GRAPH_BYTES) throw new LimitError('graph-size', `${src.name}: ${src.size} bytes, over the ${MAX_GRAPH_BYTES}-byte limit of an ONNX graph`);
      const bytes = await src.read(0, src.size, s);
      return { file: src.name, bytes, info: describeGraph(bytes, src.name) };
    });
  }

  const getFile = (ref: ModelRef, signal: AbortSignal) => files.get(ref.modelId, signal, async (s) => openModel(await openSpec(ref.spec, s), s));
  const getEvalSet = (ref: ModelRef, signal: AbortSignal) => evalSets.get(ref.modelId, signal, async (s) => loadEvalSet(await getFile(ref, s), s));

  /** Names a weight set can feed: its file's tensors and its overrides. */
  async function weightNames(ws: WeightSet, signal: AbortSignal): Promise<Set<string>> {
    const names = new Set((ws.overrides ?? []).map((o) => o.name));
    if (ws.base) for (const t of (await getFile(ws.base, signal)).tensors) names.add(t.name);
    return names;
  }

  /**
   * A session over the graph with the initializers the weights provide turned into inputs (and
   * `expose` values as outputs). Keyed by both, so every point of a path reuses it.
   */
  function getSession(ref: ModelRef, g: Graph, feedable: Set<string>, expose: string[], job: { forceCpu?: boolean; forceGpu?: boolean }, signal: AbortSignal): Promise<InferenceSession> {
    const forceCpu = job.forceCpu ?? false;
    const forceGpu = job.forceGpu ?? false;
    const convert = g.info.initializers.filter((t) => feedable.has(t.name) && /^(F|BF)/.test(t.dtype)).map((t) => t.name);
    const key = JSON.stringify([ref.modelId, convert, expose, forceCpu, forceGpu]);
    return sessions.get(key, signal, async () => {
      let bytes = convert.length ? initializersToInputs(g.bytes, { names: convert, file: g.file }) : g.bytes;
      if (expose.length) bytes = exposeOutputs(bytes, expose, g.file);
      return createSession(bytes, { forceCpu, forceGpu, file: g.file });
    });
  }

  /** The tensors a session's inputs need, from overrides first, then the base file. */
  async function loadWeights(ws: WeightSet, inputs: readonly string[], signal: AbortSignal): Promise<Map<string, WeightTensor>> {
    const out = new Map<string, WeightTensor>();
    for (const o of ws.overrides ?? []) {
      const count = o.shape.reduce((a, b) => a * b, 1);
      if (count !== o.data.length) throw new FormatError('bad-shape', `${ws.label}: override "${o.name}" has ${o.data.length} values for shape [${o.shape.join(', ')}]`);
      out.set(o.name, { data: o.data, shape: o.shape });
    }
    if (ws.base) {
      const src = await getFile(ws.base, signal);
      for (const name of inputs) {
        if (out.has(name)) continue;
        const info = src.tensors.find((t) => t.name === name);
        if (info) out.set(name, { data: await src.read(name, signal), shape: info.shape });
      }
    }
    return out;
  }

  function subset(set: EvalSet, maxSamples: number | undefined): EvalSet {
    if (maxSamples === undefined || maxSamples >= set.n) return set;
    const n = Math.max(1, Math.floor(maxSamples));
    const per = set.sampleShape.reduce((a, b) => a * b, 1);
    return { ...set, n, inputs: set.inputs.subarray(0, n * per), labels: set.labels.subarray(0, n) };
  }

  async function describeJob(job: InferenceJobOf<'describe-graph'>, ctx: Ctx): Promise<Outcome<'describe-graph'>> {
    const g = await getGraph(job.model, ctx.signal);
    const strip = <T extends { name: string; dtype: string; shape: (number | string | null)[] | null }>(v: T) => ({ name: v.name, dtype: v.dtype, shape: v.shape });
    return {
      provider: 'wasm',
      data: {
        inputs: g.info.inputs.map(strip),
        outputs: g.info.outputs.map(strip),
        initializers: g.info.initializers.map(strip),
        linear: linearInputs(g.info),
      },
    };
  }

  async function evaluateJob(job: InferenceJobOf<'evaluate'>, ctx: Ctx): Promise<Outcome<'evaluate'>> {
    const t0 = performance.now();
    if (job.models.length === 0) throw new FormatError('bad-shape', 'evaluate: no weight sets given');
    ctx.progress(0, job.models.length, 'opening graph and evaluation set');
    const [g, fullSet] = await Promise.all([getGraph(job.model, ctx.signal), getEvalSet(job.evalSet, ctx.signal)]);
    const set = subset(fullSet, job.maxSamples);
    const feedable = await weightNames(job.models[0]!, ctx.signal);
    const session = await getSession(job.model, g, feedable, [], job, ctx.signal);
    const models: InferenceResultMap['evaluate']['models'] = [];
    for (const [index, ws] of job.models.entries()) {
      const weights = await loadWeights(ws, session.inputNames, ctx.signal);
      const m = await evaluateClassifier(session, set, weights, {
        batch: job.batch,
        signal: ctx.signal,
        onProgress: (done, total) => ctx.progress(index + done / total, job.models.length, ws.label),
      });
      const r = { index, label: ws.label, ...m };
      models.push(r);
      ctx.partial(r);
    }
    return { provider: session.provider, data: { models, provider: session.provider, providerNote: session.providerNote, ms: performance.now() - t0 } };
  }

  async function normsJob(job: InferenceJobOf<'activation-norms'>, ctx: Ctx): Promise<Outcome<'activation-norms'>> {
    const t0 = performance.now();
    ctx.progress(0, 1, 'opening graph and evaluation set');
    const [g, fullSet] = await Promise.all([getGraph(job.model, ctx.signal), getEvalSet(job.evalSet, ctx.signal)]);
    const set = subset(fullSet, job.maxSamples);
    const feedable = await weightNames(job.weights, ctx.signal);
    let linear = linearInputs(g.info, feedable);
    if (job.only) {
      const only = new Set(job.only);
      const missing = job.only.filter((w) => !linear.some((l) => l.weight === w));
      if (missing.length) throw new NotFoundError('tensor', `${g.file}: ${missing.map((m) => `"${m}"`).join(', ')} feed no Gemm/MatMul node of the graph`);
      linear = linear.filter((l) => only.has(l.weight));
    }
    if (linear.length === 0) throw new NotFoundError('tensor', `${g.file}: no Gemm/MatMul node takes a weight from "${job.weights.label}"`);
    const graphInputs = new Set(g.info.inputs.map((v) => v.name));
    const expose = [...new Set(linear.map((l) => l.activation))].filter((a) => !graphInputs.has(a)).sort();
    const session = await getSession(job.model, g, feedable, expose, job, ctx.signal);
    const weights = await loadWeights(job.weights, session.inputNames, ctx.signal);
    const norms = await activationNorms(session, set, weights, linear, { batch: job.batch, signal: ctx.signal, onProgress: (d, t) => ctx.progress(d, t, 'activations') });
    const out = linear.map((l) => ({ ...l, values: norms.get(l.weight)! }));
    return {
      provider: session.provider,
      data: { norms: out, samples: set.n, provider: session.provider, providerNote: session.providerNote, ms: performance.now() - t0 },
      transfer: out.map((o) => o.values.buffer as ArrayBuffer),
    };
  }

  async function closeJob(job: InferenceJobOf<'close-model'>): Promise<Outcome<'close-model'>> {
    let closed = graphs.delete(job.modelId);
    closed = evalSets.delete(job.modelId) || closed;
    closed = files.delete(job.modelId) || closed;
    for (const [key, p] of sessions.values()) {
      if ((JSON.parse(key) as unknown[])[0] !== job.modelId) continue;
      sessions.delete(key);
      closed = true;
      void p.then((s) => s.release()).catch(() => undefined);
    }
    return { provider: 'wasm', data: { closed } };
  }

  function run(job: InferenceJob, ctx: Ctx): Promise<Outcome<keyof InferenceResultMap>> {
    switch (job.kind) {
      case 'describe-graph':
        return describeJob(job, ctx);
      case 'evaluate':
        return evaluateJob(job, ctx);
      case 'activation-norms':
        return normsJob(job, ctx);
      case 'close-model':
        return closeJob(job);
    }
  }

  const handle = jobLoop<InferenceJob, InferenceResultMap[InferenceJobKind]>(post, async (job, ctx) => {
    const out = await run(job, ctx);
    return { data: out.data, backend: out.provider === 'webgpu' ? 'webgpu' : 'cpu', ...(out.transfer ? { transfer: out.transfer } : {}) };
  });

  return { handle, openIds: () => [...new Set([...graphs.keys(), ...evalSets.keys(), ...files.keys()])] };
}
