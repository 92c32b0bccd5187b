import { UnsupportedError, NotFoundError } from '../base/errors';
import { openModel } from '../formats/registry';
import type { TensorSource } from '../formats/types';
import { getGpuDevice } from '../gpu/device';
import { tensorStats, type FirstPassStats } from '../math/tensor-stats';
import type { Backend, Job, JobKind, JobOf, JobResultMap, ModelRef, WorkerOut } from './job-types';
import { jobLoop, type JobLoopContext } from './job-loop';
import { openSpec } from './open-spec';
import { SharedOpens } from './shared-open';
import { runSpectraJob } from './spectra-job';
import { runQuantizeLayerJob, runQuantizeRdJob } from './quantize-job';
import { runPruneJob } from './prune-job';
import { runPruneExport, runQuantizeExport } from './export-job';
import { runMergeAnalysis, runMergeExport, runMergeWeights } from './merge-job';

/**
 * The worker side of the job protocol (workers/compute.worker.ts only wires it to postMessage).
 * Each worker keeps the models it has opened, by model id, so a tensor read after the first job
 * costs only that tensor's bytes. Runs unchanged in Node, which is how it is unit tested.
 */

export type Post = (msg: WorkerOut, transfer?: Transferable[]) => void;

type JobContext = JobLoopContext;

interface Outcome<K extends keyof JobResultMap> {
  data: JobResultMap[K];
  backend: Backend;
  transfer?: Transferable[];
}

