import type { ErrorInfo } from '../base/errors';
import type { FormatName, TensorInfo } from '../formats/types';
import type { FirstPassStats, TensorStats } from '../math/tensor-stats';
import type { LayerSpectrum } from '../analysis/spectra/analyze-layer';
import type { FitMethod } from '../analysis/spectra/metrics';
import type { XminMode } from '../math/powerlaw-fit';
import type { AbsHeatmap } from '../charts/spectra/abs-heatmap';
import type { FitCandidates } from '../charts/spectra/fit-candidates';
import type { WindowRect } from '../charts/spectra/farms-window-rects';
import type { QuantBits, QuantMethod, QuantSettings } from '../analysis/quant/quantize-layer';
import type { QuantError } from '../analysis/quant/quant-metrics';
import type { QuantMaps } from '../charts/quant/quant-maps';
import type { Mask, PruneAllocation, PruneMethod, PruneSettings } from '../analysis/prune/prune-types';
import type { MergeMethod, TensorMergeStats } from '../analysis/merge/merge-methods';
import type { UnmatchedTensor } from '../analysis/merge/pairing';
import type { PathCurve, SimilarityMatrices } from '../analysis/merge/path-curves';
import type { Projection } from '../analysis/quant/projection';

/**
 * The typed contract between the main thread and the compute workers. Everything here is
 * structured-clone safe: File handles and URLs go in (never bytes), small results come out.
 */

/** A file the user gave, with its path relative to the dropped/picked folder ("bert/model.safetensors"). */
export interface InputFile {
  path: string;
  file: File;
}

/** Where a model's bytes are: local files (one, or a folder) or a URL read with HTTP Range. */
export type ModelSpec =
  | { kind: 'files'; files: InputFile[]; primary: string; label?: string }
  | { kind: 'url'; url: string; label?: string };

/** A model any worker can open on demand: the id keys each worker's cache of opened models. */
export interface ModelRef {
  modelId: string;
  spec: ModelSpec;
}

export interface OpenModelResult {
  modelId: string;
  name: string;
  format: FormatName;
  tensors: TensorInfo[];
  metadata: Record<string, unknown>;
  totalBytes: number;
}

export interface TensorStatsResult extends TensorStats {
  tensor: string;
  shape: number[];
  dtype: string;
  /** The GPU adapter that ran it, when backend is 'webgpu'. */
  adapter?: string;
}

export type Backend = 'webgpu' | 'cpu';

/** `partial` payload of a tensor-stats job: the first pass's numbers, before std and the histogram. */
export type TensorStatsPartial = FirstPassStats & { tensor: string };

// Re-exported so the view (which may not import lib/analysis) can name what the worker sends.
export type { LayerSpectrum, LayerSpectrumOk, LayerSpectrumError } from '../analysis/spectra/analyze-layer';
export type { FitMethod, TrainingWarning } from '../analysis/spectra/metrics';
export type { FarmsResult } from '../analysis/spectra/farms';
export type { MpFit } from '../math/mp-fit';
export type { XminMode } from '../math/powerlaw-fit';

export type { QuantSettings, QuantMethod, QuantBits } from '../analysis/quant/quantize-layer';
export type { QuantError } from '../analysis/quant/quant-metrics';
export type { QuantMaps } from '../charts/quant/quant-maps';
export type { Projection } from '../analysis/quant/projection';

/** Metrics of one quantized layer: all the whole-model sweep needs. */
export interface QuantLayerSummary {
  tensor: string;
  layer: string;
  rows: number;
  cols: number;
  method: QuantMethod;
  error: QuantError;
  bits: QuantBits;
  /** Codeword usage of the (first-stage) codebook; null for RTN/PVQ. */
  usage: { k: number; books: number; entropyBits: number; perplexity: number; dead: number } | null;
  /** VQ4DiT ambiguity: sub-vectors a calibration is free to flip (d₁/d₂ ≥ 0.9), of `cells`. */
  flippable: number | null;
  cells: number;
  /** For the vector methods: scalar RTN (asymmetric, g = 128) at the nearest equal bits per weight. */
  rtnAtEqualBits: { bits: number; bpw: number; error: QuantError } | null;
  /** k-means objective per iteration (first stage), and Lloyd iterations run. */
  objectiveHistory: number[] | null;
  iterations: number | null;
  backend: Backend;
  adapter?: string;
  backendNote?: string;
  ms: number;
}

