'use client';
import { useEffect, useState } from 'react';
import type { FitMethod, SpectraSettings, XminMode } from '@/lib/jobs/job-types';
import { DEFAULT_SPECTRA_SETTINGS } from '@/lib/state/spectra-settings';

const FIT_LABELS: Record<FitMethod, string> = {
  auto: 'WeightWatcher (KS-optimal xmin)',
  xmin_peak: 'xmin_peak (fix fingers)',
  xmin_mid: 'xmin_mid (median)',
  clip_xmax: 'clip_xmax (fix fingers)',
};

/** Analysis settings; each change is a new cached run (and a new permalink). FARMS numbers apply on "Apply". */
export function SpectraControls({ settings, onChange }: { settings: SpectraSettings; onChange: (s: SpectraSettings) => void }) {
  const [nr, setNr] = useState(String(settings.farmsNr));
  const [q, setQ] = useState(String(settings.farmsQRatio));
  const [ops, setOps] = useState(String(settings.farmsOps));
  useEffect(() => {
    setNr(String(settings.farmsNr));
    setQ(String(settings.farmsQRatio));
    setOps(String(settings.farmsOps));
  }, [settings.farmsNr, settings.farmsQRatio, settings.farmsOps]);
  const apply = () => {
    const n = Math.round(Number(nr));
    const r = Number(q);
    const o = Math.round(Number(ops));
    onChange({
      ...settings,
      farmsNr: Number.isFinite(n) && n >= 2 ? n : settings.farmsNr,
      farmsQRatio: Number.isFinite(r) && r > 0 ? r : settings.farmsQRatio,
      farmsOps: Number.isFinite(o) && o >= 1 && o <= 100 ? o : settings.farmsOps,
    });
  };
  const dirty = nr !== String(settings.farmsNr) || q !== String(settings.farmsQRatio) || ops !== String(settings.farmsOps);
  return (
    <div className="sp-controls" data-testid="spectra-controls">
      <label>
        fit{' '}
        <select value={settings.fit} onChange={(e) => onChange({ ...settings, fit: e.target.value as FitMethod })} data-testid="spectra-fit">
          {(Object.keys(FIT_LABELS) as FitMethod[]).map((f) => (
            <option key={f} value={f}>
              {FIT_LABELS[f]}
            </option>
          ))}
        </select>
      </label>
      <label className="toggle small">
        <input type="checkbox" checked={settings.mpFit} onChange={(e) => onChange({ ...settings, mpFit: e.target.checked })} data-testid="spectra-mp" />
        <span>MP fit</span>
      </label>
      <label className="toggle small">
        <input type="checkbox" checked={settings.farms} onChange={(e) => onChange({ ...settings, farms: e.target.checked })} data-testid="spectra-farms" />
        <span>FARMS</span>
      </label>
      {settings.farms && (
        <form
          className="sp-farms-params"
          onSubmit={(e) => {
            e.preventDefault();
            apply();
          }}
        >
          <label title="window rows (published default 100)">
            rows <input type="number" min={2} value={nr} onChange={(e) => setNr(e.target.value)} data-testid="spectra-farms-nr" />
          </label>
          <label title="window columns / rows (published default 2)">
            Q <input type="number" min={0.1} step={0.1} value={q} onChange={(e) => setQ(e.target.value)} data-testid="spectra-farms-q" />
          </label>
          <label title="windows per dimension (published default 10)">
            per side <input type="number" min={1} max={100} value={ops} onChange={(e) => setOps(e.target.value)} data-testid="spectra-farms-ops" />
          </label>
          <label title="fit on the pooled windows (published default xmin_mid)">
            fit{' '}
            <select value={settings.farmsFit} onChange={(e) => onChange({ ...settings, farmsFit: e.target.value as XminMode })} data-testid="spectra-farms-fit">
              <option value="xmin_mid">xmin_mid</option>
              <option value="xmin_peak">xmin_peak</option>
              <option value="auto">KS-optimal</option>
            </select>
          </label>
          <button type="submit" className="btn btn-small" disabled={!dirty}>
            Apply
          </button>
        </form>
      )}
      <button type="button" className="btn btn-small sp-reset" onClick={() => onChange(DEFAULT_SPECTRA_SETTINGS)} title="WeightWatcher analyze() fit, FARMS published defaults, MP fit on">
        Defaults
      </button>
    </div>
  );
}
