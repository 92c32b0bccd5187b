import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { fromErrorInfo } from '../../lib/base/errors';
import type { TensorSource } from '../../lib/formats/types';
import { setDefaultCpuKernel } from '../../lib/math/wasm/spectra-kernels';
import type { Layer } from '../../lib/model/layer';
import { analyzeOne } from './analyze-one';
import type { AnalyzeSpec, FromWorker, LayerOutcome, ToWorker } from './pool-messages';
import { POOL_ROLE } from './pool-worker';

/**
 * Analyzes many layers on worker threads, one tensor per worker at a time, so peak memory stays
 * near threads × (one tensor + its working set). The biggest layers go first (they dominate the
 * wall time; starting them late would leave one core idle at the end); results come back in
 * catalog order whatever order they finish in.
 */

/** DESIGN.md: a compute pool of the core count, at most 4. */
export const MAX_THREADS = 4;

export function defaultThreads(): number {
  return Math.max(1, Math.min(MAX_THREADS, availableParallelism()));
}

/** Rough flops of one layer: the Gram (M²·N per slice) plus the tridiagonalization (M³ per slice). */
export function layerCost(l: Layer, farmsOnly: boolean): number {
  if (farmsOnly) return l.N * l.M; // FARMS windows are a fixed size; the copy scales with the matrix
  return l.rf * l.M * l.M * (l.N + l.M);
}

export interface PoolOptions {
  threads: number;
  /** Called as each layer finishes (any order): index into `layers`, count done so far. */
  onOutcome?: (index: number, outcome: LayerOutcome, done: number) => void;
  /** The main thread's already open source, used when one thread is asked for (no workers). */
  source?: TensorSource;
}

function workerEntry(): { url: URL } {
  const here = import.meta.url;
  // In the CLI bundle this module is part of one .mjs file, which the worker loads as is.
  if (!here.endsWith('.ts')) return { url: new URL(here) };
  // Run from TypeScript sources (tsx): a small .mjs entry registers tsx's loader in the worker first.
  return { url: new URL('./pool-worker-tsx.mjs', here) };
}

/** Schedules `layers` (all from spec.target's catalog) and resolves with their outcomes, in the given order. */
export async function runPool(spec: AnalyzeSpec, layers: readonly Layer[], opts: PoolOptions): Promise<LayerOutcome[]> {
  const outcomes: (LayerOutcome | undefined)[] = new Array(layers.length);
  const order = layers.map((_, i) => i).sort((a, b) => layerCost(layers[b]!, spec.farmsOnly) - layerCost(layers[a]!, spec.farmsOnly) || a - b);
  let done = 0;
  const finish = (i: number, o: LayerOutcome) => {
    outcomes[i] = o;
    done++;
    opts.onOutcome?.(i, o, done);
  };
  if (layers.length === 0) return [];
  const threads = Math.max(1, Math.min(opts.threads, layers.length));

  if (threads === 1 && opts.source) {
    setDefaultCpuKernel(spec.kernel);
    for (const i of order) finish(i, await analyzeOne(opts.source, layers[i]!, spec));
    return outcomes as LayerOutcome[];
  }

  const entry = workerEntry();
  let next = 0;
  await new Promise<void>((resolve, reject) => {
    const workers = new Set<Worker>();
    let failed = false;
    const fail = (e: Error) => {
      if (failed) return;
      failed = true;
      for (const w of workers) void w.terminate();
      reject(e);
    };
    const maybeDone = () => {
      if (!failed && done === layers.length) {
        for (const w of workers) w.postMessage({ type: 'close' } satisfies ToWorker);
        resolve();
      }
    };
    for (let t = 0; t < threads; t++) {
      const w = new Worker(entry.url, { workerData: { role: POOL_ROLE } });
      workers.add(w);
      let inFlight: number | undefined;
      const give = () => {
        if (failed) return;
        if (next >= order.length) {
          inFlight = undefined;
          maybeDone();
          return;
        }
        inFlight = order[next++]!;
        w.postMessage({ type: 'run', layerId: layers[inFlight]!.id } satisfies ToWorker);
      };
      w.on('message', (m: FromWorker) => {
        if (m.type === 'ready') give();
        else if (m.type === 'fatal') fail(fromErrorInfo(m.error));
        else {
          if (inFlight === undefined || layers[inFlight]!.id !== m.layerId) {
            fail(new Error(`analyze pool: worker answered layer ${m.layerId}, expected ${inFlight === undefined ? 'none' : layers[inFlight]!.id}`));
            return;
          }
          const i = inFlight;
          inFlight = undefined;
          finish(i, m.outcome);
          give();
        }
      });
      // A worker that dies (out of memory, a crash in native code) costs the layer it held, not the run.
      const lost = (why: string) => {
        if (!workers.delete(w) || failed) return;
        if (inFlight !== undefined) {
          const i = inFlight;
          const l = layers[i]!;
          inFlight = undefined;
          finish(i, { id: l.id, name: l.name, N: l.N, M: l.M, rf: l.rf, Q: l.Q, num_evals: l.num_evals, ok: false, error: { kind: 'Error', code: 'worker-died', message: `${l.name}: worker thread died (${why})` } });
        }
        if (done === layers.length) maybeDone();
        else if (workers.size === 0) fail(new Error(`analyze pool: every worker thread died; last: ${why}`));
      };
      w.on('error', (e) => lost(e.message));
      w.on('exit', (code) => {
        if (code !== 0) lost(`exit code ${code}`);
        else workers.delete(w);
      });
      w.postMessage({ type: 'init', spec } satisfies ToWorker);
    }
  });
  return outcomes as LayerOutcome[];
}
