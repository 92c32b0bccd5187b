'use client';
import { useChartKeys } from './use-chart-keys';
import { useMemo, useRef } from 'react';
import { alphaDepthChart, type DepthLayerInput } from '@/lib/charts/spectra/alpha-depth-chart';
import { ExportButtons } from '../ui/ExportButtons';
import { useElementWidth } from '../ui/use-element-width';
import { ChartGrid } from './ChartGrid';

/** α per layer by depth, raw (filled) and FARMS (hollow); click a point to select its layer. */
export function AlphaDepthChart({ layers, selected, onSelect, name, height = 240 }: { layers: DepthLayerInput[]; selected: string | null; onSelect: (name: string) => void; name: string; height?: number }) {
  const [boxRef, width] = useElementWidth<HTMLDivElement>(520);
  const svgRef = useRef<SVGSVGElement | null>(null);
  const m = useMemo(() => alphaDepthChart(layers, width, height), [layers, width, height]);
  const names = useMemo(() => [...new Set(m.points.map((p) => p.name))], [m]);
  const keys = useChartKeys({
    names,
    selected,
    onSelect,
    describe: (n) => `${n}: ${m.points.filter((p) => p.name === n).map((p) => `${p.series === 'raw' ? 'α' : 'FARMS α'} ${p.value.toFixed(3)}`).join(', ')}`,
  });
  return (
    <section className="card sp-chart" data-testid="alpha-depth-chart">
      <div className="card-head">
        <h4>α by depth</h4>
        <span className="muted small">
          <span className="sp-key sp-raw">●</span> raw <span className="sp-key sp-farms">○</span> FARMS
        </span>
        <ExportButtons svgRef={svgRef} name={`${name}-alpha-depth`} />
      </div>
      <div ref={boxRef} className="chart-box">
        <svg ref={svgRef} width={m.width} height={m.height} role="img" aria-label="Alpha by depth; arrow keys select a layer" className="sp-svg" {...keys.props}>
          {m.bands.map((b, i) => (
            <rect key={i} x={b.x0} y={m.plot.y1} width={b.x1 - b.x0} height={m.plot.y0 - m.plot.y1} className="sp-band" />
          ))}
          <ChartGrid axis="y" ticks={m.yTicks} plot={m.plot} />
          {m.refLines.map((r) => (
            <line key={r.label} x1={m.plot.x0} x2={m.plot.x1} y1={r.y} y2={r.y} className="sp-ref">
              <title>{r.label}</title>
            </line>
          ))}
          <path d={m.rawPath} className="sp-raw sp-line" />
          <path d={m.farmsPath} className="sp-farms sp-line dashed" />
          {m.points.map((p) => (
            <circle
              key={`${p.series}:${p.name}`}
              cx={p.x}
              cy={p.y}
              r={p.name === selected ? 5 : 3.2}
              className={`${p.series === 'raw' ? 'sp-raw' : 'sp-farms'} sp-pt${p.series === 'farms' ? ' hollow' : ''}${p.name === selected ? ' sel' : ''}`}
              onClick={() => onSelect(p.name)}
              data-testid={`depth-point-${p.series}`}
              data-name={p.name}
            >
              <title>{`${p.name}: ${p.series === 'raw' ? 'α' : 'FARMS α'} = ${p.value.toFixed(3)}`}</title>
            </circle>
          ))}
          <line x1={m.plot.x0} x2={m.plot.x1} y1={m.plot.y0} y2={m.plot.y0} className="axis" />
          {m.xTicks.map((t) => (
            <text key={`x${t.label}${t.pos}`} x={t.pos} y={m.plot.y0 + 14} textAnchor="middle" className="tick">
              {t.label}
            </text>
          ))}
          <text x={(m.plot.x0 + m.plot.x1) / 2} y={m.height - 4} textAnchor="middle" className="label">
            {m.xLabel}
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
