import type { Backend, Job, JobKind, JobOf } from './job-types';
import type { InferenceJobKind, InferenceJobOf, InferenceResultMap } from './inference-types';
import { WorkerPool, type RunOptions, type WorkerLike } from './worker-pool';

/**
 * The app's one inference worker (onnxruntime-web sessions are large and single-threaded per
 * worker, so one is enough), created on first use. The `new Worker(new URL(...))` form must stay
 * literal: it is how Turbopack/webpack find and bundle workers/inference.worker.ts. Hosts without
 * that worker (tests, other shells) pass their own factory first.
 */

export interface InferenceReply<K extends InferenceJobKind> {
  data: InferenceResultMap[K];
  /** 'webgpu' or 'cpu' (onnxruntime's wasm provider); data.provider has onnxruntime's name. */
  backend: Backend;
}

export interface InferencePool {
  run<K extends InferenceJobKind>(job: InferenceJobOf<K>, opts?: RunOptions): Promise<InferenceReply<K>>;
  /** Drops a graph, evaluation set or weights file the worker holds (by the id it was opened with). */
  close(modelId: string): Promise<void>;
  terminate(): void;
}

let factory: (() => WorkerLike) | undefined;
let pool: InferencePool | undefined;

function browserWorker(): WorkerLike {
  return new Worker(new URL('../../workers/inference.worker.ts', import.meta.url), { type: 'module', name: 'weightlens-inference' }) as unknown as WorkerLike;
}

/** WorkerPool speaks the compute jobs' types; the messages are the same shape, so only the types are bridged here. */
export function createInferencePool(f: () => WorkerLike): InferencePool {
  const p = new WorkerPool(f, 1);
  return {
    run: <K extends InferenceJobKind>(job: InferenceJobOf<K>, opts?: RunOptions) =>
      p.run(job as unknown as JobOf<JobKind>, opts) as unknown as Promise<InferenceReply<K>>,
    close: async (modelId) => {
      await p.run({ kind: 'close-model', modelId } as Job as JobOf<'close-model'>).catch(() => undefined);
    },
    terminate: () => p.terminate(),
  };
}

export function configureInferencePool(f: () => WorkerLike): void {
  if (pool) throw new Error('configureInferencePool must run before the pool is first used');
  factory = f;
}

export function getInferencePool(): InferencePool {
  pool ??= createInferencePool(factory ?? browserWorker);
  return pool;
}
