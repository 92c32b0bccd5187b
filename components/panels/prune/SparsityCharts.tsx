'use client';
import { TableActions } from '../../ui/TableActions';
import { useChartKeys } from '@/components/charts/use-chart-keys';
import { useMemo, useRef } from 'react';
import { formatStat } from '@/lib/charts/format-number';
import { histogramChart } from '@/lib/charts/histogram-chart';
import { profilePath, sparsityChart, type SparsityInput } from '@/lib/charts/prune/sparsity-chart';
import { ChartGrid } from '../../charts/ChartGrid';
import { ExportButtons } from '../../ui/ExportButtons';
import { useElementWidth } from '../../ui/use-element-width';

/** Per-layer sparsity bars (achieved), target ticks and α dots; click a bar to select the layer. */
export function LayerSparsityChart({ layers, selected, onSelect, name }: { layers: SparsityInput[]; selected: string | null; onSelect(n: string): void; name: string }) {
  const [boxRef, width] = useElementWidth<HTMLDivElement>(640);
  const svgRef = useRef<SVGSVGElement | null>(null);
  const m = useMemo(() => sparsityChart(layers, width, 240), [layers, width]);
  const keys = useChartKeys({
    names: m.bars.map((b) => b.name),
    selected,
    onSelect,
    describe: (n) => {
      const b = m.bars.find((x) => x.name === n);
      return b ? `${n}: target ${(b.target * 100).toFixed(1)}%${b.achieved !== null ? `, achieved ${(b.achieved * 100).toFixed(1)}%` : ''}${b.alpha !== null ? `, α ${b.alpha.toFixed(2)}` : ''}` : n;
    },
  });
  return (
    <section className="card pr-card" data-testid="prune-layers" data-bars={m.bars.length}>
      <div className="card-head">
        <h4>Sparsity per layer</h4>
        <span className="muted small">bars: achieved · ticks: target{m.alphaTicks.length ? ' · dots: α (right axis)' : ''}</span>
        <TableActions
          table={(use) => {
            const pct = (v: number | null) => (v === null ? '' : use === 'tsv' ? String(v) : `${(v * 100).toFixed(2)}%`);
            return {
              header: ['layer', 'target sparsity', 'achieved sparsity', 'α'],
              numeric: [false, true, true, true],
              rows: layers.map((l) => [l.name, pct(l.target), pct(l.achieved), l.alpha === null ? '' : use === 'tsv' ? String(l.alpha) : l.alpha.toFixed(3)]),
            };
          }}
          title={`Sparsity per layer: ${name}`}
          testId="prune-layers-table"
        />
        <ExportButtons svgRef={svgRef} name={`${name}-layer-sparsity`} />
      </div>
      <div ref={boxRef} className="chart-box">
        <svg ref={svgRef} width={m.width} height={m.height} role="img" aria-label="Sparsity per layer; arrow keys select a layer" className="sp-svg" {...keys.props}>
          <ChartGrid axis="y" ticks={m.yTicks} plot={m.plot} />
          {m.bars.map((b) => (
            <g key={b.name} onClick={() => onSelect(b.name)} style={{ cursor: 'pointer' }} data-testid="prune-layer-bar" data-target={b.target} data-achieved={b.achieved} data-alpha={b.alpha ?? ''}>
              <rect x={b.x} y={b.y} width={b.width} height={b.height} className={b.name === selected ? 'bar bar-selected' : 'bar'}>
                <title>{`${b.name}: ${(b.achieved * 100).toFixed(2)}% removed (target ${(b.target * 100).toFixed(2)}%)${b.alpha !== null ? `, α ${formatStat(b.alpha)}` : ''}`}</title>
              </rect>
              <line x1={b.x - 1} x2={b.x + b.width + 1} y1={b.targetY} y2={b.targetY} className="q-rtn-tick" />
              {b.alphaY !== null && <circle cx={b.x + b.width / 2} cy={b.alphaY} r={3} className="pr-alpha" />}
            </g>
          ))}
          {m.alphaTicks.map((t) => (
            <text key={t.label} x={m.plot.x1 + 6} y={t.pos + 3} className="tick">
              {t.label}
            </text>
          ))}
          <line x1={m.plot.x0} x2={m.plot.x1} y1={m.plot.y0} y2={m.plot.y0} className="axis" />
          <text x={(m.plot.x0 + m.plot.x1) / 2} y={m.height - 4} textAnchor="middle" className="tick">layers in model order</text>
        </svg>
        {keys.live}
      </div>
    </section>
  );
}

