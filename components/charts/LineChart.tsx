'use client';
import { seriesDash, seriesVar } from '@/lib/charts/palette';
import { useMemo, useRef, type ReactNode } from 'react';
import { lineChart, type LineChartModel, type LineSeries } from '@/lib/charts/merge/line-chart';
import { ExportButtons } from '../ui/ExportButtons';
import { useElementWidth } from '../ui/use-element-width';
import { ChartGrid } from './ChartGrid';


/** A titled line chart card with legend and SVG/PNG export; `extra` draws annotations on the model. */
export function LineChart({
  title, series, xLabel, yLabel, name, testId, yDomain, xDomain, extra, note, height = 240,
}: {
  title: string;
  series: LineSeries[];
  xLabel: string;
  yLabel: string;
  name: string;
  testId: string;
  yDomain?: [number, number];
  xDomain?: [number, number];
  extra?: (m: LineChartModel) => ReactNode;
  note?: ReactNode;
  height?: number;
}) {
  const [boxRef, width] = useElementWidth<HTMLDivElement>(420);
  const svgRef = useRef<SVGSVGElement | null>(null);
  const m = useMemo(() => lineChart(series, width, height, { ...(yDomain ? { yDomain } : {}), ...(xDomain ? { xDomain } : {}) }), [series, width, height, yDomain, xDomain]);
  return (
    <section className="card q-chart" data-testid={testId} data-series={m.series.length}>
      <div className="card-head">
        <h4>{title}</h4>
        {note && <span className="muted small">{note}</span>}
        <ExportButtons svgRef={svgRef} name={`${name}-${testId}`} />
      </div>
      <div ref={boxRef} className="chart-box">
        <svg ref={svgRef} width={m.width} height={m.height} role="img" aria-label={title} className="sp-svg">
          <ChartGrid axis="y" ticks={m.yTicks} plot={m.plot} />
          <ChartGrid axis="x" ticks={m.xTicks} plot={m.plot} />
          {m.series.map((s, i) => (
            <g key={s.name}>
              <path d={s.path} fill="none" style={{ stroke: seriesVar(i) }} strokeWidth={1.6} strokeDasharray={s.dashed ? '5 3' : seriesDash(i)} />
              {s.points.length <= 60 &&
                s.points.map((p) => (
                  <circle key={p.vx} cx={p.x} cy={p.y} r={2.2} style={{ fill: seriesVar(i) }} data-testid="line-point" data-series={s.name} data-x={p.vx} data-y={p.vy}>
                    <title>{`${s.name}: ${p.vx.toFixed(3)} → ${p.vy.toPrecision(5)}`}</title>
                  </circle>
                ))}
              <line x1={m.plot.x1 - 150} x2={m.plot.x1 - 134} y1={m.plot.y1 + 8 + i * 13} y2={m.plot.y1 + 8 + i * 13} style={{ stroke: seriesVar(i) }} strokeWidth={2} strokeDasharray={s.dashed ? '5 3' : seriesDash(i)} />
              <text x={m.plot.x1 - 130} y={m.plot.y1 + 11 + i * 13} className="tick">
                {s.name}
              </text>
            </g>
          ))}
          {extra?.(m)}
          <line x1={m.plot.x0} x2={m.plot.x1} y1={m.plot.y0} y2={m.plot.y0} className="axis" />
          <text x={(m.plot.x0 + m.plot.x1) / 2} y={m.height - 2} textAnchor="middle" className="tick">{xLabel}</text>
          <text x={10} y={(m.plot.y0 + m.plot.y1) / 2} textAnchor="middle" className="tick" transform={`rotate(-90 10 ${(m.plot.y0 + m.plot.y1) / 2})`}>
            {yLabel}
          </text>
        </svg>
      </div>
    </section>
  );
}
