'use client';
import { useMemo, useRef, useState } from 'react';
import { formatStat } from '@/lib/charts/format-number';
import { usageChart } from '@/lib/charts/quant/usage-chart';
import { ChartGrid } from '../../charts/ChartGrid';
import { ExportButtons } from '../../ui/ExportButtons';
import { useElementWidth } from '../../ui/use-element-width';

/** Codeword usage, sorted: entropy, perplexity and dead codewords in the title. */
export function UsageChart({ sortedCounts, entropyBits, perplexity, dead, name }: { sortedCounts: Uint32Array; entropyBits: number; perplexity: number; dead: number; name: string }) {
  const [boxRef, width] = useElementWidth<HTMLDivElement>(420);
  const svgRef = useRef<SVGSVGElement | null>(null);
  const [logY, setLogY] = useState(true);
  const m = useMemo(() => usageChart(sortedCounts, width, 220, logY), [sortedCounts, width, logY]);
  const k = sortedCounts.length;
  return (
    <section className="card q-chart" data-testid="quant-usage" data-dead={dead} data-entropy={entropyBits}>
      <div className="card-head">
        <h4>Codeword usage</h4>
        <span className="muted small">
          entropy {formatStat(entropyBits)} bits of log₂k = {formatStat(Math.log2(k))} · perplexity {formatStat(perplexity)} · {dead} dead of {k}
        </span>
        <label className="toggle small">
          <input type="checkbox" checked={logY} onChange={(e) => setLogY(e.target.checked)} />
          <span>log count</span>
        </label>
        <ExportButtons svgRef={svgRef} name={`${name}-usage`} />
      </div>
      <div ref={boxRef} className="chart-box">
        <svg ref={svgRef} width={m.width} height={m.height} role="img" className="sp-svg" aria-label="Codeword usage sorted by count">
          <ChartGrid axis="y" ticks={m.yTicks} plot={m.plot} />
          {m.bars.map((b) => (
            <rect key={b.rank0} x={b.x} y={b.y} width={b.width} height={b.height} className="bar">
              <title>{b.rank1 - b.rank0 === 1 ? `rank ${b.rank0}: ${b.count}` : `ranks ${b.rank0}–${b.rank1 - 1}: up to ${b.count}`}</title>
            </rect>
          ))}
          <line x1={m.plot.x0} x2={m.plot.x1} y1={m.uniformY} y2={m.uniformY} className="q-uniform" />
          <text x={m.plot.x1} y={m.uniformY - 3} textAnchor="end" className="tick">uniform use</text>
          {m.deadX !== null && (
            <>
              <line x1={m.deadX} x2={m.deadX} y1={m.plot.y1} y2={m.plot.y0} className="q-dead" />
              <text x={m.deadX + 3} y={m.plot.y1 + 10} className="tick">dead →</text>
            </>
          )}
          <line x1={m.plot.x0} x2={m.plot.x1} y1={m.plot.y0} y2={m.plot.y0} className="axis" />
          {m.xTicks.map((t) => (
            <text key={t.label} x={t.pos} y={m.plot.y0 + 14} textAnchor="middle" className="tick">
              {t.label}
            </text>
          ))}
          <text x={(m.plot.x0 + m.plot.x1) / 2} y={m.height - 2} textAnchor="middle" className="tick">
            codeword rank (most used first)
          </text>
        </svg>
      </div>
    </section>
  );
}
