'use client';
import { useChartKeys } from './use-chart-keys';
import { useMemo, useRef } from 'react';
import { alphaQChart, type QLayerInput } from '@/lib/charts/spectra/alpha-q-chart';
import { ExportButtons } from '../ui/ExportButtons';
import { useElementWidth } from '../ui/use-element-width';
import { ChartGrid } from './ChartGrid';

/** α against aspect ratio Q: the bias of raw α that FARMS' fixed-Q windows remove. */
export function AlphaQChart({ layers, selected, onSelect, name, height = 240 }: { layers: QLayerInput[]; selected: string | null; onSelect: (name: string) => void; name: string; height?: number }) {
  const [boxRef, width] = useElementWidth<HTMLDivElement>(420);
  const svgRef = useRef<SVGSVGElement | null>(null);
  const m = useMemo(() => alphaQChart(layers, width, height), [layers, width, height]);
  const names = useMemo(() => [...new Set(m.points.map((p) => p.name))], [m]);
  const keys = useChartKeys({
    names,
    selected,
    onSelect,
    describe: (n) => `${n}: ${m.points.filter((p) => p.name === n).map((p) => `${p.series === 'raw' ? 'α' : 'FARMS α'} ${p.value.toFixed(3)}`).join(', ')}`,
  });
  return (
    <section className="card sp-chart" data-testid="alpha-q-chart">
      <div className="card-head">
        <h4>α vs aspect ratio Q</h4>
        <ExportButtons svgRef={svgRef} name={`${name}-alpha-q`} />
      </div>
      <div ref={boxRef} className="chart-box">
        <svg ref={svgRef} width={m.width} height={m.height} role="img" aria-label="Alpha against aspect ratio; arrow keys select a layer" className="sp-svg" {...keys.props}>
          <ChartGrid axis="y" ticks={m.yTicks} plot={m.plot} />
          <ChartGrid axis="x" ticks={m.xTicks} plot={m.plot} />
          {m.refLines.map((r) => (
            <line key={r.label} x1={m.plot.x0} x2={m.plot.x1} y1={r.y} y2={r.y} className="sp-ref" />
          ))}
          {m.points.map((p) => (
            <circle
              key={`${p.series}:${p.name}`}
              cx={p.x}
              cy={p.y}
              r={p.name === selected ? 5 : 3.2}
              className={`${p.series === 'raw' ? 'sp-raw' : 'sp-farms'} sp-pt${p.series === 'farms' ? ' hollow' : ''}${p.name === selected ? ' sel' : ''}`}
              onClick={() => onSelect(p.name)}
              data-testid={`q-point-${p.series}`}
            >
              <title>{`${p.name}: Q = ${p.Q.toFixed(2)}, ${p.series === 'raw' ? 'α' : 'FARMS α'} = ${p.value.toFixed(3)}`}</title>
            </circle>
          ))}
          <line x1={m.plot.x0} x2={m.plot.x1} y1={m.plot.y0} y2={m.plot.y0} className="axis" />
          <text x={(m.plot.x0 + m.plot.x1) / 2} y={m.height - 4} textAnchor="middle" className="label">
            Q = N / M
          </text>
          <text transform={`translate(12 ${(m.plot.y0 + m.plot.y1) / 2}) rotate(-90)`} textAnchor="middle" className="label">
            α
          </text>
        </svg>
        {keys.live}
      </div>
    </section>
  );
}
