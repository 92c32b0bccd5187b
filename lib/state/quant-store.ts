import { create } from 'zustand';
import { toErrorInfo, type ErrorInfo } from '../base/errors';
import { getComputePool } from '../jobs/compute-client';
import type { ModelRef, QuantLayerResult, QuantLayerSummary, QuantRdResult, QuantSettings, RdPoint } from '../jobs/job-types';
import type { Layer } from '../model/layer';
import { quantSettingsKey } from './quant-settings';
import { readStored, writeStored } from './result-cache';
import { countJob, storedModelOf } from './stored-results';

/**
 * The Quantize view's work: the preview of one layer (re-run whenever a setting changes, the job in
 * flight cancelled and any late answer dropped by its token), the rate–distortion sweep of a layer,
 * and the whole-model sweep (every layer's metrics, spread over the worker pool). Finished previews
 * are kept per (model, layer, settings), so stepping back to an earlier setting is instant.
 *
 * Previews and finished whole-model sweeps are also kept in this browser's stored results
 * (result-cache.ts, keyed by the model's content identity and the settings): a preview not in
 * memory is looked up there before any job runs, and a reload shows the last sweep for the same
 * settings (restoreSweep). Only finished results are stored: never a cancelled or failed preview,
 * nor a sweep that was cancelled or had a failed layer.
 */

/** Where a shown result came from: computed in this page, or restored from this browser's storage. */
export type ResultSource = 'computed' | 'stored';

export type TaskStatus = 'running' | 'done' | 'cancelled' | 'error';

export interface PreviewState {
  key: string;
  status: TaskStatus;
  result: QuantLayerResult | null;
  progress: number;
  label: string;
  error: ErrorInfo | null;
  source?: ResultSource;
}

export interface RdState {
  key: string;
  status: TaskStatus;
  points: RdPoint[];
  result: QuantRdResult | null;
  progress: { done: number; total: number; label: string };
  error: ErrorInfo | null;
}

export interface SweepState {
  key: string;
  status: TaskStatus;
  layers: Record<string, QuantLayerSummary>;
  errors: Record<string, ErrorInfo>;
  total: number;
  done: number;
  startedAt: number;
  ms: number | null;
  source?: ResultSource;
}

interface QuantState {
  preview: PreviewState | null;
  previews: Record<string, QuantLayerResult>;
  rd: Record<string, RdState>;
  sweep: Record<string, SweepState>;
  runPreview(model: ModelRef, tensor: string, settings: QuantSettings, forceCpu: boolean, forceGpu: boolean): void;
  cancelPreview(): void;
  runRd(model: ModelRef, tensor: string, settings: QuantSettings, forceCpu: boolean): void;
  cancelRd(): void;
  runSweep(model: ModelRef, layers: readonly Layer[], settings: QuantSettings, forceCpu: boolean): void;
  cancelSweep(): void;
  /** Shows the sweep stored for this model and these settings, if any and if none is in memory. */
  restoreSweep(model: ModelRef, settings: QuantSettings, forceCpu: boolean): void;
}

export function previewKey(modelId: string, tensor: string, s: QuantSettings, forceCpu: boolean, forceGpu: boolean): string {
  return [modelId, tensor, quantSettingsKey(s), forceCpu ? 'cpu' : forceGpu ? 'gpu' : 'auto'].join('|');
}
export function rdKey(modelId: string, tensor: string, s: QuantSettings): string {
  return [modelId, tensor, s.seed, s.codebookBits].join('|');
}
export function sweepKey(modelId: string, s: QuantSettings): string {
  return [modelId, quantSettingsKey(s)].join('|');
}

/** The stored-results settings keys (the in-memory keys without the per page load model id). */
function storedPreviewSettings(s: QuantSettings, forceCpu: boolean, forceGpu: boolean): string {
  return [quantSettingsKey(s), forceCpu ? 'cpu' : forceGpu ? 'gpu' : 'auto'].join('|');
}
function storedSweepSettings(s: QuantSettings, forceCpu: boolean): string {
  return [quantSettingsKey(s), forceCpu ? 'cpu' : 'auto'].join('|');
}

