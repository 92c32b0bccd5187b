'use client';
import { canvasUrl } from '@/components/charts/canvas-url';
import { zoomKeys } from '@/components/charts/use-chart-keys';
import { useMemo, useRef, useState } from 'react';
import { formatStat } from '@/lib/charts/format-number';
import { mapRgba, type MapKind, type MapScale } from '@/lib/charts/quant/map-image';
import type { QuantMaps } from '@/lib/jobs/job-types';
import { ExportButtons } from '../../ui/ExportButtons';
import { useElementWidth } from '../../ui/use-element-width';

/** Cells shown by the zoomed inset (rows × sub-vectors), one screen block per cell. */
export const ZOOM_ROWS = 32;
export const ZOOM_COLS = 64;

const TITLES: Record<MapKind, string> = {
  assign: 'Assignment map',
  error: 'Error per sub-vector',
  ambiguity: 'VQ4DiT ambiguity d₁/d₂',
};

/**
 * One of the three aligned maps of a quantized layer: the overview (whole layer, rows down,
 * sub-vectors across; downsampled by the worker for very large layers) and, once the user clicks
 * a spot, the zoomed inset around it at exact cells. The three maps share the zoom centre, so
 * the same sub-vectors line up across them. Painted to canvas, embedded in the SVG so the
 * export carries the image.
 */
