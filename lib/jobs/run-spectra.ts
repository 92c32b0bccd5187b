import { CancelledError } from '../base/errors';
import type { Layer } from '../model/layer';
import type { Backend, ModelRef, SpectraLayerResult, SpectraSettings } from './job-types';
import type { WorkerPool } from './worker-pool';

/**
 * Main-thread scheduler of a whole-model spectra run: the layers go largest first into a queue
 * that every worker of the pool drains one layer per job, so the big layers start early and the
 * small ones fill the gaps at the end (no worker idles while another has a long tail). Each
 * finished layer arrives through `onLayer`; progress is weighted by estimated cost, which gives
 * the ETA. Cancelling the signal cancels the jobs in flight and drops the rest of the queue.
 */

export interface SpectraRunProgress {
  done: number;
  total: number;
  /** Estimated work done / total (see layerCost), 0..1. */
  fraction: number;
  elapsedMs: number;
  /** Remaining time extrapolated from the cost done so far; null before the first layer. */
  etaMs: number | null;
  /** Layers being analyzed right now. */
  running: string[];
}

export interface SpectraRunOptions {
  signal?: AbortSignal;
  onLayer(result: SpectraLayerResult): void;
  /** A layer whose job failed (unreadable tensor, worker crash); the run goes on with the others. */
  onLayerError?(tensor: string, error: unknown): void;
  onProgress?(p: SpectraRunProgress): void;
  /** WebGPU even on a software adapter (see spectra-job.ts). */
  forceGpu?: boolean;
}

/**
 * Relative cost of a layer: Gram (N·M² per slice), eigensolve (~M³ per slice), plus the FARMS
 * windows (a fixed number of small eigensolves, counted as one M³).
 */
export function layerCost(layer: Pick<Layer, 'N' | 'M' | 'rf'>): number {
  const m = layer.M;
  return layer.rf * m * m * (layer.N + m) + m * m * m + 1e5;
}

export async function runSpectra(
  pool: WorkerPool,
  model: ModelRef,
  layers: readonly Layer[],
  settings: SpectraSettings,
  forceCpu: boolean,
  opts: SpectraRunOptions,
): Promise<{ backend: Backend; ms: number }> {
  const t0 = performance.now();
  const queue = [...layers].sort((a, b) => layerCost(b) - layerCost(a) || a.id - b.id);
  const costTotal = queue.reduce((p, l) => p + layerCost(l), 0) || 1;
  let costDone = 0;
  let done = 0;
  const running = new Set<string>();
  let backend: Backend = 'cpu';
  const report = () => {
    const elapsedMs = performance.now() - t0;
    const fraction = costDone / costTotal;
    opts.onProgress?.({
      done,
      total: layers.length,
      fraction,
      elapsedMs,
      etaMs: done > 0 && fraction > 0 ? (elapsedMs / fraction) * (1 - fraction) : null,
      running: [...running],
    });
  };
  const lane = async () => {
    for (let layer = queue.shift(); layer; layer = queue.shift()) {
      if (opts.signal?.aborted) return;
      running.add(layer.name);
      report();
      try {
        const reply = await pool.run(
          { kind: 'spectra', model, tensors: [layer.tensor.name], settings, forceCpu, forceGpu: opts.forceGpu ?? false },
          {
            signal: opts.signal,
            onPartial: (d) => {
              const r = d as SpectraLayerResult;
              if (r.backend === 'webgpu') backend = 'webgpu';
              opts.onLayer(r);
            },
          },
        );
        if (reply.backend === 'webgpu') backend = 'webgpu';
      } catch (e) {
        if (e instanceof CancelledError || opts.signal?.aborted) throw e;
        opts.onLayerError?.(layer.tensor.name, e);
      }
      running.delete(layer.name);
      costDone += layerCost(layer);
      done++;
      report();
    }
  };
  report();
  const lanes = Math.max(1, Math.min(pool.size, layers.length));
  await Promise.all(Array.from({ length: lanes }, lane));
  return { backend, ms: performance.now() - t0 };
}