/** Previews that came from storage (so the in-memory cache can say so when it shows them again). */
const restoredPreviews = new WeakSet<QuantLayerResult>();

let previewCtrl: AbortController | null = null;
let previewToken = 0;
let rdCtrl: AbortController | null = null;
let sweepCtrl: AbortController | null = null;

export const useQuant = create<QuantState>((set, get) => ({
  preview: null,
  previews: {},
  rd: {},
  sweep: {},

  runPreview(model, tensor, settings, forceCpu, forceGpu) {
    const key = previewKey(model.modelId, tensor, settings, forceCpu, forceGpu);
    if (get().preview?.key === key && get().preview?.status === 'running') return;
    previewCtrl?.abort();
    const cached = get().previews[key];
    if (cached) {
      set({ preview: { key, status: 'done', result: cached, progress: 1, label: '', error: null, source: restoredPreviews.has(cached) ? 'stored' : 'computed' } });
      return;
    }
    const ctrl = new AbortController();
    previewCtrl = ctrl;
    const token = ++previewToken;
    // The previous result stays on screen (dimmed) until the new one arrives.
    set((s) => ({ preview: { key, status: 'running', result: s.preview?.result ?? null, progress: 0, label: 'starting', error: null } }));
    const live = () => token === previewToken;
    const addr = { kind: 'quant-preview' as const, settings: storedPreviewSettings(settings, forceCpu, forceGpu), part: tensor };
    const compute = () => {
      countJob('quantize-layer');
      getComputePool()
        .run(
          { kind: 'quantize-layer', model, tensor, settings, forceCpu, forceGpu },
          {
            signal: ctrl.signal,
            onProgress: (p) => {
              if (live()) set((s) => (s.preview ? { preview: { ...s.preview, progress: p.total ? p.done / p.total : 0, label: p.label ?? '' } } : s));
            },
          },
        )
        .then((reply) => {
          const result = reply.data as QuantLayerResult;
          void storedModelOf(model).then((m) => m && writeStored([{ addr: { ...addr, model: m.id }, value: result }], m.label));
          if (!live()) return; // stale: the settings moved on
          set((s) => ({ preview: { key, status: 'done', result, progress: 1, label: '', error: null, source: 'computed' }, previews: { ...s.previews, [key]: result } }));
        })
        .catch((e) => {
          if (!live()) return;
          const info = toErrorInfo(e);
          set((s) => ({ preview: { key, status: info.kind === 'CancelledError' ? 'cancelled' : 'error', result: s.preview?.result ?? null, progress: 0, label: '', error: info.kind === 'CancelledError' ? null : info } }));
        });
    };
    void storedModelOf(model)
      .then((m) => (m ? readStored({ ...addr, model: m.id }) : null))
      .catch(() => null)
      .then((stored) => {
        if (!live()) return; // the settings moved on
        if (ctrl.signal.aborted) {
          set((s) => ({ preview: { key, status: 'cancelled', result: s.preview?.result ?? null, progress: 0, label: '', error: null } }));
        } else if (stored) {
          restoredPreviews.add(stored);
          set((s) => ({ preview: { key, status: 'done', result: stored, progress: 1, label: '', error: null, source: 'stored' }, previews: { ...s.previews, [key]: stored } }));
        } else compute();
      });
  },
  cancelPreview() {
    previewCtrl?.abort();
  },

  runRd(model, tensor, settings, forceCpu) {
    const key = rdKey(model.modelId, tensor, settings);
    const old = get().rd[key];
    if (old && (old.status === 'done' || old.status === 'running')) return;
    rdCtrl?.abort();
    const ctrl = new AbortController();
    rdCtrl = ctrl;
    const patch = (p: Partial<RdState> | ((r: RdState) => Partial<RdState>)) =>
      set((s) => {
        const r = s.rd[key];
        return r ? { rd: { ...s.rd, [key]: { ...r, ...(typeof p === 'function' ? p(r) : p) } } } : s;
      });
    set((s) => ({ rd: { ...s.rd, [key]: { key, status: 'running', points: [], result: null, progress: { done: 0, total: 1, label: '' }, error: null } } }));
    getComputePool()
      .run(
        { kind: 'quantize-rd', model, tensor, settings, forceCpu },
        {
          signal: ctrl.signal,
          onPartial: (d) => patch((r) => ({ points: [...r.points, d as RdPoint] })),
          onProgress: (p) => patch({ progress: { done: p.done, total: p.total, label: p.label ?? '' } }),
        },
      )
      .then((reply) => patch({ status: 'done', result: reply.data as QuantRdResult, points: (reply.data as QuantRdResult).points }))
      .catch((e) => {
        const info = toErrorInfo(e);
        patch(info.kind === 'CancelledError' ? { status: 'cancelled' } : { status: 'error', error: info });
      });
  },
  cancelRd() {
    rdCtrl?.abort();
  },

  runSweep(model, layers, settings, forceCpu) {
    const key = sweepKey(model.modelId, settings);
    const old = get().sweep[key];
    if (old?.status === 'running') return;
    // A finished sweep answers when it covers the layers asked for (a wider filter continues it).
    if (old?.status === 'done' && layers.every((l) => old.layers[l.tensor.name])) return;
    sweepCtrl?.abort();
    const ctrl = new AbortController();
    sweepCtrl = ctrl;
    const missing = layers.filter((l) => !old?.layers[l.tensor.name]);
    const patch = (p: (r: SweepState) => Partial<SweepState>) =>
      set((s) => {
        const r = s.sweep[key];
        return r ? { sweep: { ...s.sweep, [key]: { ...r, ...p(r) } } } : s;
      });
    set((s) => ({
      sweep: { ...s.sweep, [key]: { key, status: 'running', layers: old?.layers ?? {}, errors: {}, total: layers.length, done: layers.length - missing.length, startedAt: performance.now(), ms: null, source: 'computed' } },
    }));
    const pool = getComputePool();
    // Largest first, so the long layers start early and small ones fill the gaps.
    const queue = [...missing].sort((a, b) => b.N * b.M * b.rf - a.N * a.M * a.rf);
    const lane = async () => {
      for (let l = queue.shift(); l; l = queue.shift()) {
        if (ctrl.signal.aborted) return;
        const layer = l;
        try {
          countJob('quantize-sweep-layer');
          const reply = await pool.run({ kind: 'quantize-layer', model, tensor: layer.tensor.name, settings, forceCpu, summaryOnly: true }, { signal: ctrl.signal });
          patch((r) => ({ layers: { ...r.layers, [layer.tensor.name]: reply.data as QuantLayerSummary }, done: r.done + 1 }));
        } catch (e) {
          if (ctrl.signal.aborted) return;
          patch((r) => ({ errors: { ...r.errors, [layer.tensor.name]: toErrorInfo(e) }, done: r.done + 1 }));
        }
      }
    };
    const t0 = performance.now();
    void Promise.all(Array.from({ length: Math.max(1, Math.min(pool.size, queue.length)) }, lane)).then(() => {
      patch(() => (ctrl.signal.aborted ? { status: 'cancelled' } : { status: 'done', ms: performance.now() - t0 }));
      const r = get().sweep[key];
      if (r?.status !== 'done' || Object.keys(r.errors).length > 0 || missing.length === 0) return;
      void storedModelOf(model).then(
        (m) => m && writeStored([{ addr: { model: m.id, kind: 'quant-sweep', settings: storedSweepSettings(settings, forceCpu), part: '' }, value: { layers: r.layers } }], m.label),
      );
    });
  },
  cancelSweep() {
    sweepCtrl?.abort();
  },
  restoreSweep(model, settings, forceCpu) {
    const key = sweepKey(model.modelId, settings);
    if (get().sweep[key]) return;
    void storedModelOf(model)
      .then((m) => (m ? readStored({ model: m.id, kind: 'quant-sweep', settings: storedSweepSettings(settings, forceCpu), part: '' }) : null))
      .catch(() => null)
      .then((stored) => {
        if (!stored || get().sweep[key]) return;
        const n = Object.keys(stored.layers).length;
        set((s) => ({ sweep: { ...s.sweep, [key]: { key, status: 'done', layers: stored.layers, errors: {}, total: n, done: n, startedAt: performance.now(), ms: null, source: 'stored' } } }));
      });
  },
}));
