import type { FitMethod, SpectraSettings, XminMode } from '../jobs/job-types';

/**
 * The Spectra view's settings and their URL form, so /spectra?model=…&layer=…&fit=…&farms=… is a
 * permalink. Defaults reproduce WeightWatcher's analyze() fit and FARMS' published parameters;
 * only values that differ from the defaults are written to the URL.
 */

export const DEFAULT_SPECTRA_SETTINGS: SpectraSettings = {
  fit: 'auto',
  mpFit: true,
  farms: true,
  farmsNr: 100,
  farmsQRatio: 2,
  farmsOps: 10,
  farmsFit: 'xmin_mid',
};

export type EsdView = 'hist' | 'ccdf';

export interface SpectraViewParams {
  /** An open model's id (m1) or a demo model's id (paddleocr-det). */
  model: string | null;
  /** Selected layer (Layer.name). */
  layer: string | null;
  esd: EsdView;
  settings: SpectraSettings;
  /** ?gpu=1: WebGPU even on a software adapter (to compare backends where no hardware GPU is). */
  forceGpu: boolean;
  /**
   * ?limits=off: also analyze the layers WeightWatcher's defaults skip (min_evals, max_evals,
   * max_N — e.g. a 50257-row embedding). Per-layer results do not depend on it, so it is not part
   * of the run's cache key.
   */
  allLayers: boolean;
  /** ?compare=…: a second model (open model id, demo id or URL) shown side by side with `model`. */
  compare?: string | null;
}

const FITS: readonly FitMethod[] = ['auto', 'xmin_peak', 'xmin_mid', 'clip_xmax'];
const FARMS_FITS: readonly XminMode[] = ['auto', 'xmin_peak', 'xmin_mid'];

/** Bounds for hand-edited URLs: a FARMS window is at least 2 rows, and at most 100 windows per side. */
const num = (v: string | null, lo: number, hi: number, dflt: number, int: boolean): number => {
  if (v === null || v.trim() === '') return dflt;
  const x = Number(v);
  if (!Number.isFinite(x) || x < lo || x > hi) return dflt;
  return int ? Math.round(x) : x;
};

export function parseSpectraParams(q: URLSearchParams): SpectraViewParams {
  const d = DEFAULT_SPECTRA_SETTINGS;
  const fit = q.get('fit') as FitMethod | null;
  const ffit = q.get('farms_fit') as XminMode | null;
  return {
    model: q.get('model') || null,
    layer: q.get('layer') || null,
    esd: q.get('esd') === 'ccdf' ? 'ccdf' : 'hist',
    forceGpu: q.get('gpu') === '1',
    allLayers: q.get('limits') === 'off',
    // Only present when set, so params without a comparison read the same as before it existed.
    ...(q.get('compare') ? { compare: q.get('compare') } : {}),
    settings: {
      fit: fit && FITS.includes(fit) ? fit : d.fit,
      mpFit: q.get('mp') === null ? d.mpFit : q.get('mp') !== '0',
      farms: q.get('farms') === null ? d.farms : q.get('farms') !== '0',
      farmsNr: num(q.get('farms_nr'), 2, 100_000, d.farmsNr, true),
      farmsQRatio: num(q.get('farms_q'), 0.01, 100, d.farmsQRatio, false),
      farmsOps: num(q.get('farms_ops'), 1, 100, d.farmsOps, true),
      farmsFit: ffit && FARMS_FITS.includes(ffit) ? ffit : d.farmsFit,
    },
  };
}

/** Writes the params into `q` (other parameters, like cpu and testhooks, are kept). */
export function writeSpectraParams(q: URLSearchParams, p: SpectraViewParams): URLSearchParams {
  const d = DEFAULT_SPECTRA_SETTINGS;
  const s = p.settings;
  const set = (k: string, v: string | null) => (v === null ? q.delete(k) : q.set(k, v));
  set('model', p.model);
  set('layer', p.layer);
  set('esd', p.esd === 'ccdf' ? 'ccdf' : null);
  set('gpu', p.forceGpu ? '1' : null);
  set('limits', p.allLayers ? 'off' : null);
  set('compare', p.compare ?? null);
  set('fit', s.fit === d.fit ? null : s.fit);
  set('mp', s.mpFit === d.mpFit ? null : s.mpFit ? '1' : '0');
  set('farms', s.farms === d.farms ? null : s.farms ? '1' : '0');
  set('farms_nr', s.farmsNr === d.farmsNr ? null : String(s.farmsNr));
  set('farms_q', s.farmsQRatio === d.farmsQRatio ? null : String(s.farmsQRatio));
  set('farms_ops', s.farmsOps === d.farmsOps ? null : String(s.farmsOps));
  set('farms_fit', s.farmsFit === d.farmsFit ? null : s.farmsFit);
  return q;
}

/** Cache key of a run: the same model, settings and backend choice give the same numbers. */
export function spectraRunKey(modelId: string, s: SpectraSettings, forceCpu: boolean, forceGpu = false): string {
  const backend = forceCpu ? 'cpu' : forceGpu ? 'gpu' : 'auto';
  return [modelId, s.fit, s.mpFit ? 'mp' : '', s.farms ? `farms:${s.farmsNr}:${s.farmsQRatio}:${s.farmsOps}:${s.farmsFit}` : 'nofarms', backend].join('|');
}
