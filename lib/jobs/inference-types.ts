import type { ErrorInfo } from '../base/errors';
import type { Backend, ModelRef } from './job-types';

/**
 * The typed contract with the inference worker (workers/inference.worker.ts), which owns the
 * onnxruntime-web sessions. Same message shapes as the compute workers (`run`/`cancel` in;
 * `progress`, `partial`, `result`, `error` out) so lib/jobs/worker-pool.ts drives it.
 *
 * Every job names its ONNX graph as `model` (the pool keys worker affinity on `model.modelId`).
 */

export type Provider = 'webgpu' | 'wasm';

/** One tensor replacing (or adding to) a weight set's file tensors: pruned or merged weights. */
export interface TensorOverride {
  name: string;
  shape: number[];
  data: Float32Array;
}

/**
 * A set of weights to run the graph with: tensors of a file (safetensors, npz, ...) and/or
 * overrides. A graph input found in neither is an error naming it.
 */
export interface WeightSet {
  /** Shown with its result (e.g. "α = 0.25", "magnitude 50%"). */
  label: string;
  base?: ModelRef;
  overrides?: TensorOverride[];
}

export interface GraphValueInfo {
  name: string;
  dtype: string;
  shape: (number | string | null)[] | null;
}

export interface LinearWeightInfo {
  weight: string;
  activation: string;
  op: 'Gemm' | 'MatMul';
  /** The weight axis indexing input features: 1 for [out, in] (Gemm transB=1), 0 for [in, out]. */
  inAxis: 0 | 1;
  node: string;
}

export interface DescribeGraphResult {
  inputs: GraphValueInfo[];
  outputs: GraphValueInfo[];
  initializers: GraphValueInfo[];
  /** Gemm/MatMul nodes with a weight operand: what Wanda scores can be computed for. */
  linear: LinearWeightInfo[];
}

export interface ModelMetrics {
  index: number;
  label: string;
  /** Mean softmax cross-entropy (natural log). */
  loss: number;
  accuracy: number;
  n: number;
  /** Per true class: samples, correct predictions and summed loss. */
  perClass: { n: number[]; correct: number[]; lossSum: number[] };
}

export interface EvaluateResult {
  models: ModelMetrics[];
  provider: Provider;
  providerNote?: string;
  ms: number;
}

export interface ActivationNormsResult {
  /** One entry per linear weight: ‖X_j‖₂ over the samples for each input feature j. */
  norms: (LinearWeightInfo & { values: Float32Array })[];
  samples: number;
  provider: Provider;
  providerNote?: string;
  ms: number;
}

interface RunSettings {
  /** The evaluation set: `inputs` and `labels` (npz or safetensors). */
  evalSet: ModelRef;
  forceCpu?: boolean;
  /** WebGPU even on a software adapter (SwiftShader), where wasm is faster: for comparing providers. */
  forceGpu?: boolean;
  /** Samples per onnxruntime run (default 500). */
  batch?: number;
  /** Use only the first n samples (a calibration subset). */
  maxSamples?: number;
}

export type InferenceJob =
  | { kind: 'describe-graph'; model: ModelRef }
  /** Loss and accuracy of each weight set; a `partial` (ModelMetrics) after each. */
  | ({ kind: 'evaluate'; model: ModelRef; models: WeightSet[] } & RunSettings)
  /** Wanda's activation norms for the Gemm/MatMul weights of `weights` (default: all linear weights). */
  | ({ kind: 'activation-norms'; model: ModelRef; weights: WeightSet; only?: string[] } & RunSettings)
  /** Drops an opened graph, eval set or weights file (WorkerPool.closeModel sends it). */
  | { kind: 'close-model'; modelId: string };

export interface InferenceResultMap {
  'describe-graph': DescribeGraphResult;
  evaluate: EvaluateResult;
  'activation-norms': ActivationNormsResult;
  'close-model': { closed: boolean };
}

export type InferenceJobKind = InferenceJob['kind'];
export type InferenceJobOf<K extends InferenceJobKind> = Extract<InferenceJob, { kind: K }>;

export type InferenceWorkerIn = { type: 'run'; id: number; job: InferenceJob } | { type: 'cancel'; id: number };

export type InferenceWorkerOut =
  | { type: 'progress'; id: number; done: number; total: number; label?: string }
  | { type: 'partial'; id: number; data: unknown }
  | { type: 'result'; id: number; data: InferenceResultMap[InferenceJobKind]; backend: Backend }
  | { type: 'error'; id: number; error: ErrorInfo };
