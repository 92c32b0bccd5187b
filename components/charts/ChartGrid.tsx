import type { Tick } from '@/lib/charts/spectra/log-ticks';

type Plot = { x0: number; x1: number; y0: number; y1: number };

/**
 * Grid lines with their tick labels across the plot area: horizontal lines labelled on the left
 * for the y axis, vertical lines labelled below for the x axis. Shared so every chart's grid
 * looks (and exports) the same.
 */
export function ChartGrid({ axis, ticks, plot }: { axis: 'x' | 'y'; ticks: readonly Tick[]; plot: Plot }) {
  if (axis === 'y') {
    return (
      <>
        {ticks.map((t) => (
          <g key={`y${t.label}`}>
            <line x1={plot.x0} x2={plot.x1} y1={t.pos} y2={t.pos} className="grid" />
            <text x={plot.x0 - 6} y={t.pos + 3} textAnchor="end" className="tick">
              {t.label}
            </text>
          </g>
        ))}
      </>
    );
  }
  return (
    <>
      {ticks.map((t) => (
        <g key={`x${t.label}`}>
          <line x1={t.pos} x2={t.pos} y1={plot.y1} y2={plot.y0} className="grid" />
          <text x={t.pos} y={plot.y0 + 14} textAnchor="middle" className="tick">
            {t.label}
          </text>
        </g>
      ))}
    </>
  );
}
