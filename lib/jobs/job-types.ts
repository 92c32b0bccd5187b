import type { ErrorInfo } from '../base/errors';
import type { FormatName, TensorInfo } from '../formats/types';
import type { FirstPassStats, TensorStats } from '../math/tensor-stats';

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

export type Job =
  | { kind: 'open-model'; model: ModelRef }
  | { kind: 'tensor-stats'; model: ModelRef; tensor: string; bins: number; forceCpu: boolean }
  | { kind: 'close-model'; modelId: string };

export interface JobResultMap {
  'open-model': OpenModelResult;
  'tensor-stats': TensorStatsResult;
  'close-model': { closed: boolean };
}

export type JobKind = Job['kind'];
export type JobOf<K extends JobKind> = Extract<Job, { kind: K }>;

export type WorkerIn = { type: 'run'; id: number; job: Job } | { type: 'cancel'; id: number };

export type WorkerOut =
  | { type: 'progress'; id: number; done: number; total: number; label?: string }
  | { type: 'partial'; id: number; data: unknown }
  | { type: 'result'; id: number; data: JobResultMap[JobKind]; backend: Backend }
  | { type: 'error'; id: number; error: ErrorInfo };