export function QuantMapCard({
  kind, maps, colors, scale, zoom, onZoom, name, layer, legend,
}: {
  kind: MapKind;
  maps: QuantMaps;
  colors: Uint8Array | null;
  scale: MapScale;
  zoom: { row: number; col: number } | null;
  onZoom(z: { row: number; col: number } | null): void;
  name: string;
  layer: string;
  legend: string;
}) {
  const [boxRef, width] = useElementWidth<HTMLDivElement>(480);
  const svgRef = useRef<SVGSVGElement | null>(null);
  const [hover, setHover] = useState<string | null>(null);
  const overview = useMemo(() => canvasUrl(mapRgba(maps, kind, colors, scale), maps.width, maps.height), [maps, kind, colors, scale]);
  // Zoom region: cells in map coordinates (map cells are downsampled blocks when !exact).
  const region = useMemo(() => {
    if (!zoom) return null;
    const h = Math.min(ZOOM_ROWS, maps.height);
    const w = Math.min(ZOOM_COLS, maps.width);
    const r0 = Math.max(0, Math.min(maps.height - h, Math.floor(zoom.row / maps.fy) - (h >> 1)));
    const c0 = Math.max(0, Math.min(maps.width - w, Math.floor(zoom.col / maps.fx) - (w >> 1)));
    return { r0, c0, h, w, href: canvasUrl(mapRgba(maps, kind, colors, scale, r0, c0, h, w), w, h) };
  }, [zoom, maps, kind, colors, scale]);

  const pad = { l: 40, t: 6, b: 22 };
  const avail = Math.max(120, width - pad.l - 8);
  // The overview fills the card's width; cells need not be square (a 50k-row embedding would be a thread).
  const ovW = avail;
  const ovH = Math.round(Math.max(60, Math.min(320, (ovW * maps.height) / maps.width)));
  const zH = region ? Math.round(Math.max(60, Math.min(240, (ovW * region.h) / region.w))) : 0;
  const height = pad.t + ovH + pad.b + (region ? zH + pad.b + 6 : 0);
  const zy = pad.t + ovH + pad.b;

  const cellAt = (ev: React.MouseEvent, x0: number, y0: number, w: number, h: number, cw: number, ch: number, r0: number, c0: number) => {
    const rect = (ev.currentTarget as SVGElement).ownerSVGElement!.getBoundingClientRect();
    const px = ev.clientX - rect.left - x0;
    const py = ev.clientY - rect.top - y0;
    if (px < 0 || py < 0 || px >= w || py >= h) return null;
    return { r: r0 + Math.floor((py / h) * ch), c: c0 + Math.floor((px / w) * cw) };
  };
  const describe = (r: number, c: number): string => {
    const i = r * maps.width + c;
    const rows = maps.fy === 1 ? `row ${r}` : `rows ${r * maps.fy}–${(r + 1) * maps.fy - 1}`;
    const cols = maps.fx === 1 ? `sub-vector ${c}` : `sub-vectors ${c * maps.fx}–${(c + 1) * maps.fx - 1}`;
    const parts = [rows, cols];
    if (maps.assign) parts.push(`codeword ${maps.assign[i]}`);
    parts.push(`err² ${formatStat(maps.error[i] ?? NaN)}`);
    if (maps.ratio) parts.push(`d₁/d₂ ${formatStat(maps.ratio[i] ?? NaN)}`);
    return parts.join(' · ');
  };

  return (
    <section className="card q-map" data-testid={`quant-map-${kind}`} data-exact={maps.exact ? '1' : '0'} data-zoomed={region ? '1' : '0'}>
      <div className="card-head">
        <h4>{TITLES[kind]}</h4>
        <span className="muted small">{legend}</span>
        {region && (
          <button type="button" className="btn btn-small" onClick={() => onZoom(null)}>
            Close zoom
          </button>
        )}
        <ExportButtons svgRef={svgRef} name={`${name}-${kind}`} />
      </div>
      <div ref={boxRef} className="chart-box">
        <svg ref={svgRef} width={width} height={height} role="img" aria-label={`${TITLES[kind]} of ${layer}; Enter zooms, arrow keys move the zoom, Escape closes it`} className="sp-svg" {...zoomKeys(zoom, onZoom, maps.height * maps.fy, maps.width * maps.fx, { rows: (ZOOM_ROWS >> 1) * maps.fy, cols: (ZOOM_COLS >> 1) * maps.fx })}>
          {overview && (
            <image
              href={overview}
              x={pad.l}
              y={pad.t}
              width={ovW}
              height={ovH}
              preserveAspectRatio="none"
              style={{ imageRendering: 'pixelated', cursor: 'crosshair' }}
              onClick={(ev) => {
                const cell = cellAt(ev, pad.l, pad.t, ovW, ovH, maps.width, maps.height, 0, 0);
                if (cell) onZoom({ row: cell.r * maps.fy, col: cell.c * maps.fx });
              }}
              onMouseMove={(ev) => {
                const cell = cellAt(ev, pad.l, pad.t, ovW, ovH, maps.width, maps.height, 0, 0);
                setHover(cell ? describe(cell.r, cell.c) : null);
              }}
              data-testid="quant-map-overview"
            />
          )}
          <rect x={pad.l} y={pad.t} width={ovW} height={ovH} className="sp-frame" />
          {region && (
            <rect
              x={pad.l + (region.c0 / maps.width) * ovW}
              y={pad.t + (region.r0 / maps.height) * ovH}
              width={Math.max(2, (region.w / maps.width) * ovW)}
              height={Math.max(2, (region.h / maps.height) * ovH)}
              className="q-zoom-box"
            />
          )}
          <text x={pad.l - 4} y={pad.t + 10} textAnchor="end" className="tick">0</text>
          <text x={pad.l - 4} y={pad.t + ovH} textAnchor="end" className="tick">{maps.height * maps.fy}</text>
          <text x={pad.l} y={pad.t + ovH + 14} className="tick">
            {`rows × sub-vectors${maps.exact ? '' : ` (downsampled ${maps.fy}×${maps.fx})`}; click to zoom`}
          </text>
          {region && (
            <>
              <image
                href={region.href}
                x={pad.l}
                y={zy}
                width={ovW}
                height={zH}
                preserveAspectRatio="none"
                style={{ imageRendering: 'pixelated' }}
                onMouseMove={(ev) => {
                  const cell = cellAt(ev, pad.l, zy, ovW, zH, region.w, region.h, region.r0, region.c0);
                  setHover(cell ? describe(cell.r, cell.c) : null);
                }}
                data-testid="quant-map-zoom"
              />
              <rect x={pad.l} y={zy} width={ovW} height={zH} className="sp-frame" />
              <text x={pad.l - 4} y={zy + 10} textAnchor="end" className="tick">{region.r0 * maps.fy}</text>
              <text x={pad.l} y={zy + zH + 14} className="tick">
                {`zoom: rows ${region.r0 * maps.fy}–${(region.r0 + region.h) * maps.fy - 1}, sub-vectors ${region.c0 * maps.fx}–${(region.c0 + region.w) * maps.fx - 1}${maps.exact ? ', one pixel block per sub-vector' : ''}`}
              </text>
            </>
          )}
        </svg>
        <div className="muted small mono q-hover" data-testid="quant-map-hover">{hover ?? '\u00a0'}</div>
      </div>
    </section>
  );
}