/** Removed fraction per output row or per input column of the selected layer. */
export function ProfileChart({ values, what, name }: { values: Float32Array; what: 'row' | 'column'; name: string }) {
  const [boxRef, width] = useElementWidth<HTMLDivElement>(420);
  const svgRef = useRef<SVGSVGElement | null>(null);
  const m = useMemo(() => profilePath(values, width, 160), [values, width]);
  return (
    <section className="card pr-card" data-testid={`prune-profile-${what}`} data-mean={m.mean}>
      <div className="card-head">
        <h4>{what === 'row' ? 'Sparsity per output row' : 'Sparsity per input column'}</h4>
        <span className="muted small">{values.length} {what}s · mean {(m.mean * 100).toFixed(1)}%</span>
        <ExportButtons svgRef={svgRef} name={`${name}-${what}-sparsity`} />
      </div>
      <div ref={boxRef} className="chart-box">
        <svg ref={svgRef} width={width} height={160} role="img" aria-label={`Sparsity per ${what}`} className="sp-svg">
          <ChartGrid axis="y" ticks={m.yTicks} plot={m.plot} />
          <path d={m.path} fill="none" style={{ stroke: 'var(--s1)' }} strokeWidth={1.2} />
          <line x1={m.plot.x0} x2={m.plot.x1} y1={m.plot.y0} y2={m.plot.y0} className="axis" />
          <text x={m.plot.x1} y={m.plot.y0 + 14} textAnchor="end" className="tick">{`${what} index →`}</text>
        </svg>
      </div>
    </section>
  );
}

/** Histogram of the layer's scores with the cut: weights left of the line are removed. */
export function ScoreHistogram({ counts, lo, hi, logScores, threshold, name }: { counts: Uint32Array; lo: number; hi: number; logScores: boolean; threshold: number | null; name: string }) {
  const [boxRef, width] = useElementWidth<HTMLDivElement>(420);
  const svgRef = useRef<SVGSVGElement | null>(null);
  const m = useMemo(() => histogramChart(counts, lo, hi, width, 180, {}), [counts, lo, hi, width]);
  const tx = threshold !== null && hi > lo ? m.plot.x0 + ((threshold - lo) / (hi - lo)) * (m.plot.x1 - m.plot.x0) : null;
  return (
    <section className="card pr-card" data-testid="prune-scores" data-threshold={threshold ?? ''}>
      <div className="card-head">
        <h4>Scores{logScores ? ' (log₁₀)' : ''}</h4>
        <span className="muted small">{threshold !== null ? `cut at ${formatStat(logScores ? 10 ** threshold : threshold)}` : 'no single cut (N:M or per-row groups)'}</span>
        <ExportButtons svgRef={svgRef} name={`${name}-scores`} />
      </div>
      <div ref={boxRef} className="chart-box">
        <svg ref={svgRef} width={m.width} height={m.height} role="img" aria-label="Histogram of pruning scores" className="sp-svg">
          <ChartGrid axis="y" ticks={m.yTicks} plot={m.plot} />
          {m.bars.map((b, i) => (
            <rect key={i} x={b.x} y={b.y} width={b.width} height={b.height} className={tx !== null && b.hi <= threshold! ? 'bar pr-removed' : 'bar'} />
          ))}
          {tx !== null && <line x1={tx} x2={tx} y1={m.plot.y1} y2={m.plot.y0} className="q-dead" data-testid="prune-threshold" />}
          <line x1={m.plot.x0} x2={m.plot.x1} y1={m.plot.y0} y2={m.plot.y0} className="axis" />
          {m.xTicks.map((t) => (
            <text key={t.label} x={t.pos} y={m.plot.y0 + 14} textAnchor="middle" className="tick">
              {t.label}
            </text>
          ))}
        </svg>
      </div>
    </section>
  );
}
