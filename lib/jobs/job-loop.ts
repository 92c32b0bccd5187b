import { CancelledError, toErrorInfo, type ErrorInfo } from '../base/errors';
import type { Backend } from './job-types';

/** What a job sees of the loop: its cancel signal and the two ways to report before its result. */
export interface JobLoopContext {
  signal: AbortSignal;
  progress(done: number, total: number, label?: string): void;
  partial(data: unknown, transfer?: Transferable[]): void;
}

export type LoopIn<J> = { type: 'run'; id: number; job: J } | { type: 'cancel'; id: number };

export type LoopOut<R> =
  | { type: 'progress'; id: number; done: number; total: number; label?: string }
  | { type: 'partial'; id: number; data: unknown }
  | { type: 'result'; id: number; data: R; backend: Backend }
  | { type: 'error'; id: number; error: ErrorInfo };

/**
 * A worker's message loop, shared by the compute and the inference workers: `run` starts a job
 * with its own AbortController, `cancel` aborts it, and the job's progress, partials, result or
 * error go back tagged with its id. A job that finishes after it was cancelled answers
 * CancelledError, never a result.
 */
export function jobLoop<J, R>(
  post: (msg: LoopOut<R>, transfer?: Transferable[]) => void,
  run: (job: J, ctx: JobLoopContext) => Promise<{ data: R; backend: Backend; transfer?: Transferable[] }>,
): (msg: LoopIn<J>) => Promise<void> {
  const running = new Map<number, AbortController>();
  return async function handle(msg) {
    if (msg.type === 'cancel') {
      running.get(msg.id)?.abort();
      return;
    }
    const { id, job } = msg;
    const ctrl = new AbortController();
    running.set(id, ctrl);
    const ctx: JobLoopContext = {
      signal: ctrl.signal,
      progress: (done, total, label) => post({ type: 'progress', id, done, total, label }),
      partial: (data, transfer) => post({ type: 'partial', id, data }, transfer),
    };
    try {
      const out = await run(job, ctx);
      if (ctrl.signal.aborted) throw new CancelledError();
      post({ type: 'result', id, data: out.data, backend: out.backend }, out.transfer);
    } catch (e) {
      post({ type: 'error', id, error: toErrorInfo(e) });
    } finally {
      running.delete(id);
    }
  };
}
