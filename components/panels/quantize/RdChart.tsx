'use client';
import { seriesDash, seriesVar } from '@/lib/charts/palette';
import { useMemo, useRef } from 'react';
import { formatStat } from '@/lib/charts/format-number';
import { rdChart, type RdInputPoint } from '@/lib/charts/quant/rd-chart';
import type { RdPoint } from '@/lib/jobs/job-types';
import type { RdState } from '@/lib/state/quant-store';
import { ChartGrid } from '../../charts/ChartGrid';
import { ExportButtons } from '../../ui/ExportButtons';
import { useElementWidth } from '../../ui/use-element-width';

/** RTN (the first family) in the neutral colour, the VQ families in the series colours. */
const color = (i: number) => (i === 0 ? 'var(--chart-neutral)' : seriesVar(i - 1));
const dash = (i: number) => (i === 0 ? undefined : seriesDash(i - 1));

function family(p: RdPoint): string {
  if (p.method === 'rtn') return 'RTN (asym, g=128)';
  const d = /d=(\d+)/.exec(p.label)?.[1];
  return `VQ d=${d}`;
}

/** SQNR against bits per weight for scalar RTN and k-means VQ on the selected layer, the current setting ringed. */
export function RdChart({ rd, current, name, onCancel }: { rd: RdState; current: { bpw: number; sqnrDb: number } | null; name: string; onCancel(): void }) {
  const [boxRef, width] = useElementWidth<HTMLDivElement>(520);
  const svgRef = useRef<SVGSVGElement | null>(null);
  const pts = useMemo<RdInputPoint[]>(() => rd.points.map((p) => ({ family: family(p), label: p.label, bpw: p.bpw, sqnrDb: p.sqnrDb })), [rd.points]);
  const m = useMemo(() => rdChart(pts, current, width, 280), [pts, current, width]);
  return (
    <section className="card q-chart" data-testid="quant-rd" data-points={rd.points.length} data-status={rd.status}>
      <div className="card-head">
        <h4>Rate–distortion</h4>
        <span className="muted small">
          {rd.status === 'running' ? `${rd.progress.done}/${rd.progress.total} · ${rd.progress.label}` : `${rd.points.length} settings`}
          {rd.result ? ` · VQ fitted on ≤ ${rd.result.vqSample} sub-vectors, ${rd.result.vqIters} iterations` : ''}
        </span>
        {rd.status === 'running' && (
          <button type="button" className="btn btn-small" onClick={onCancel} data-testid="quant-rd-cancel">
            Cancel
          </button>
        )}
        <ExportButtons svgRef={svgRef} name={`${name}-rd`} />
      </div>
      {rd.error && <p className="sp-err">{rd.error.message}</p>}
      {m.clipped.length > 0 && (
        <p className="muted small">
          Off the axis (codebook overhead on this layer): {m.clipped.map((p) => `${p.label} at ${formatStat(p.bpw)} bpw, ${formatStat(p.sqnrDb)} dB`).join('; ')}
        </p>
      )}
      <div ref={boxRef} className="chart-box">
        <svg ref={svgRef} width={m.width} height={m.height} role="img" className="sp-svg" aria-label="SQNR against bits per weight">
          <ChartGrid axis="y" ticks={m.yTicks} plot={m.plot} />
          <ChartGrid axis="x" ticks={m.xTicks} plot={m.plot} />
          {m.series.map((s, i) => (
            <g key={s.family}>
              <path d={s.path} fill="none" style={{ stroke: color(i) }} strokeDasharray={dash(i)} strokeWidth={1.5} />
              {s.points.map((p) => (
                <circle key={p.label} cx={p.x} cy={p.y} r={3} style={{ fill: color(i) }}>
                  <title>{`${p.label}: ${formatStat(p.bpw)} bpw, ${formatStat(p.sqnrDb)} dB`}</title>
                </circle>
              ))}
              <circle cx={m.plot.x0 + 10} cy={m.plot.y1 + 9 + i * 13} r={3.5} style={{ fill: color(i) }} />
              <text x={m.plot.x0 + 18} y={m.plot.y1 + 12 + i * 13} className="tick">
                {s.family}
              </text>
            </g>
          ))}
          {m.current && <circle cx={m.current.x} cy={m.current.y} r={7} className="q-current" data-testid="quant-rd-current" />}
          <text x={(m.plot.x0 + m.plot.x1) / 2} y={m.height - 2} textAnchor="middle" className="tick">bits per weight (index + codebook + scales)</text>
          <text x={10} y={(m.plot.y0 + m.plot.y1) / 2} textAnchor="middle" className="tick" transform={`rotate(-90 10 ${(m.plot.y0 + m.plot.y1) / 2})`}>
            SQNR (dB)
          </text>
        </svg>
      </div>
    </section>
  );
}
