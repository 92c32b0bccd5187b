'use client';
import { canvasUrl } from './canvas-url';
import { useMemo, useRef } from 'react';
import { formatStat } from '@/lib/charts/format-number';
import type { AbsHeatmap } from '@/lib/charts/spectra/abs-heatmap';
import type { WindowRect } from '@/lib/charts/spectra/farms-window-rects';
import { heatmapChart, heatmapRgba } from '@/lib/charts/spectra/heatmap-chart';
import { ExportButtons } from '../ui/ExportButtons';
import { useElementWidth } from '../ui/use-element-width';

/**
 * |W| of the selected matrix (downsampled by the worker) with the FARMS windows on top. The image
 * is painted once on a canvas and embedded in the SVG as a data URL, so SVG/PNG export carry it.
 */
export function MatrixHeatmap({ heatmap, windows, name, layer }: { heatmap: AbsHeatmap; windows: WindowRect[]; name: string; layer: string }) {
  const [boxRef, width] = useElementWidth<HTMLDivElement>(420);
  const svgRef = useRef<SVGSVGElement | null>(null);
  const m = useMemo(() => heatmapChart(heatmap, windows, width), [heatmap, windows, width]);
  const href = useMemo(() => canvasUrl(heatmapRgba(heatmap), heatmap.width, heatmap.height), [heatmap]);
  return (
    <section className="card sp-chart" data-testid="matrix-heatmap" data-windows={windows.length}>
      <div className="card-head">
        <h4>|W| and FARMS windows</h4>
        <span className="muted small">
          {heatmap.rows} × {heatmap.cols} (out × in·k) · {windows.length} windows
        </span>
        <ExportButtons svgRef={svgRef} name={`${name}-heatmap`} />
      </div>
      <div ref={boxRef} className="chart-box">
        <svg ref={svgRef} width={m.width} height={m.height} role="img" aria-label={`Weight magnitudes of ${layer}`} className="sp-svg">
          {href && <image href={href} x={m.image.x} y={m.image.y} width={m.image.width} height={m.image.height} preserveAspectRatio="none" style={{ imageRendering: 'pixelated' }} />}
          <rect x={m.image.x} y={m.image.y} width={m.image.width} height={m.image.height} className="sp-frame" />
          {m.windows.map((w, i) => (
            <rect key={i} x={w.x} y={w.y} width={w.width} height={w.height} className="sp-window" data-testid="farms-window" />
          ))}
          <text x={m.image.x - 4} y={m.image.y + 10} textAnchor="end" className="tick">
            0
          </text>
          <text x={m.image.x - 4} y={m.image.y + m.image.height} textAnchor="end" className="tick">
            {m.rows}
          </text>
          <text x={m.image.x + m.image.width} y={m.image.y + m.image.height + 14} textAnchor="end" className="tick">
            {m.cols}
          </text>
          <text x={m.image.x} y={m.image.y + m.image.height + 14} className="tick">
            {`mean |w| per pixel, white ≥ ${formatStat(heatmap.scale)}`}
          </text>
        </svg>
      </div>
    </section>
  );
}
