'use client';
import { useChartKeys } from '@/components/charts/use-chart-keys';
import { useMemo, useRef } from 'react';
import { formatStat } from '@/lib/charts/format-number';
import { sweepChart, type SweepInput } from '@/lib/charts/quant/sweep-chart';
import { ChartGrid } from '../../charts/ChartGrid';
import { ExportButtons } from '../../ui/ExportButtons';
import { useElementWidth } from '../../ui/use-element-width';

/** Per-layer SQNR of the whole-model sweep, RTN at equal bits as ticks; clicking a bar selects the layer. */
export function SweepChart({ layers, overall, selected, onSelect, name }: { layers: SweepInput[]; overall: number | null; selected: string | null; onSelect(n: string): void; name: string }) {
  const [boxRef, width] = useElementWidth<HTMLDivElement>(640);
  const svgRef = useRef<SVGSVGElement | null>(null);
  const m = useMemo(() => sweepChart(layers, overall, width, 240), [layers, overall, width]);
  const keys = useChartKeys({
    names: m.bars.map((b) => b.name),
    selected,
    onSelect,
    describe: (n) => {
      const b = m.bars.find((x) => x.name === n);
      return b ? `${n}: ${formatStat(b.sqnrDb)} dB${b.rtnSqnrDb !== null ? `, RTN at equal bits ${formatStat(b.rtnSqnrDb)} dB` : ''}` : n;
    },
  });
  return (
    <div ref={boxRef} className="chart-box">
      <div className="card-head">
        <span className="muted small">bars: SQNR per layer · ticks: scalar RTN at the nearest equal bits · line: whole model</span>
        <ExportButtons svgRef={svgRef} name={`${name}-sweep`} />
      </div>
      <svg ref={svgRef} width={m.width} height={m.height} role="img" className="sp-svg" aria-label="SQNR per layer; arrow keys select a layer" {...keys.props}>
        <ChartGrid axis="y" ticks={m.yTicks} plot={m.plot} />
        {m.bars.map((b) => (
          <g key={b.name} onClick={() => onSelect(b.name)} style={{ cursor: 'pointer' }}>
            <rect x={b.x} y={b.y} width={b.width} height={b.height} className={b.name === selected ? 'bar bar-selected' : 'bar'}>
              <title>{`${b.name}: ${formatStat(b.sqnrDb)} dB (relF ${formatStat(b.relFrobenius ?? NaN)})${b.rtnSqnrDb !== null ? `; RTN ${formatStat(b.rtnSqnrDb)} dB` : ''}`}</title>
            </rect>
            {b.rtnY !== null && <line x1={b.x - 1} x2={b.x + b.width + 1} y1={b.rtnY} y2={b.rtnY} className="q-rtn-tick" />}
          </g>
        ))}
        {m.overallY !== null && <line x1={m.plot.x0} x2={m.plot.x1} y1={m.overallY} y2={m.overallY} className="q-uniform" />}
        <line x1={m.plot.x0} x2={m.plot.x1} y1={m.plot.y0} y2={m.plot.y0} className="axis" />
        <text x={(m.plot.x0 + m.plot.x1) / 2} y={m.height - 4} textAnchor="middle" className="tick">layers in model order</text>
        <text x={10} y={(m.plot.y0 + m.plot.y1) / 2} textAnchor="middle" className="tick" transform={`rotate(-90 10 ${(m.plot.y0 + m.plot.y1) / 2})`}>SQNR (dB)</text>
      </svg>
      {keys.live}
    </div>
  );
}
