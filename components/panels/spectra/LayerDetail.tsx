'use client';
import { memo, useMemo } from 'react';
import type { EsdMode, EsdSeriesInput } from '@/lib/charts/spectra/esd-chart';
import { formatStat } from '@/lib/charts/format-number';
import type { SpectraLayerResult } from '@/lib/jobs/job-types';
import type { Layer } from '@/lib/model/layer';
import { EsdChart } from '../../charts/EsdChart';
import { FitRobustnessChart } from '../../charts/FitRobustnessChart';
import { MatrixHeatmap } from '../../charts/MatrixHeatmap';

/** The selected layer: its ESD, the fit's robustness, and the matrix with the FARMS windows. */
/** Memoised: streaming results for other layers do not redraw the selected layer's charts. */
export const LayerDetail = memo(function LayerDetail({ layer, result, esd, onEsd, name }: { layer: Layer; result: SpectraLayerResult | undefined; esd: EsdMode; onEsd: (m: EsdMode) => void; name: string }) {
  const s = result?.spectrum;
  const series = useMemo<EsdSeriesInput[]>(() => {
    if (!s?.ok) return [];
    const out: EsdSeriesInput[] = [{ key: 'raw', label: 'layer', evals: s.evals, fit: s.status === 'ok' ? { alpha: s.alpha, xmin: s.xmin } : null }];
    if (s.farms) out.push({ key: 'farms', label: `FARMS ${s.farms.nr}×${s.farms.nc}`, evals: s.farms.evals, fit: { alpha: s.farms.alpha, xmin: s.farms.xmin } });
    return out;
  }, [s]);
  const mp = useMemo(() => (s?.ok && s.mp ? { sigma_mp: s.mp.sigma_mp, W_scale: s.mp.W_scale, Q: layer.Q } : null), [s, layer.Q]);
  const chosen = useMemo(() => (s?.ok && s.status === 'ok' ? { xmin: s.xmin, alpha: s.alpha } : null), [s]);
  if (!result) {
    return (
      <div className="card sp-pending" data-testid="esd-pending" data-layer={layer.name}>
        <div className="spinner" aria-hidden /> {layer.name} is waiting for its turn in the workers…
      </div>
    );
  }
  if (!s?.ok) {
    return (
      <div className="card sp-pending sp-err" data-testid="esd-error" data-layer={layer.name}>
        {s && !s.ok ? s.error.message : 'no spectrum'}
      </div>
    );
  }
  return (
    <div className="sp-detail" data-testid="layer-detail" data-layer={layer.name}>
      <div className="sp-detail-head">
        <strong className="mono">{layer.name}</strong>
        <span className="muted">
          {layer.kind} · N {layer.N} · M {layer.M} · rf {layer.rf} · Q {layer.Q.toFixed(2)} · {s.num_evals} eigenvalues
        </span>
        <span data-testid="detail-alpha" data-alpha={s.status === 'ok' ? s.alpha : undefined}>
          α = {s.status === 'ok' ? s.alpha.toFixed(3) : '—'} · D = {s.status === 'ok' ? s.D.toFixed(4) : '—'} · xmin = {s.status === 'ok' ? formatStat(s.xmin) : '—'}
          {s.farms ? ` · FARMS α = ${s.farms.alpha.toFixed(3)}` : ''}
          {s.mp ? ` · MP σ = ${s.mp.sigma_mp.toFixed(3)}, ${s.mp.num_spikes} spikes` : ''}
        </span>
        <span className={`badge backend-${result.backend}`} data-testid="detail-backend" data-backend={result.backend} title={result.adapter ?? 'CPU (float64 Gram)'}>
          {result.backend === 'webgpu' ? 'WebGPU' : 'CPU'}
        </span>
        {s.warning && <span className={`badge sp-warn-${s.warning}`}>{s.warning}</span>}
        {s.notes.map((n) => (
          <span key={n} className="muted small">
            {n}
          </span>
        ))}
      </div>
      <div className="sp-detail-grid">
        <EsdChart series={series} mp={mp} mode={esd} onMode={onEsd} name={name} layer={layer.name} noiseFloor={result.floor > 0 ? result.floor * s.lambda_max : undefined} />
        <div className="sp-detail-side">
          {result.candidates && result.candidates.xmin.length > 1 && <FitRobustnessChart candidates={result.candidates} chosen={chosen} name={name} layer={layer.name} height={220} />}
          {result.heatmap && <MatrixHeatmap heatmap={result.heatmap} windows={result.windows} name={name} layer={layer.name} />}
        </div>
      </div>
    </div>
  );
});
