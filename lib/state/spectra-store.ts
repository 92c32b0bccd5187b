import { create } from 'zustand';
import { toErrorInfo, type ErrorInfo } from '../base/errors';
import { getComputePool } from '../jobs/compute-client';
import type { Backend, ModelRef, SpectraLayerResult, SpectraSettings } from '../jobs/job-types';
import { runSpectra, type SpectraRunProgress } from '../jobs/run-spectra';
import type { Layer } from '../model/layer';
import { useModels } from './models-store';
import { readStoredParts, writeStored } from './result-cache';
import { spectraRunKey } from './spectra-settings';
import { countJob, storedModelOf } from './stored-results';

/**
 * Whole-model spectra runs, cached per (model, settings, backend choice): going back to a layer,
 * to the page, or to earlier settings shows the stored results at once. One run is live at a
 * time; starting another (new settings) stops it, keeping what it finished, and starting it again
 * analyzes only the layers still missing. Worker replies are applied in batches, once per
 * animation frame and at most every FLUSH_INTERVAL_MS, so a burst of small layers costs one render, not one each.
 *
 * A run not in memory first looks in this browser's stored results (result-cache.ts, keyed by the
 * model's content identity and the settings): layers found there are shown at once and only the
 * others are computed. When a run finishes, the layers it computed are stored; a cancelled or
 * failed run stores nothing, and failed layers are never stored.
 */

export type SpectraRunStatus = 'running' | 'done' | 'cancelled' | 'error';

export interface SpectraRun {
  key: string;
  modelId: string;
  settings: SpectraSettings;
  forceCpu: boolean;
  status: SpectraRunStatus;
  /** By tensor name. */
  results: Record<string, SpectraLayerResult>;
  errors: Record<string, ErrorInfo>;
  /** Layers the run covers (tensor names). */
  tensors: string[];
  progress: SpectraRunProgress | null;
  backend: Backend | null;
  /** Adapter or reason shown with the backend badge. */
  backendNote: string | null;
  /** performance.now() when the (latest) start happened, and the first layer's arrival. */
  startedAt: number;
  firstLayerMs: number | null;
  ms: number | null;
  error?: ErrorInfo;
  /** Layers (tensor names) shown from this browser's stored results rather than computed now. */
  restored: string[];
}

export interface SpectraState {
  runs: Record<string, SpectraRun>;
  liveKey: string | null;
  start(model: ModelRef, layers: readonly Layer[], settings: SpectraSettings, forceCpu: boolean, forceGpu?: boolean): string;
  cancel(): void;
  /** Forgets a model's runs (closed model). */
  forget(modelId: string): void;
}

let controller: AbortController | null = null;

/** Layer results already in storage (restored, or written): not written again. */
const persisted = new WeakSet<SpectraLayerResult>();

/** The stored-results settings key of a run: the run key without the (per page load) model id. */
function storedSettingsKey(settings: SpectraSettings, forceCpu: boolean, forceGpu: boolean): string {
  return spectraRunKey('', settings, forceCpu, forceGpu).slice(1);
}

/** Shortest gap between two renders of streamed results: a dozen small layers finishing together cost one. */
export const FLUSH_INTERVAL_MS = 200;

