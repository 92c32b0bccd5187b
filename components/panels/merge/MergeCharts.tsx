'use client';
import { interpolateRdBu, scaleBand, scaleLinear } from 'd3';
import { useMemo, useRef } from 'react';
import type { MergeAnalysis } from '@/lib/jobs/job-types';
import { ChartGrid } from '../../charts/ChartGrid';
import { ExportButtons } from '../../ui/ExportButtons';
import { useElementWidth } from '../../ui/use-element-width';

/** Per-layer cosine between each pair of models (and the task vectors), as a colour grid with values. */
export function SimilarityHeatmap({ analysis, name }: { analysis: MergeAnalysis; name: string }) {
  const [boxRef, width] = useElementWidth<HTMLDivElement>(520);
  const svgRef = useRef<SVGSVGElement | null>(null);
  const cols = useMemo(() => {
    const out: { label: string; values: number[]; l2: number[] }[] = [];
    const s = analysis.similarity;
    // Model names may be URLs: the file name is what a reader recognises.
    const short = (n: string | undefined) => (n ?? '').split('/').pop()!.replace(/\.safetensors$/, '');
    for (let i = 0; i < s.labels.length; i++)
      for (let j = i + 1; j < s.labels.length; j++) out.push({ label: `${short(s.labels[i])} · ${short(s.labels[j])}`, values: s.layers.map((l) => l.cosine[i]![j]!), l2: s.layers.map((l) => l.l2[i]![j]!) });
    if (analysis.taskCosine) {
      const t = analysis.taskCosine;
      out.push({ label: `τ(${short(t.labels[0])}) · τ(${short(t.labels[1])})`, values: t.layers.map((l) => l.cosine[0]![1]!), l2: t.layers.map((l) => l.l2[0]![1]!) });
    }
    return out;
  }, [analysis]);
  const rows = analysis.similarity.layers.map((l) => l.name);
  const left = 140;
  const cellH = 22;
  const height = 40 + rows.length * cellH;
  const x = scaleBand<number>().domain(cols.map((_, i) => i)).range([left, width - 8]).padding(0.05);
  return (
    <section className="card q-chart" data-testid="merge-heatmap" data-cols={cols.length}>
      <div className="card-head">
        <h4>Per-layer cosine</h4>
        <span className="muted small">blue = aligned (1), red = opposed (−1); hover for L2</span>
        <ExportButtons svgRef={svgRef} name={`${name}-layer-cosine`} />
      </div>
      <div ref={boxRef} className="chart-box">
        <svg ref={svgRef} width={width} height={height} role="img" aria-label="Per-layer cosine between models" className="sp-svg">
          {cols.map((c, ci) => (
            <text key={c.label} x={x(ci)! + x.bandwidth() / 2} y={14} textAnchor="middle" className="tick">
              {c.label.length > 40 ? `${c.label.slice(0, 38)}…` : c.label}
            </text>
          ))}
          {rows.map((r, ri) => (
            <g key={r}>
              <text x={left - 6} y={28 + ri * cellH + cellH / 2 + 3} textAnchor="end" className="tick">
                {r}
              </text>
              {cols.map((c, ci) => {
                const v = c.values[ri]!;
                return (
                  <g key={ci}>
                    <rect x={x(ci)} y={24 + ri * cellH} width={x.bandwidth()} height={cellH - 2} style={{ fill: Number.isFinite(v) ? interpolateRdBu((v + 1) / 2) : 'var(--chart-missing)' }}>
                      <title>{`${r}, ${c.label}: cosine ${v.toFixed(4)}, L2 ${c.l2[ri]!.toPrecision(4)}`}</title>
                    </rect>
                    <text x={x(ci)! + x.bandwidth() / 2} y={24 + ri * cellH + cellH / 2 + 3} textAnchor="middle" className="tick" data-testid="merge-cos">
                      {Number.isFinite(v) ? v.toFixed(3) : '—'}
                    </text>
                  </g>
                );
              })}
            </g>
          ))}
        </svg>
      </div>
    </section>
  );
}

