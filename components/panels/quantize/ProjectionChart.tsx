'use client';
import { Delaunay, extent, scaleLinear } from 'd3';
import { useMemo, useRef } from 'react';
import type { Projection } from '@/lib/jobs/job-types';
import { ExportButtons } from '../../ui/ExportButtons';
import { useElementWidth } from '../../ui/use-element-width';

/**
 * A sample of sub-vectors (dots, in their codeword's colour) and the codewords (crosses) on the
 * two leading principal axes; for d = 2 the raw plane with the exact Voronoi cells of the
 * codebook (each cell is where the nearest-codeword search sends a sub-vector).
 */
export function ProjectionChart({ projection, colors, name }: { projection: Projection; colors: Uint8Array | null; name: string }) {
  const [boxRef, width] = useElementWidth<HTMLDivElement>(420);
  const svgRef = useRef<SVGSVGElement | null>(null);
  const size = Math.min(width, 420);
  const m = useMemo(() => {
    const p = projection;
    const plot = { x0: 36, x1: size - 8, y0: size - 28, y1: 8 };
    const xs: number[] = [];
    const ys: number[] = [];
    for (let i = 0; i < p.points.length; i += 2) {
      xs.push(p.points[i]!);
      ys.push(p.points[i + 1]!);
    }
    for (let i = 0; i < p.codewords.length; i += 2) {
      xs.push(p.codewords[i]!);
      if (p.mode !== 'value') ys.push(p.codewords[i + 1]!);
    }
    const [xa = -1, xb = 1] = extent(xs);
    const [ya = -1, yb = 1] = extent(ys);
    const padX = (xb - xa || 1) * 0.05;
    const padY = (yb - ya || 1) * 0.05;
    const x = scaleLinear().domain([xa - padX, xb + padX]).range([plot.x0, plot.x1]);
    const y = scaleLinear().domain([ya - padY, yb + padY]).range([plot.y0, plot.y1]);
    const dots = [];
    for (let i = 0; i < p.points.length / 2; i++) dots.push({ x: x(p.points[2 * i]!), y: y(p.points[2 * i + 1]!), c: p.pointAssign[i]! });
    const k = p.codewords.length / 2;
    const cw = [];
    for (let j = 0; j < k; j++) cw.push({ x: x(p.codewords[2 * j]!), y: p.mode === 'value' ? (plot.y0 + plot.y1) / 2 : y(p.codewords[2 * j + 1]!) });
    let cells: string[] = [];
    if (p.mode === 'raw' && k >= 2 && k <= 4096) {
      // Cells in data space (exact), mapped to pixels: an affine map keeps each polygon a polygon.
      const v = Delaunay.from(cw, (c) => c.x, (c) => c.y).voronoi([plot.x0, plot.y1, plot.x1, plot.y0]);
      cells = cw.map((_, j) => v.renderCell(j));
    }
    return { plot, dots, cw, cells, x, y };
  }, [projection, size]);
  const rgb = (j: number) => (colors ? `rgb(${colors[j * 3]},${colors[j * 3 + 1]},${colors[j * 3 + 2]})` : 'var(--chart-neutral)');
  const p = projection;
  const axisX = p.mode === 'pca' ? `PC1 (${(p.explained[0] * 100).toFixed(0)}% of variance)` : p.mode === 'raw' ? 'w[0]' : 'weight value';
  const axisY = p.mode === 'pca' ? `PC2 (${(p.explained[1] * 100).toFixed(0)}%)` : p.mode === 'raw' ? 'w[1]' : 'jitter';
  return (
    <section className="card q-chart" data-testid="quant-projection" data-mode={p.mode} data-cells={m.cells.length}>
      <div className="card-head">
        <h4>{p.mode === 'raw' ? 'Sub-vectors, codewords and Voronoi cells' : p.mode === 'pca' ? 'PCA projection of sub-vectors' : 'Values and codewords'}</h4>
        <span className="muted small">
          {p.points.length / 2} sampled sub-vectors · {p.codewords.length / 2} codewords{p.mode === 'raw' ? ' · exact cells (d = 2)' : ''}
        </span>
        <ExportButtons svgRef={svgRef} name={`${name}-projection`} />
      </div>
      <div ref={boxRef} className="chart-box">
        <svg ref={svgRef} width={size} height={size} role="img" className="sp-svg" aria-label="Projection of sub-vectors and codewords">
          {m.cells.map((d, j) => (
            <path key={`c${j}`} d={d} className="q-cell" />
          ))}
          {m.dots.map((d, i) => (
            <circle key={i} cx={d.x} cy={d.y} r={1.6} style={{ fill: rgb(d.c) }} opacity={0.7} />
          ))}
          {m.cw.map((c, j) => (
            <path key={`w${j}`} d={`M${c.x - 3},${c.y}h6M${c.x},${c.y - 3}v6`} className="q-codeword" />
          ))}
          <rect x={m.plot.x0} y={m.plot.y1} width={m.plot.x1 - m.plot.x0} height={m.plot.y0 - m.plot.y1} className="sp-frame" />
          <text x={(m.plot.x0 + m.plot.x1) / 2} y={size - 8} textAnchor="middle" className="tick">{axisX}</text>
          <text x={12} y={(m.plot.y0 + m.plot.y1) / 2} textAnchor="middle" className="tick" transform={`rotate(-90 12 ${(m.plot.y0 + m.plot.y1) / 2})`}>
            {axisY}
          </text>
        </svg>
      </div>
    </section>
  );
}
