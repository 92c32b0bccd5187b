'use client';
import { useMemo, useRef, useState } from 'react';
import { formatStat } from '@/lib/charts/format-number';
import { histogramChart } from '@/lib/charts/histogram-chart';
import { useElementWidth } from '../ui/use-element-width';
import { ExportButtons } from '../ui/ExportButtons';
import { ChartGrid } from './ChartGrid';

export function HistogramChart({ counts, lo, hi, name, height = 200 }: { counts: ArrayLike<number>; lo: number; hi: number; name: string; height?: number }) {
  const [boxRef, width] = useElementWidth<HTMLDivElement>(420);
  const svgRef = useRef<SVGSVGElement | null>(null);
  const [logY, setLogY] = useState(false);
  const m = useMemo(() => histogramChart(counts, lo, hi, width, height, { logY }), [counts, lo, hi, width, height, logY]);
  return (
    <div className="histogram" data-testid="histogram">
      <div className="card-head">
        <h4>Histogram ({counts.length} bins)</h4>
        <label className="toggle small">
          <input type="checkbox" checked={logY} onChange={(e) => setLogY(e.target.checked)} />
          <span>log count</span>
        </label>
        <ExportButtons svgRef={svgRef} name={`${name}-histogram`} />
      </div>
      <div ref={boxRef} className="chart-box">
        <svg ref={svgRef} width={m.width} height={m.height} role="img" aria-label="Histogram of tensor values">
          <ChartGrid axis="y" ticks={m.yTicks} plot={m.plot} />
          {m.bars.map((b, i) => (
            <rect key={i} x={b.x} y={b.y} width={b.width} height={b.height} className="bar">
              <title>{`[${formatStat(b.lo)}, ${formatStat(b.hi)}): ${b.count}`}</title>
            </rect>
          ))}
          <line x1={m.plot.x0} x2={m.plot.x1} y1={m.plot.y0} y2={m.plot.y0} className="axis" />
          {m.xTicks.map((t) => (
            <g key={`x${t.label}`}>
              <line x1={t.pos} x2={t.pos} y1={m.plot.y0} y2={m.plot.y0 + 4} className="axis" />
              <text x={t.pos} y={m.plot.y0 + 16} textAnchor="middle" className="tick">
                {t.label}
              </text>
            </g>
          ))}
        </svg>
      </div>
    </div>
  );
}