export function createJobRunner(post: Post) {
  const models = new SharedOpens<TensorSource>();

  /** The model's source, opened once per worker and shared by the jobs that need it (see SharedOpens). */
  function getModel(ref: ModelRef, signal: AbortSignal): Promise<TensorSource> {
    return models.get(ref.modelId, signal, async (s) => openModel(await openSpec(ref.spec, s), s));
  }

  async function openModelJob(job: JobOf<'open-model'>, ctx: JobContext): Promise<Outcome<'open-model'>> {
    ctx.progress(0, 1, 'reading header');
    const src = await getModel(job.model, ctx.signal);
    ctx.progress(1, 1);
    return {
      backend: 'cpu',
      data: {
        modelId: job.model.modelId,
        name: src.name,
        format: src.format,
        tensors: src.tensors,
        metadata: src.metadata,
        totalBytes: src.totalBytes,
      },
    };
  }

  async function tensorStatsJob(job: JobOf<'tensor-stats'>, ctx: JobContext): Promise<Outcome<'tensor-stats'>> {
    const src = await getModel(job.model, ctx.signal);
    const info = src.tensors.find((t) => t.name === job.tensor);
    if (!info) throw new NotFoundError('tensor', `${src.name}: no tensor named "${job.tensor}"`);
    if (!info.decodable) throw new UnsupportedError('dtype', `${src.name}: tensor "${info.name}" (${info.dtype}) is listed but not decodable${info.note ? `: ${info.note}` : ''}`);
    ctx.progress(0, 1, 'reading tensor');
    const values = await src.read(info.name, ctx.signal);
    const onProgress = (done: number, total: number, label: string) => ctx.progress(done, total, label);
    const onFirstPass = (first: FirstPassStats) => ctx.partial({ tensor: info.name, ...first });
    let backend: Backend = 'cpu';
    let adapter: string | undefined;
    let stats;
    const gpu = job.forceCpu ? null : await getGpuDevice();
    if (gpu) {
      const { tensorStatsGpu } = await import('../gpu/tensor-stats-gpu');
      stats = await tensorStatsGpu(gpu.device, values, job.bins, { signal: ctx.signal, onProgress, onFirstPass });
      backend = 'webgpu';
      adapter = gpu.description;
    } else {
      stats = await tensorStats(values, job.bins, { signal: ctx.signal, onProgress, onFirstPass });
    }
    return {
      backend,
      data: { ...stats, tensor: info.name, shape: info.shape, dtype: info.dtype, adapter },
      transfer: [stats.histogram.buffer as ArrayBuffer],
    };
  }

  async function spectraJob(job: JobOf<'spectra'>, ctx: JobContext): Promise<Outcome<'spectra'>> {
    const src = await getModel(job.model, ctx.signal);
    return runSpectraJob(src, job.tensors, job.settings, job.forceCpu, { signal: ctx.signal, progress: ctx.progress, partial: ctx.partial }, job.forceGpu);
  }

  async function quantizeLayerJob(job: JobOf<'quantize-layer'>, ctx: JobContext): Promise<Outcome<'quantize-layer'>> {
    const src = await getModel(job.model, ctx.signal);
    return runQuantizeLayerJob(src, job.tensor, job.settings, job.forceCpu, job.forceGpu ?? false, job.summaryOnly ?? false, ctx);
  }

  async function quantizeRdJob(job: JobOf<'quantize-rd'>, ctx: JobContext): Promise<Outcome<'quantize-rd'>> {
    const src = await getModel(job.model, ctx.signal);
    return runQuantizeRdJob(src, job.tensor, job.settings, job.forceCpu, ctx);
  }

  async function pruneJob(job: JobOf<'prune'>, ctx: JobContext): Promise<Outcome<'prune'>> {
    const src = await getModel(job.model, ctx.signal);
    return runPruneJob(src, job, ctx);
  }

  async function exportQuantizedJob(job: JobOf<'export-quantized'>, ctx: JobContext): Promise<Outcome<'export-quantized'>> {
    const src = await getModel(job.model, ctx.signal);
    return runQuantizeExport(src, job.model.spec, job.settings, job.layers, ctx);
  }

  async function exportPrunedJob(job: JobOf<'export-pruned'>, ctx: JobContext): Promise<Outcome<'export-pruned'>> {
    const src = await getModel(job.model, ctx.signal);
    return runPruneExport(src, job.model.spec, job.settings, job.actNorms, ctx);
  }

  async function mergeAnalyzeJob(job: JobOf<'merge-analyze'>, ctx: JobContext): Promise<Outcome<'merge-analyze'>> {
    return runMergeAnalysis((ref) => getModel(ref, ctx.signal), job, ctx);
  }

  async function mergeWeightsJob(job: JobOf<'merge-weights'>, ctx: JobContext): Promise<Outcome<'merge-weights'>> {
    return runMergeWeights((ref) => getModel(ref, ctx.signal), job, ctx);
  }

  async function closeModelJob(job: JobOf<'close-model'>): Promise<Outcome<'close-model'>> {
    return { backend: 'cpu', data: { closed: models.delete(job.modelId) } };
  }

  function run(job: Job, ctx: JobContext): Promise<Outcome<keyof JobResultMap>> {
    switch (job.kind) {
      case 'open-model':
        return openModelJob(job, ctx);
      case 'tensor-stats':
        return tensorStatsJob(job, ctx);
      case 'close-model':
        return closeModelJob(job);
      case 'spectra':
        return spectraJob(job, ctx);
      case 'quantize-layer':
        return quantizeLayerJob(job, ctx);
      case 'quantize-rd':
        return quantizeRdJob(job, ctx);
      case 'prune':
        return pruneJob(job, ctx);
      case 'export-quantized':
        return exportQuantizedJob(job, ctx);
      case 'export-pruned':
        return exportPrunedJob(job, ctx);
      case 'merge-analyze':
        return mergeAnalyzeJob(job, ctx);
      case 'merge-weights':
        return mergeWeightsJob(job, ctx);
      case 'export-merged':
        return runMergeExport((ref) => getModel(ref, ctx.signal), job, ctx);
    }
  }

  const handle = jobLoop<Job, JobResultMap[JobKind]>(post, (job, ctx) => run(job, ctx) as Promise<{ data: JobResultMap[JobKind]; backend: Backend; transfer?: Transferable[] }>);

  return { handle, openModels: () => models.keys() };
}
