import { create } from 'zustand';
import { toErrorInfo, type ErrorInfo } from '../base/errors';
import { getComputePool } from '../jobs/compute-client';
import type { MergeAnalysis, MergeJobSpec } from '../jobs/job-types';
import { readStored, writeStored } from './result-cache';
import { countJob, storedModelOf } from './stored-results';

/**
 * The Merge view's weight-space analysis: one job per settings change, late answers dropped.
 * Finished analyses are also kept in this browser's stored results, keyed by the content
 * identities of the models involved and the settings, and looked up before a job runs.
 */
export interface MergeAnalysisState {
  key: string;
  status: 'running' | 'done' | 'cancelled' | 'error';
  result: MergeAnalysis | null;
  progress: number;
  label: string;
  error: ErrorInfo | null;
  source?: 'computed' | 'stored';
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

/** Where a merge analysis is stored: the models' content identities joined by '+', and the settings. */
async function storedAddress(spec: MergeJobSpec) {
  const [a, b, base] = await Promise.all([storedModelOf(spec.a), storedModelOf(spec.b), spec.base ? storedModelOf(spec.base) : null]);
  if (!a || !b || (spec.base && !base)) return null;
  return {
    addr: { model: [a.id, b.id, base?.id ?? '-'].join('+'), kind: 'merge' as const, settings: JSON.stringify([spec.method, spec.points, spec.match, spec.spec, spec.seed]), part: '' },
    label: [a.label, b.label, base?.label].filter(Boolean).join(' + '),
  };
}

const restored = new WeakSet<MergeAnalysis>();

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
      set({ analysis: { key, status: 'done', result: cached, progress: 1, label: '', error: null, source: restored.has(cached) ? 'stored' : 'computed' } });
      return;
    }
    const c = new AbortController();
    ctrl = c;
    const mine = ++token;
    const live = () => mine === token;
    set((s) => ({ analysis: { key, status: 'running', result: s.analysis?.result ?? null, progress: 0, label: 'starting', error: null } }));
    const where = storedAddress(spec).catch(() => null);
    const compute = () => {
      countJob('merge-analyze');
      getComputePool()
        .run(
          { kind: 'merge-analyze', model: spec.a, ...spec },
          { signal: c.signal, onProgress: (p) => live() && set((s) => (s.analysis ? { analysis: { ...s.analysis, progress: p.total ? p.done / p.total : 0, label: p.label ?? '' } } : s)) },
        )
        .then((reply) => {
          if (!live()) return;
          const result = reply.data as MergeAnalysis;
          void where.then((w) => w && writeStored([{ addr: w.addr, value: result }], w.label));
          set((s) => ({ analysis: { key, status: 'done', result, progress: 1, label: '', error: null, source: 'computed' }, cache: { ...s.cache, [key]: result } }));
        })
        .catch((e) => {
          if (!live()) return;
          const info = toErrorInfo(e);
          set((s) => ({ analysis: { key, status: info.kind === 'CancelledError' ? 'cancelled' : 'error', result: s.analysis?.result ?? null, progress: 0, label: '', error: info.kind === 'CancelledError' ? null : info } }));
        });
    };
    void where
      .then((w) => (w ? readStored(w.addr) : null))
      .catch(() => null)
      .then((stored) => {
        if (!live()) return;
        if (c.signal.aborted) {
          set((s) => ({ analysis: { key, status: 'cancelled', result: s.analysis?.result ?? null, progress: 0, label: '', error: null } }));
        } else if (stored) {
          restored.add(stored);
          set((s) => ({ analysis: { key, status: 'done', result: stored, progress: 1, label: '', error: null, source: 'stored' }, cache: { ...s.cache, [key]: stored } }));
        } else compute();
      });
  },
  cancel() {
    ctrl?.abort();
  },
}));
