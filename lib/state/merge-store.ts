import { create } from 'zustand';
import { toErrorInfo, type ErrorInfo } from '../base/errors';
import { getComputePool } from '../jobs/compute-client';
import type { MergeAnalysis, MergeJobSpec } from '../jobs/job-types';

/** The Merge view's weight-space analysis: one job per settings change, late answers dropped. */
export interface MergeAnalysisState {
  key: string;
  status: 'running' | 'done' | 'cancelled' | 'error';
  result: MergeAnalysis | null;
  progress: number;
  label: string;
  error: ErrorInfo | null;
}

interface MergeState {
  analysis: MergeAnalysisState | null;
  cache: Record<string, MergeAnalysis>;
  analyze(spec: MergeJobSpec): void;
  cancel(): void;
}

export function mergeKey(s: MergeJobSpec): string {
  return JSON.stringify([s.a.modelId, s.b.modelId, s.base?.modelId ?? null, s.method, s.points, s.match, s.spec, s.seed]);
}

let ctrl: AbortController | null = null;
let token = 0;

export const useMerge = create<MergeState>((set, get) => ({
  analysis: null,
  cache: {},
  analyze(spec) {
    const key = mergeKey(spec);
    if (get().analysis?.key === key && get().analysis?.status === 'running') return;
    ctrl?.abort();
    const cached = get().cache[key];
    if (cached) {
      set({ analysis: { key, status: 'done', result: cached, progress: 1, label: '', error: null } });
      return;
    }
    const c = new AbortController();
    ctrl = c;
    const mine = ++token;
    const live = () => mine === token;
    set((s) => ({ analysis: { key, status: 'running', result: s.analysis?.result ?? null, progress: 0, label: 'starting', error: null } }));
    getComputePool()
      .run(
        { kind: 'merge-analyze', model: spec.a, ...spec },
        { signal: c.signal, onProgress: (p) => live() && set((s) => (s.analysis ? { analysis: { ...s.analysis, progress: p.total ? p.done / p.total : 0, label: p.label ?? '' } } : s)) },
      )
      .then((reply) => {
        if (!live()) return;
        const result = reply.data as MergeAnalysis;
        set((s) => ({ analysis: { key, status: 'done', result, progress: 1, label: '', error: null }, cache: { ...s.cache, [key]: result } }));
      })
      .catch((e) => {
        if (!live()) return;
        const info = toErrorInfo(e);
        set((s) => ({ analysis: { key, status: info.kind === 'CancelledError' ? 'cancelled' : 'error', result: s.analysis?.result ?? null, progress: 0, label: '', error: info.kind === 'CancelledError' ? null : info } }));
      });
  },
  cancel() {
    ctrl?.abort();
  },
}));
