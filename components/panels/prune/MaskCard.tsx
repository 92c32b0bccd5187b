'use client';
import { zoomKeys } from '@/components/charts/use-chart-keys';
import { useMemo, useRef } from 'react';
import { maskImage } from '@/lib/charts/prune/mask-image';
import type { Mask } from '@/lib/jobs/job-types';
import { ExportButtons } from '../../ui/ExportButtons';
import { useElementWidth } from '../../ui/use-element-width';
import { canvasUrl } from '@/components/charts/canvas-url';

/** Weights per side of the zoomed inset: exact pixels, one per weight. */
export const MASK_ZOOM_ROWS = 48;
export const MASK_ZOOM_COLS = 128;

/**
 * The keep-mask of the selected layer (rows = output channels, columns = input weights): kept
 * density per pixel in the overview, exact weights in the zoomed inset around a clicked spot.
 */
export function MaskCard({ mask, zoom, onZoom, name, layer, sparsity }: { mask: Mask; zoom: { row: number; col: number } | null; onZoom(z: { row: number; col: number } | null): void; name: string; layer: string; sparsity: number }) {
  const [boxRef, width] = useElementWidth<HTMLDivElement>(640);
  const svgRef = useRef<SVGSVGElement | null>(null);
  const pad = { l: 44, t: 6, b: 22 };
  const ovW = Math.max(120, width - pad.l - 8);
  const overview = useMemo(() => {
    const img = maskImage(mask, Math.floor(ovW), 320);
    return { ...img, href: canvasUrl(img.rgba, img.width, img.height) };
  }, [mask, ovW]);
  const region = useMemo(() => {
    if (!zoom) return null;
    const h = Math.min(MASK_ZOOM_ROWS, mask.rows);
    const w = Math.min(MASK_ZOOM_COLS, mask.cols);
    const r0 = Math.max(0, Math.min(mask.rows - h, zoom.row - (h >> 1)));
    const c0 = Math.max(0, Math.min(mask.cols - w, zoom.col - (w >> 1)));
    const img = maskImage(mask, w, h, r0, c0, h, w);
    return { r0, c0, h, w, href: canvasUrl(img.rgba, img.width, img.height) };
  }, [zoom, mask]);
  const ovH = Math.round(Math.max(60, Math.min(320, (ovW * mask.rows) / mask.cols)));
  const zH = region ? Math.round(Math.max(60, Math.min(240, (ovW * region.h) / region.w))) : 0;
  const zy = pad.t + ovH + pad.b;
  const height = zy + (region ? zH + pad.b : 0);
  return (
    <section className="card pr-card" data-testid="prune-mask" data-zoomed={region ? '1' : '0'} data-exact={overview.fx === 1 && overview.fy === 1 ? '1' : '0'}>
      <div className="card-head">
        <h4>Mask</h4>
        <span className="muted small">
          {mask.rows} × {mask.cols} (out × in) · {(sparsity * 100).toFixed(1)}% removed · dark = kept{overview.fx > 1 || overview.fy > 1 ? ` · density of ${overview.fy}×${overview.fx} blocks` : ''}
        </span>
        {region && (
          <button type="button" className="btn btn-small" onClick={() => onZoom(null)}>
            Close zoom
          </button>
        )}
        <ExportButtons svgRef={svgRef} name={`${name}-mask`} />
      </div>
      <div ref={boxRef} className="chart-box">
        <svg ref={svgRef} width={width} height={height} role="img" aria-label={`Pruning mask of ${layer}; Enter zooms, arrow keys move the zoom, Escape closes it`} className="sp-svg" {...zoomKeys(zoom, onZoom, mask.rows, mask.cols, { rows: MASK_ZOOM_ROWS >> 1, cols: MASK_ZOOM_COLS >> 1 })}>
          <image
            href={overview.href}
            x={pad.l}
            y={pad.t}
            width={ovW}
            height={ovH}
            preserveAspectRatio="none"
            style={{ imageRendering: 'pixelated', cursor: 'crosshair' }}
            data-testid="prune-mask-overview"
            onClick={(ev) => {
              const rect = (ev.currentTarget as SVGElement).ownerSVGElement!.getBoundingClientRect();
              const px = (ev.clientX - rect.left - pad.l) / ovW;
              const py = (ev.clientY - rect.top - pad.t) / ovH;
              if (px >= 0 && px < 1 && py >= 0 && py < 1) onZoom({ row: Math.floor(py * mask.rows), col: Math.floor(px * mask.cols) });
            }}
          />
          <rect x={pad.l} y={pad.t} width={ovW} height={ovH} className="sp-frame" />
          {region && <rect x={pad.l + (region.c0 / mask.cols) * ovW} y={pad.t + (region.r0 / mask.rows) * ovH} width={Math.max(2, (region.w / mask.cols) * ovW)} height={Math.max(2, (region.h / mask.rows) * ovH)} className="q-zoom-box" />}
          <text x={pad.l - 4} y={pad.t + 10} textAnchor="end" className="tick">0</text>
          <text x={pad.l - 4} y={pad.t + ovH} textAnchor="end" className="tick">{mask.rows}</text>
          <text x={pad.l} y={pad.t + ovH + 14} className="tick">output rows × input weights; click to zoom</text>
          {region && (
            <>
              <image href={region.href} x={pad.l} y={zy} width={ovW} height={zH} preserveAspectRatio="none" style={{ imageRendering: 'pixelated' }} data-testid="prune-mask-zoom" />
              <rect x={pad.l} y={zy} width={ovW} height={zH} className="sp-frame" />
              <text x={pad.l} y={zy + zH + 14} className="tick">{`zoom: rows ${region.r0}–${region.r0 + region.h - 1}, inputs ${region.c0}–${region.c0 + region.w - 1}, one pixel block per weight`}</text>
            </>
          )}
        </svg>
      </div>
    </section>
  );
}
