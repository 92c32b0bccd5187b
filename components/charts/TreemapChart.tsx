'use client';
import { useMemo, useRef } from 'react';
import { formatCount } from '@/lib/charts/format-number';
import { treemapLayout, type TreeInput } from '@/lib/charts/treemap-layout';
import { useElementWidth } from '../ui/use-element-width';
import { ExportButtons } from '../ui/ExportButtons';

/** Parameters by module path; clicking a cell filters the tensor table to that path. */
export function TreemapChart({ tree, height = 320, onSelectPath, name }: { tree: TreeInput; height?: number; onSelectPath?: (path: string) => void; name: string }) {
  const [boxRef, width] = useElementWidth<HTMLDivElement>(800);
  const svgRef = useRef<SVGSVGElement | null>(null);
  const cells = useMemo(() => treemapLayout(tree, width, height, { maxDepth: 4 }), [tree, width, height]);
  const leaves = cells.filter((c) => c.leaf).length;
  return (
    <section className="card" data-testid="treemap">
      <div className="card-head">
        <h3>Parameters by module</h3>
        <span className="muted" data-testid="treemap-cells" data-leaves={leaves}>
          {formatCount(tree.params)} parameters · {leaves} cells
        </span>
        <ExportButtons svgRef={svgRef} name={`${name}-treemap`} />
      </div>
      <div ref={boxRef} className="chart-box">
        <svg ref={svgRef} width={width} height={height} role="img" aria-label="Treemap of parameters by module">
          {cells.map((c) => {
            const w = c.x1 - c.x0;
            const h = c.y1 - c.y0;
            return (
              <g key={c.path || c.name} transform={`translate(${c.x0},${c.y0})`} className={c.leaf ? 'tm-leaf' : 'tm-group'} onClick={(e) => {
                e.stopPropagation();
                onSelectPath?.(c.path);
              }}>
                <rect width={w} height={h} fill={c.color} fillOpacity={c.leaf ? 0.75 : 0.12} style={{ stroke: c.leaf ? 'var(--chart-bg)' : c.color }} strokeOpacity={c.leaf ? 1 : 0.6} />
                <title>{`${c.path || c.name}\n${formatCount(c.params)} parameters`}</title>
                {c.labelled && (
                  <text x={4} y={11} className={c.leaf ? 'tm-label' : 'tm-group-label'}>
                    {truncate(c.name, Math.floor(w / 6.5))}
                  </text>
                )}
              </g>
            );
          })}
        </svg>
      </div>
    </section>
  );
}

function truncate(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, Math.max(1, n - 1))}…`;
}
