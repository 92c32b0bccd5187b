'use client';
import { useMemo, useRef } from 'react';
import { formatStat } from '@/lib/charts/format-number';
import type { FitCandidates } from '@/lib/charts/spectra/fit-candidates';
import { fitRobustnessChart } from '@/lib/charts/spectra/fit-robustness-chart';
import { ExportButtons } from '../ui/ExportButtons';
import { useElementWidth } from '../ui/use-element-width';

/** α (left) and KS distance D (right) against candidate xmin; the fit's xmin and the D minimum marked. */
export function FitRobustnessChart({ candidates, chosen, name, layer, height = 240 }: { candidates: FitCandidates; chosen: { xmin: number; alpha: number } | null; name: string; layer: string; height?: number }) {
  const [boxRef, width] = useElementWidth<HTMLDivElement>(420);
  const svgRef = useRef<SVGSVGElement | null>(null);
  const m = useMemo(() => fitRobustnessChart(candidates, chosen, width, height), [candidates, chosen, width, height]);
  return (
    <section className="card sp-chart" data-testid="fit-robustness-chart" data-candidates={candidates.xmin.length}>
      <div className="card-head">
        <h4>Fit robustness</h4>
        <span className="muted small">
          <span className="sp-key sp-alpha">—</span> α <span className="sp-key sp-d">—</span> D{candidates.sampled ? ` (${candidates.xmin.length} of ${candidates.n - 1} candidates)` : ''}
        </span>
        <ExportButtons svgRef={svgRef} name={`${name}-fit-robustness`} />
      </div>
      <div ref={boxRef} className="chart-box">
        <svg ref={svgRef} width={m.width} height={m.height} role="img" aria-label={`Alpha and D against xmin for ${layer}`} className="sp-svg">
          {m.alphaTicks.map((t) => (
            <g key={`a${t.label}`}>
              <line x1={m.plot.x0} x2={m.plot.x1} y1={t.pos} y2={t.pos} className="grid" />
              <text x={m.plot.x0 - 6} y={t.pos + 3} textAnchor="end" className="tick sp-alpha-text">
                {t.label}
              </text>
            </g>
          ))}
          {m.dTicks.map((t) => (
            <text key={`d${t.label}`} x={m.plot.x1 + 6} y={t.pos + 3} className="tick sp-d-text">
              {t.label}
            </text>
          ))}
          {m.xTicks.map((t) => (
            <text key={`x${t.label}`} x={t.pos} y={m.plot.y0 + 14} textAnchor="middle" className="tick">
              {t.label}
            </text>
          ))}
          {m.chosen && (
            <line x1={m.chosen.x} x2={m.chosen.x} y1={m.plot.y1} y2={m.plot.y0} className="sp-xmin" data-testid="robustness-xmin">
              <title>{`fit xmin = ${formatStat(m.chosen.xmin)}, α = ${m.chosen.alpha.toFixed(3)}`}</title>
            </line>
          )}
          <path d={m.alphaPath} className="sp-line sp-alpha" />
          <path d={m.dPath} className="sp-line sp-d" />
          {m.best && (
            <circle cx={m.best.x} cy={m.best.y} r={4} className="sp-d sp-pt hollow">
              <title>{`smallest D = ${m.best.D.toFixed(4)} at xmin = ${formatStat(m.best.xmin)}`}</title>
            </circle>
          )}
          <line x1={m.plot.x0} x2={m.plot.x1} y1={m.plot.y0} y2={m.plot.y0} className="axis" />
          <text x={(m.plot.x0 + m.plot.x1) / 2} y={m.height - 4} textAnchor="middle" className="label">
            candidate xmin
          </text>
        </svg>
      </div>
    </section>
  );
}
