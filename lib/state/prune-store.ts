import { create } from 'zustand';
import { toErrorInfo, type ErrorInfo } from '../base/errors';
import { getComputePool } from '../jobs/compute-client';
import type { ModelRef, PruneAllocation, PruneJobResult, PruneMethod, PruneSettings } from '../jobs/job-types';
import { pruneSettingsKey } from './prune-settings';

/**
 * The Prune view's masks: one `prune` job per settings change (the one in flight cancelled, late
 * answers dropped by token), finished answers kept per (model, layer, settings, comparison) so
 * going back to a sparsity is instant.
 */

export type PruneStatus = 'running' | 'done' | 'cancelled' | 'error';

export interface PrunePreview {
  key: string;
  status: PruneStatus;
  result: PruneJobResult | null;
  progress: number;
  label: string;
  error: ErrorInfo | null;
}

interface PruneState {
  preview: PrunePreview | null;
  cache: Record<string, PruneJobResult>;
  run(model: ModelRef, settings: PruneSettings, detail: string | null, compare: { method: PruneMethod; allocation: PruneAllocation } | null, actNorms?: Record<string, Float32Array>): void;
  cancel(): void;
}

export function pruneKey(modelId: string, s: PruneSettings, detail: string | null, compare: { method: PruneMethod; allocation: PruneAllocation } | null, wanda: boolean): string {
  return [modelId, pruneSettingsKey(s), detail ?? '', compare ? `${compare.method}/${compare.allocation}` : '', wanda ? 'act' : ''].join('#');
}

let ctrl: AbortController | null = null;
let token = 0;

export const usePrune = create<PruneState>((set, get) => ({
  preview: null,
  cache: {},
  run(model, settings, detail, compare, actNorms) {
    const key = pruneKey(model.modelId, settings, detail, compare, Boolean(actNorms));
    if (get().preview?.key === key && get().preview?.status === 'running') return;
    ctrl?.abort();
    const cached = get().cache[key];
    if (cached) {
      set({ preview: { key, status: 'done', result: cached, progress: 1, label: '', error: null } });
      return;
    }
    const c = new AbortController();
    ctrl = c;
    const mine = ++token;
    const live = () => mine === token;
    set((s) => ({ preview: { key, status: 'running', result: s.preview?.result ?? null, progress: 0, label: 'starting', error: null } }));
    getComputePool()
      .run(
        { kind: 'prune', model, settings, detail, compare, ...(actNorms ? { actNorms } : {}) },
        {
          signal: c.signal,
          onProgress: (p) => {
            if (live()) set((s) => (s.preview ? { preview: { ...s.preview, progress: p.total ? p.done / p.total : 0, label: p.label ?? '' } } : s));
          },
        },
      )
      .then((reply) => {
        if (!live()) return;
        const result = reply.data as PruneJobResult;
        set((s) => ({ preview: { key, status: 'done', result, progress: 1, label: '', error: null }, cache: { ...s.cache, [key]: result } }));
      })
      .catch((e) => {
        if (!live()) return;
        const info = toErrorInfo(e);
        set((s) => ({ preview: { key, status: info.kind === 'CancelledError' ? 'cancelled' : 'error', result: s.preview?.result ?? null, progress: 0, label: '', error: info.kind === 'CancelledError' ? null : info } }));
      });
  },
  cancel() {
    ctrl?.abort();
  },
}));