/** The permutation of one group as a scatter i → π(i): the identity is the diagonal. */
export function PermutationScatter({ perm, group, name }: { perm: Int32Array; group: string; name: string }) {
  const [boxRef, width] = useElementWidth<HTMLDivElement>(320);
  const svgRef = useRef<SVGSVGElement | null>(null);
  const size = Math.min(width, 320);
  const plot = { x0: 36, x1: size - 8, y0: size - 26, y1: 8 };
  const s = scaleLinear().domain([0, Math.max(1, perm.length - 1)]).range([plot.x0, plot.x1]);
  const sy = scaleLinear().domain([0, Math.max(1, perm.length - 1)]).range([plot.y0, plot.y1]);
  let fixed = 0;
  for (let i = 0; i < perm.length; i++) if (perm[i] === i) fixed++;
  return (
    <section className="card q-chart" data-testid="merge-permutation" data-size={perm.length} data-fixed={fixed}>
      <div className="card-head">
        <h4>Permutation {group}</h4>
        <span className="muted small">
          unit i of the matched B is unit π(i) of B · {fixed} of {perm.length} fixed
        </span>
        <ExportButtons svgRef={svgRef} name={`${name}-perm-${group}`} />
      </div>
      <div ref={boxRef} className="chart-box">
        <svg ref={svgRef} width={size} height={size} role="img" aria-label={`Permutation of ${group}`} className="sp-svg">
          <line x1={s(0)} y1={sy(0)} x2={s(perm.length - 1)} y2={sy(perm.length - 1)} className="grid" />
          {Array.from(perm, (p, i) => (
            <circle key={i} cx={s(i)} cy={sy(p)} r={1.8} style={{ fill: 'var(--s1)' }} />
          ))}
          <rect x={plot.x0} y={plot.y1} width={plot.x1 - plot.x0} height={plot.y0 - plot.y1} className="sp-frame" />
          <text x={(plot.x0 + plot.x1) / 2} y={size - 6} textAnchor="middle" className="tick">i (position)</text>
          <text x={10} y={(plot.y0 + plot.y1) / 2} textAnchor="middle" className="tick" transform={`rotate(-90 10 ${(plot.y0 + plot.y1) / 2})`}>π(i)</text>
        </svg>
      </div>
    </section>
  );
}

/** TIES sign-conflict rate per tensor (bars). */
export function ConflictBars({ stats, name }: { stats: NonNullable<MergeAnalysis['mergeStats']>; name: string }) {
  const [boxRef, width] = useElementWidth<HTMLDivElement>(520);
  const svgRef = useRef<SVGSVGElement | null>(null);
  const rows = stats.filter((s) => s.signConflictRate !== undefined);
  const plot = { x0: 44, x1: width - 10, y0: 190, y1: 10 };
  const x = scaleBand<string>().domain(rows.map((r) => r.name)).range([plot.x0, plot.x1]).padding(0.2);
  const max = Math.max(0.01, ...rows.map((r) => r.signConflictRate ?? 0));
  const y = scaleLinear().domain([0, max]).nice().range([plot.y0, plot.y1]);
  return (
    <section className="card q-chart" data-testid="merge-conflicts" data-rows={rows.length}>
      <div className="card-head">
        <h4>TIES sign conflicts per tensor</h4>
        <span className="muted small">entries where the trimmed task vectors disagree in sign</span>
        <ExportButtons svgRef={svgRef} name={`${name}-ties-conflicts`} />
      </div>
      <div ref={boxRef} className="chart-box">
        <svg ref={svgRef} width={width} height={220} role="img" aria-label="TIES sign-conflict rate per tensor" className="sp-svg">
          <ChartGrid axis="y" ticks={y.ticks(4).map((v) => ({ pos: y(v), label: `${(v * 100).toFixed(1)}%` }))} plot={plot} />
          {rows.map((r) => (
            <g key={r.name}>
              <rect x={x(r.name)} y={y(r.signConflictRate!)} width={x.bandwidth()} height={plot.y0 - y(r.signConflictRate!)} className="bar" data-testid="merge-conflict-bar" data-rate={r.signConflictRate}>
                <title>{`${r.name}: ${((r.signConflictRate ?? 0) * 100).toFixed(2)}%`}</title>
              </rect>
              <text x={x(r.name)! + x.bandwidth() / 2} y={plot.y0 + 14} textAnchor="middle" className="tick">
                {r.name}
              </text>
            </g>
          ))}
        </svg>
      </div>
    </section>
  );
}