export const useSpectra = create<SpectraState>((set, get) => {
  const patch = (key: string, p: Partial<SpectraRun> | ((r: SpectraRun) => Partial<SpectraRun>)) =>
    set((s) => {
      const r = s.runs[key];
      if (!r) return s;
      return { runs: { ...s.runs, [key]: { ...r, ...(typeof p === 'function' ? p(r) : p) } } };
    });

  return {
    runs: {},
    liveKey: null,
    start(model, layers, settings, forceCpu, forceGpu = false) {
      const key = spectraRunKey(model.modelId, settings, forceCpu, forceGpu);
      const existing = get().runs[key];
      // A run that already covers these layers (done, or still going) is the answer; a wider layer
      // set (limits lifted) continues it, analyzing only the layers it lacks.
      const covered = existing !== undefined && layers.every((l) => existing.tensors.includes(l.tensor.name));
      if (existing && covered && (existing.status === 'done' || existing.status === 'running')) return key;
      controller?.abort();
      const ctrl = new AbortController();
      controller = ctrl;
      const missing = layers.filter((l) => !existing?.results[l.tensor.name]);
      const startedAt = performance.now();
      set((s) => ({
        liveKey: key,
        runs: {
          ...s.runs,
          [key]: {
            key,
            modelId: model.modelId,
            settings,
            forceCpu,
            status: 'running',
            results: existing?.results ?? {},
            errors: {},
            tensors: layers.map((l) => l.tensor.name),
            progress: null,
            backend: existing?.backend ?? null,
            backendNote: existing?.backendNote ?? null,
            startedAt,
            firstLayerMs: existing?.firstLayerMs ?? null,
            ms: null,
            restored: existing?.restored ?? [],
          },
        },
      }));

      // Replies batched per animation frame (or a short timer where frames do not run, e.g. a hidden tab).
      let pending: SpectraLayerResult[] = [];
      let pendingProgress: SpectraRunProgress | null = null;
      let scheduled = false;
      const flush = () => {
        scheduled = false;
        if (ctrl.signal.aborted && get().liveKey !== key) return;
        const batch = pending;
        const prog = pendingProgress;
        pending = [];
        pendingProgress = null;
        patch(key, (r) => {
          const results = batch.length ? { ...r.results } : r.results;
          let backend = r.backend;
          let backendNote = r.backendNote;
          for (const b of batch) {
            results[b.tensor] = b;
            if (b.backend === 'webgpu' || backend === null) backend = b.backend;
            backendNote = b.adapter ?? b.backendNote ?? backendNote;
          }
          return {
            results,
            backend,
            backendNote,
            progress: prog ?? r.progress,
            firstLayerMs: r.firstLayerMs ?? (batch.length ? performance.now() - startedAt : null),
          };
        });
      };
      let lastFlush = -Infinity;
      const schedule = () => {
        if (scheduled) return;
        scheduled = true;
        let fired = false;
        const once = () => {
          if (fired) return;
          fired = true;
          lastFlush = performance.now();
          flush();
        };
        // At most one render per FLUSH_INTERVAL_MS; the first result shows at once.
        const wait = Math.max(0, FLUSH_INTERVAL_MS - (performance.now() - lastFlush));
        setTimeout(() => {
          if (typeof requestAnimationFrame === 'function') requestAnimationFrame(once);
          setTimeout(once, 100);
        }, wait);
      };

      const compute = (todo: readonly Layer[]) => {
        countJob('spectra');
        void runSpectra(getComputePool(), model, todo, settings, forceCpu, {
          signal: ctrl.signal,
          forceGpu,
          onLayer: (r) => {
            pending.push(r);
            schedule();
          },
          onLayerError: (tensor, e) => patch(key, (r) => ({ errors: { ...r.errors, [tensor]: toErrorInfo(e) } })),
          onProgress: (p) => {
            pendingProgress = p;
            schedule();
          },
        })
          .then(({ ms }) => {
            flush();
            patch(key, { status: 'done', ms });
            void persist(model, get().runs[key], storedSettingsKey(settings, forceCpu, forceGpu));
          })
          .catch((e) => {
            flush();
            const info = toErrorInfo(e);
            patch(key, info.kind === 'CancelledError' || ctrl.signal.aborted ? { status: 'cancelled' } : { status: 'error', error: info });
          })
          .finally(() => {
            if (controller === ctrl) controller = null;
          });
      };

      if (existing) {
        compute(missing);
        return key;
      }
      // A fresh run: restore what this browser stored for the same model content and settings.
      const settingsKey = storedSettingsKey(settings, forceCpu, forceGpu);
      void storedModelOf(model)
        .then((m) => (m ? readStoredParts({ model: m.id, kind: 'spectra-layer', settings: settingsKey }, missing.map((l) => l.tensor.name)) : new Map<string, SpectraLayerResult>()))
        .catch(() => new Map<string, SpectraLayerResult>())
        .then((stored) => {
          if (ctrl.signal.aborted) {
            patch(key, { status: 'cancelled' });
            if (controller === ctrl) controller = null;
            return;
          }
          if (stored.size > 0) {
            for (const r of stored.values()) persisted.add(r);
            patch(key, (r) => {
              const results = { ...r.results };
              let backend = r.backend;
              let backendNote = r.backendNote;
              for (const b of stored.values()) {
                results[b.tensor] = b;
                if (b.backend === 'webgpu' || backend === null) backend = b.backend;
                backendNote = b.adapter ?? b.backendNote ?? backendNote;
              }
              return { results, backend, backendNote, restored: [...stored.keys()], firstLayerMs: performance.now() - startedAt };
            });
          }
          const todo = missing.filter((l) => !stored.has(l.tensor.name));
          if (todo.length > 0) compute(todo);
          else {
            patch(key, { status: 'done' });
            if (controller === ctrl) controller = null;
          }
        });
      return key;
    },
    cancel() {
      controller?.abort();
    },
    forget(modelId) {
      set((s) => ({ runs: Object.fromEntries(Object.entries(s.runs).filter(([, r]) => r.modelId !== modelId)) }));
    },
  };
});

/** Stores the layers a finished run computed (not those it restored). */
async function persist(model: ModelRef, run: SpectraRun | undefined, settingsKey: string): Promise<void> {
  if (!run || run.status !== 'done') return;
  const fresh = Object.values(run.results).filter((r) => !persisted.has(r));
  if (fresh.length === 0) return;
  const m = await storedModelOf(model);
  if (!m) return;
  for (const r of fresh) persisted.add(r);
  await writeStored(
    fresh.map((value) => ({ addr: { model: m.id, kind: 'spectra-layer' as const, settings: settingsKey, part: value.tensor }, value })),
    m.label,
  );
}

// A closed model's runs go with it (their eigenvalues are the bulk of what this store holds),
// and a run still going for it stops.
useModels.subscribe((state, prev) => {
  if (state.models === prev.models) return;
  const open = new Set(state.models.map((m) => m.id));
  const { runs, liveKey } = useSpectra.getState();
  const closed = new Set(Object.values(runs).filter((r) => !open.has(r.modelId)).map((r) => r.modelId));
  if (closed.size === 0) return;
  if (liveKey && runs[liveKey] && closed.has(runs[liveKey].modelId)) useSpectra.getState().cancel();
  for (const id of closed) useSpectra.getState().forget(id);
});
