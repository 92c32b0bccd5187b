import { CancelledError, fromErrorInfo } from '../base/errors';
import type { Backend, Job, JobKind, JobOf, JobResultMap, WorkerIn, WorkerOut } from './job-types';

/**
 * Main-thread client of the compute workers: a small pool, typed jobs returning promises,
 * progress callbacks and cancellation through an AbortSignal. Any worker can serve any model
 * (it opens the model from the job's ModelRef on first use); the pool prefers a worker that has
 * already opened it, unless that one is busy and another is idle.
 */

/** What the pool needs of a Worker; a real Worker satisfies it (and so does an in-process shim in tests). */
export interface WorkerLike {
  postMessage(msg: WorkerIn, transfer?: Transferable[]): void;
  addEventListener(type: 'message', fn: (ev: MessageEvent<WorkerOut>) => void): void;
  addEventListener(type: 'error', fn: (ev: ErrorEvent) => void): void;
  terminate(): void;
}

export interface Progress {
  done: number;
  total: number;
  label?: string;
}

export interface RunOptions {
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  onPartial?: (data: unknown) => void;
}

export interface JobReply<K extends JobKind> {
  data: JobResultMap[K];
  backend: Backend;
}

interface Pending {
  slot: Slot;
  resolve(v: JobReply<JobKind>): void;
  reject(e: unknown): void;
  opts: RunOptions;
  cleanup(): void;
}

interface Slot {
  index: number;
  worker: WorkerLike;
  active: number;
  models: Set<string>;
}

export const MAX_POOL_SIZE = 4;

export function defaultPoolSize(): number {
  const hc = typeof navigator !== 'undefined' ? navigator.hardwareConcurrency : 1;
  return Math.max(1, Math.min(MAX_POOL_SIZE, Number.isFinite(hc) && hc > 0 ? hc : 1));
}

function modelIdOf(job: Job): string | undefined {
  return job.kind === 'close-model' ? job.modelId : job.model.modelId;
}

export class WorkerPool {
  private readonly slots: (Slot | undefined)[];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(
    private readonly factory: () => WorkerLike,
    readonly size = defaultPoolSize(),
  ) {
    this.slots = new Array<Slot | undefined>(Math.max(1, size)).fill(undefined);
  }

  /** Workers start lazily, so a page that never analyses anything never pays for them. */
  private slot(i: number): Slot {
    let s = this.slots[i];
    if (!s) {
      const worker = this.factory();
      const slot: Slot = { index: i, worker, active: 0, models: new Set() };
      worker.addEventListener('message', (ev: MessageEvent<WorkerOut>) => this.onMessage(ev.data));
      worker.addEventListener('error', (ev: ErrorEvent) => this.onWorkerError(slot, ev));
      this.slots[i] = s = slot;
    }
    return s;
  }

  private pick(job: Job): Slot {
    const all = this.slots.map((_, i) => this.slots[i]);
    const started = all.filter((s): s is Slot => s !== undefined);
    const idleUnstarted = all.findIndex((s) => s === undefined);
    const id = modelIdOf(job);
    const least = (xs: Slot[]) => xs.reduce<Slot | undefined>((a, b) => (a === undefined || b.active < a.active ? b : a), undefined);
    const holders = id ? started.filter((s) => s.models.has(id)) : [];
    const bestHolder = least(holders);
    if (bestHolder && bestHolder.active === 0) return bestHolder;
    const idle = started.find((s) => s.active === 0);
    if (idle) return idle;
    if (idleUnstarted >= 0) return this.slot(idleUnstarted);
    return bestHolder ?? least(started) ?? this.slot(0);
  }

  run<K extends JobKind>(job: JobOf<K>, opts: RunOptions = {}): Promise<JobReply<K>> {
    if (opts.signal?.aborted) return Promise.reject(new CancelledError());
    const slot = this.pick(job);
    return this.runOn(slot, job, opts);
  }

  private runOn<K extends JobKind>(slot: Slot, job: JobOf<K>, opts: RunOptions): Promise<JobReply<K>> {
    const id = this.nextId++;
    return new Promise<JobReply<K>>((resolve, reject) => {
      const onAbort = () => {
        slot.worker.postMessage({ type: 'cancel', id });
        this.finish(id);
        reject(new CancelledError());
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        slot,
        resolve: resolve as (v: JobReply<JobKind>) => void,
        reject,
        opts,
        cleanup: () => opts.signal?.removeEventListener('abort', onAbort),
      });
      slot.active++;
      const mid = modelIdOf(job);
      if (mid && job.kind !== 'close-model') slot.models.add(mid);
      slot.worker.postMessage({ type: 'run', id, job });
    });
  }

  /** Tells every worker that opened the model to drop it. */
  async closeModel(modelId: string): Promise<void> {
    const holders = this.slots.filter((s): s is Slot => s !== undefined && s.models.has(modelId));
    for (const s of holders) s.models.delete(modelId);
    await Promise.all(holders.map((s) => this.runOn(s, { kind: 'close-model', modelId }, {}).catch(() => undefined)));
  }

  private finish(id: number): Pending | undefined {
    const p = this.pending.get(id);
    if (!p) return undefined;
    this.pending.delete(id);
    p.slot.active--;
    p.cleanup();
    return p;
  }

  private onMessage(msg: WorkerOut): void {
    const p = this.pending.get(msg.id);
    if (!p) return; // cancelled or already settled: a late reply is dropped
    switch (msg.type) {
      case 'progress':
        p.opts.onProgress?.({ done: msg.done, total: msg.total, label: msg.label });
        break;
      case 'partial':
        p.opts.onPartial?.(msg.data);
        break;
      case 'result':
        this.finish(msg.id);
        p.resolve({ data: msg.data, backend: msg.backend });
        break;
      case 'error':
        this.finish(msg.id);
        p.reject(fromErrorInfo(msg.error));
        break;
    }
  }

  /** A worker that failed to load or crashed: fail its jobs and replace it on next use. */
  private onWorkerError(slot: Slot, ev: ErrorEvent): void {
    for (const [id, p] of this.pending) {
      if (p.slot !== slot) continue;
      this.finish(id);
      p.reject(new Error(`compute worker failed: ${ev.message || 'script error'}`));
    }
    slot.worker.terminate();
    if (this.slots[slot.index] === slot) this.slots[slot.index] = undefined;
  }

  terminate(): void {
    for (const [id, p] of this.pending) {
      this.finish(id);
      p.reject(new CancelledError('worker pool terminated'));
    }
    for (const s of this.slots) s?.worker.terminate();
    this.slots.fill(undefined);
  }
}
