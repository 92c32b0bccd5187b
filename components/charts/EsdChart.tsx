'use client';
import { useMemo, useRef } from 'react';
import { formatStat } from '@/lib/charts/format-number';
import { esdChart, type EsdMode, type EsdSeriesInput } from '@/lib/charts/spectra/esd-chart';
import type { MpCurveInput } from '@/lib/charts/spectra/mp-curve';
import { ExportButtons } from '../ui/ExportButtons';
import { useElementWidth } from '../ui/use-element-width';
import { ChartGrid } from './ChartGrid';

const SERIES_CLASS: Record<string, string> = { raw: 'sp-raw', farms: 'sp-farms' };

/** The selected layer's ESD: log-log histogram or CCDF, power-law fits from xmin, MP bulk. */
export function EsdChart({
  series,
  mp,
  mode,
  onMode,
  name,
  layer,
  noiseFloor,
  height = 440,
}: {
  series: EsdSeriesInput[];
  mp: MpCurveInput | null;
  noiseFloor?: number;
  mode: EsdMode;
  onMode: (m: EsdMode) => void;
  name: string;
  layer: string;
  height?: number;
}) {
  const [boxRef, width] = useElementWidth<HTMLDivElement>(520);
  const svgRef = useRef<SVGSVGElement | null>(null);
  const m = useMemo(() => esdChart(series, width, height, { mode, mp, noiseFloor }), [series, width, height, mode, mp, noiseFloor]);
  const clipId = `esd-clip-${layer.replace(/[^\w-]/g, '_')}`;
  return (
    <section className="card sp-chart" data-testid="esd-chart" data-layer={layer} data-mode={mode}>
      <div className="card-head">
        <h4>ESD · {layer}</h4>
        <label className="toggle small">
          <input type="checkbox" checked={mode === 'ccdf'} onChange={(e) => onMode(e.target.checked ? 'ccdf' : 'hist')} data-testid="esd-ccdf-toggle" />
          <span>CCDF</span>
        </label>
        <ExportButtons svgRef={svgRef} name={`${name}-esd-${mode}`} />
      </div>
      <div ref={boxRef} className="chart-box">
        <svg ref={svgRef} width={m.width} height={m.height} role="img" aria-label={`Eigenvalue spectrum of ${layer}`} className="sp-svg">
          <defs>
            <clipPath id={clipId}>
              <rect x={m.plot.x0} y={m.plot.y1} width={m.plot.x1 - m.plot.x0} height={m.plot.y0 - m.plot.y1} />
            </clipPath>
          </defs>
          <ChartGrid axis="y" ticks={m.yTicks} plot={m.plot} />
          <ChartGrid axis="x" ticks={m.xTicks} plot={m.plot} />
          <g clipPath={`url(#${clipId})`}>
            {m.mpBand && (
              <rect x={m.mpBand.x0} y={m.plot.y1} width={Math.max(1, m.mpBand.x1 - m.mpBand.x0)} height={m.plot.y0 - m.plot.y1} className="sp-mp-band" data-testid="esd-mp-band">
                <title>Marchenko–Pastur bulk</title>
              </rect>
            )}
            {m.series.map((s) => (
              <g key={s.key} className={SERIES_CLASS[s.key] ?? 'sp-raw'} data-testid={`esd-series-${s.key}`} data-shown={s.shown} data-hidden={s.hidden}>
                <path d={s.path} className={mode === 'hist' ? 'sp-hist' : 'sp-ccdf'} />
                {mode === 'ccdf' && s.dots.length <= 400 && s.dots.map((d, i) => <circle key={i} cx={d.x} cy={d.y} r={1.6} className="sp-dot" />)}
                {s.fitPath && <path d={s.fitPath} className="sp-fit" data-testid={`esd-fit-line-${s.key}`} />}
                {s.xmin && (
                  <line x1={s.xmin.x} x2={s.xmin.x} y1={m.plot.y1} y2={m.plot.y0} className="sp-xmin" data-testid={`esd-xmin-${s.key}`} data-xmin={s.xmin.value}>
                    <title>{`${s.label} xmin = ${formatStat(s.xmin.value)}`}</title>
                  </line>
                )}
              </g>
            ))}
            {m.mpPath && <path d={m.mpPath} className="sp-mp" data-testid="esd-mp-curve" />}
            {m.noiseFloor && (
              <g data-testid="esd-noise-floor" data-value={m.noiseFloor.value}>
                <line x1={m.noiseFloor.x} x2={m.noiseFloor.x} y1={m.plot.y1} y2={m.plot.y0} className="sp-floor" />
                <text x={m.noiseFloor.x + 3} y={m.plot.y0 - 4} className="tick">
                  GPU float floor
                </text>
                <title>{`Eigenvalues below ${formatStat(m.noiseFloor.value)} are rounding noise of the GPU Gram`}</title>
              </g>
            )}
          </g>
          <line x1={m.plot.x0} x2={m.plot.x1} y1={m.plot.y0} y2={m.plot.y0} className="axis" />
          <line x1={m.plot.x0} x2={m.plot.x0} y1={m.plot.y1} y2={m.plot.y0} className="axis" />
          <text x={(m.plot.x0 + m.plot.x1) / 2} y={m.height - 4} textAnchor="middle" className="label">
            eigenvalue λ
          </text>
          <text transform={`translate(12 ${(m.plot.y0 + m.plot.y1) / 2}) rotate(-90)`} textAnchor="middle" className="label">
            {m.yLabel}
          </text>
          <g transform={`translate(${m.plot.x0} 10)`} className="sp-legend">
            {m.series.map((s, i) => (
              <g key={s.key} transform={`translate(${i * 170} 0)`} className={SERIES_CLASS[s.key] ?? 'sp-raw'}>
                <line x1={0} x2={16} y1={0} y2={0} className="sp-fit" />
                <text x={20} y={3} className="tick">
                  {s.label}
                  {s.alpha !== null ? ` α=${s.alpha.toFixed(2)}` : ''}
                </text>
              </g>
            ))}
            {m.mpBand && (
              <g transform={`translate(${m.series.length * 170} 0)`}>
                <rect x={0} y={-5} width={16} height={9} className="sp-mp-band" />
                <text x={20} y={3} className="tick">
                  MP bulk
                </text>
              </g>
            )}
          </g>
        </svg>
      </div>
      {m.series.some((s) => s.hidden > 0) && (
        <p className="muted small">
          {m.series
            .filter((s) => s.hidden > 0)
            .map((s) => `${s.label}: ${s.hidden} eigenvalue${s.hidden === 1 ? '' : 's'} below 1e-6·λmax not shown on the log axis`)
            .join(' · ')}
        </p>
      )}
    </section>
  );
}