/** A quantize-layer job's answer: the summary, plus the view's maps when asked for. */
export interface QuantLayerResult extends QuantLayerSummary {
  settings: QuantSettings;
  subLen: number;
  maps: QuantMaps | null;
  /** Sorted codeword counts (the usage histogram), first stage. */
  sortedCounts: Uint32Array | null;
  /** Book 0's sub-vectors and codewords on two axes; it also gives each codeword its colour in the maps. */
  projection: Projection | null;
}

/** One point of the rate–distortion plot. */
export interface RdPoint {
  method: QuantMethod;
  label: string;
  bpw: number;
  sqnrDb: number;
  relFrobenius: number;
}

export interface QuantRdResult {
  points: RdPoint[];
  /** The VQ points' fitting budget, stated on the chart: codebooks fitted on a sample, fewer iterations. */
  vqSample: number;
  vqIters: number;
  ms: number;
}

export type { PruneSettings, PruneMethod, PruneAllocation, Mask } from '../analysis/prune/prune-types';

/** One layer's row of a prune job. */
export interface PruneLayerRow {
  tensor: string;
  layer: string;
  order: number;
  rows: number;
  cols: number;
  /** Sparsity the allocation asked for, and what the mask has. */
  target: number;
  achieved: number;
  /** α used by the α-driven allocation (raw or FARMS), null when not analyzable or uniform. */
  alpha: number | null;
  /** N:M validity (method nm): groups violating the pattern. */
  nmViolations: number | null;
  /** Left dense by the exclude pattern. */
  excluded: boolean;
}

export interface PruneDetail {
  tensor: string;
  layer: string;
  rows: number;
  cols: number;
  mask: Mask;
  rowSparsity: Float32Array;
  colSparsity: Float32Array;
  /** Histogram of the scores (log10 when `logScores`), and the score at the cut. */
  histogram: { counts: Uint32Array; lo: number; hi: number; logScores: boolean };
  threshold: number | null;
  compare: { method: PruneMethod; allocation: PruneAllocation; mask: Mask; jaccard: number; hamming: number } | null;
}

export interface PruneJobResult {
  layers: PruneLayerRow[];
  total: { weights: number; kept: number; sparsity: number };
  detail: PruneDetail | null;
  /** Pruned weights by tensor name (stored layout), when asked for. */
  weights: Record<string, Float32Array> | null;
  ms: number;
}

/** What the Spectra view asks for; part of its URL and of its cache key. Defaults: lib/state/spectra-settings.ts. */
export interface SpectraSettings {
  fit: FitMethod;
  mpFit: boolean;
  farms: boolean;
  farmsNr: number;
  farmsQRatio: number;
  farmsOps: number;
  farmsFit: XminMode;
}

/** One layer of a `spectra` job, sent as a `partial` as soon as it is done. */
export interface SpectraLayerResult {
  /** The tensor the layer is (Layer.tensor.name): the key the page matches on. */
  tensor: string;
  spectrum: LayerSpectrum;
  /** α and D for each candidate xmin of the raw ESD (the fit-robustness view). */
  candidates: FitCandidates | null;
  /** Downsampled |W| of the FARMS matrix [out, in·kh·kw], and the FARMS windows on it. */
  heatmap: AbsHeatmap | null;
  windows: WindowRect[];
  backend: Backend;
  /** The GPU adapter, when backend is 'webgpu'. */
  adapter?: string;
  /** Why the CPU ran although a WebGPU device was there (software adapter). */
  backendNote?: string;
  /** Relative level (× λmax) below which eigenvalues are GPU Gram rounding noise; 0 on the CPU (float64). */
  floor: number;
  /** Worker time spent on this layer (read + analysis), ms. */
  ms: number;
}

export interface SpectraJobResult {
  layers: number;
  ms: number;
}

