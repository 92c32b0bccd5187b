import { create } from 'zustand';
import { toErrorInfo, type ErrorInfo } from '../base/errors';
import { getComputePool } from '../jobs/compute-client';
import type { Backend, ModelRef, TensorStatsPartial, TensorStatsResult } from '../jobs/job-types';
import type { Progress } from '../jobs/worker-pool';
import { DEFAULT_HISTOGRAM_BINS } from '../math/tensor-stats';

/**
 * The selected tensor's statistics, as `{ requestId, status, result }`: a reply applies only when
 * its request is still the latest, so clicking through tensors quickly never shows a stale one.
 * A new request cancels the previous job in its worker.
 */

export type RequestStatus = 'idle' | 'running' | 'done' | 'error';

export interface StatsRequest {
  requestId: number;
  modelId: string | null;
  tensor: string | null;
  forceCpu: boolean;
  status: RequestStatus;
  result?: TensorStatsResult;
  /** First-pass numbers while the job still runs. */
  partial?: TensorStatsPartial;
  backend?: Backend;
  error?: ErrorInfo;
  progress?: Progress;
}

export interface StatsState extends StatsRequest {
  request(model: ModelRef, tensor: string, forceCpu: boolean): Promise<void>;
  clear(): void;
}

let controller: AbortController | null = null;

const IDLE: StatsRequest = { requestId: 0, modelId: null, tensor: null, forceCpu: false, status: 'idle' };

export const useStats = create<StatsState>((set, get) => ({
  ...IDLE,
  async request(model, tensor, forceCpu) {
    controller?.abort();
    const ctrl = new AbortController();
    controller = ctrl;
    const requestId = get().requestId + 1;
    set({ requestId, modelId: model.modelId, tensor, forceCpu, status: 'running', result: undefined, partial: undefined, error: undefined, progress: undefined, backend: undefined });
    const latest = () => get().requestId === requestId;
    try {
      const reply = await getComputePool().run(
        { kind: 'tensor-stats', model, tensor, bins: DEFAULT_HISTOGRAM_BINS, forceCpu },
        {
          signal: ctrl.signal,
          onProgress: (p) => latest() && set({ progress: p }),
          onPartial: (d) => latest() && set({ partial: d as TensorStatsPartial }),
        },
      );
      if (latest()) set({ status: 'done', result: reply.data, backend: reply.backend });
    } catch (e) {
      const info = toErrorInfo(e);
      if (latest() && info.kind !== 'CancelledError') set({ status: 'error', error: info });
    }
  },
  clear() {
    controller?.abort();
    set({ ...IDLE, requestId: get().requestId + 1 });
  },
}));