export type Job =
  | { kind: 'open-model'; model: ModelRef }
  | {
      kind: 'spectra';
      model: ModelRef;
      tensors: string[];
      settings: SpectraSettings;
      forceCpu: boolean;
      /** Use WebGPU even on a software adapter (SwiftShader), where the CPU path is faster: for comparing backends. */
      forceGpu?: boolean;
    }
  | { kind: 'tensor-stats'; model: ModelRef; tensor: string; bins: number; forceCpu: boolean }
  | {
      kind: 'quantize-layer';
      model: ModelRef;
      tensor: string;
      settings: QuantSettings;
      forceCpu: boolean;
      forceGpu?: boolean;
      /** Metrics only (the whole-model sweep): no maps, no projection. */
      summaryOnly?: boolean;
    }
  | { kind: 'quantize-rd'; model: ModelRef; tensor: string; settings: QuantSettings; forceCpu: boolean }
  | {
      kind: 'prune';
      model: ModelRef;
      settings: PruneSettings;
      /** The layer whose mask, profiles and score histogram come back in full. */
      detail: string | null;
      /** A second mask of the detail layer to compare with (method/allocation changed). */
      compare: { method: PruneMethod; allocation: PruneAllocation } | null;
      /** Wanda's ‖X_j‖ per weight tensor (from the inference worker). */
      actNorms?: Record<string, Float32Array>;
      /** Also return the pruned weights (stored layout) of every pruned tensor: the accuracy curve feeds them to the graph. */
      withWeights?: boolean;
    }
  /** The quantized model as the two files `weightlens quantize --out/--dequantized` writes. */
  | { kind: 'export-quantized'; model: ModelRef; settings: QuantSettings; layers: string | null }
  /** The pruned model and its masks as `weightlens prune --out/--masks` writes them. */
  | { kind: 'export-pruned'; model: ModelRef; settings: PruneSettings; actNorms?: Record<string, Float32Array> }
  | ({ kind: 'merge-analyze'; model: ModelRef } & MergeJobSpec)
  | ({ kind: 'merge-weights'; model: ModelRef; alphas: number[]; withMerged: boolean } & MergeJobSpec)
  /** The merged model (and B permuted onto A when matching is on) as safetensors files. */
  | ({ kind: 'export-merged'; model: ModelRef } & MergeJobSpec)
  | { kind: 'close-model'; modelId: string };

export interface JobResultMap {
  'open-model': OpenModelResult;
  'tensor-stats': TensorStatsResult;
  'close-model': { closed: boolean };
  spectra: SpectraJobResult;
  'quantize-layer': QuantLayerResult;
  'quantize-rd': QuantRdResult;
  prune: PruneJobResult;
  'export-quantized': ExportFiles;
  'export-pruned': ExportFiles;
  'merge-analyze': MergeAnalysis;
  'merge-weights': MergeWeightSets;
  'export-merged': ExportFiles;
}

export type { MergeMethod } from '../analysis/merge/merge-methods';

/** What the Merge view asks of the compute worker (`model` in the job is model A, for worker affinity). */
export interface MergeJobSpec {
  a: ModelRef;
  b: ModelRef;
  base: ModelRef | null;
  method: MergeMethod;
  points: number;
  match: boolean;
  /** Permutation spec as JSON, or null to infer it (MLP chains). */
  spec: string | null;
  seed: number;
}

export interface MergeAnalysis {
  labels: string[];
  pairing: { paired: number; unmatched: UnmatchedTensor[]; nonFloat: number };
  path: { alphas: number[]; model: PathCurve; layers: PathCurve[] };
  pathMatched: { alphas: number[]; model: PathCurve; layers: PathCurve[] } | null;
  similarity: { labels: string[]; layers: SimilarityMatrices[]; model: SimilarityMatrices };
  taskCosine: { labels: string[]; layers: SimilarityMatrices[]; model: SimilarityMatrices } | null;
  matching: { groups: { name: string; size: number; perm: Int32Array }[]; objectives: number[]; iterations: number; converged: boolean; l2Before: number; l2After: number } | null;
  mergeStats: TensorMergeStats[] | null;
  /** Spectral α of each analyzable layer at points along the path, naive and after matching. */
  alphaPath: { alphas: number[]; layers: { name: string; naive: (number | null)[]; matched: (number | null)[] | null }[] };
  ms: number;
}

export interface MergeWeightSets {
  sets: { label: string; alpha: number | null; tensors: { name: string; shape: number[]; data: Float32Array }[] }[];
}

/** Files built in a worker for the page to download. */
export interface ExportFiles {
  files: { name: string; bytes: Uint8Array }[];
  /** Layers quantized or pruned in them. */
  layers: number;
}

export type JobKind = Job['kind'];
export type JobOf<K extends JobKind> = Extract<Job, { kind: K }>;

export type WorkerIn = { type: 'run'; id: number; job: Job } | { type: 'cancel'; id: number };

export type WorkerOut =
  | { type: 'progress'; id: number; done: number; total: number; label?: string }
  | { type: 'partial'; id: number; data: unknown }
  | { type: 'result'; id: number; data: JobResultMap[JobKind]; backend: Backend }
  | { type: 'error'; id: number; error: ErrorInfo };
