import { interpolateInferno } from 'd3';
import type { AbsHeatmap } from './abs-heatmap';
import type { WindowRect } from './farms-window-rects';

/**
 * Layout of the |W| heatmap and the FARMS windows drawn over it. The matrix keeps its aspect ratio
 * where it can; a very wide or tall one is squeezed into [MIN, MAX] height (the axis labels keep
 * the true sizes).
 */

export const HEATMAP_MIN_HEIGHT = 90;
export const HEATMAP_MAX_HEIGHT = 230;

export interface HeatmapChartModel {
  width: number;
  height: number;
  image: { x: number; y: number; width: number; height: number };
  windows: { x: number; y: number; width: number; height: number }[];
  rows: number;
  cols: number;
}

export function heatmapChart(h: Pick<AbsHeatmap, 'rows' | 'cols'>, windows: readonly WindowRect[], width: number): HeatmapChartModel {
  const left = 46;
  const top = 8;
  const bottom = 26;
  const w = Math.max(40, width - left - 10);
  const hh = Math.min(HEATMAP_MAX_HEIGHT, Math.max(HEATMAP_MIN_HEIGHT, (w * h.rows) / h.cols));
  const sx = w / h.cols;
  const sy = hh / h.rows;
  return {
    width,
    height: top + hh + bottom,
    image: { x: left, y: top, width: w, height: hh },
    windows: windows.map((r) => ({ x: left + r.col * sx, y: top + r.row * sy, width: r.cols * sx, height: r.rows * sy })),
    rows: h.rows,
    cols: h.cols,
  };
}

/** RGBA for the 256 pixel levels (inferno: dark = small |w|). */
export function heatmapPalette(): Uint8ClampedArray {
  const p = new Uint8ClampedArray(256 * 4);
  for (let i = 0; i < 256; i++) {
    const c = interpolateInferno(i / 255);
    const m = /rgb\((\d+), ?(\d+), ?(\d+)\)/.exec(c) ?? /#(..)(..)(..)/.exec(c);
    const parse = (s: string) => (c.startsWith('#') ? parseInt(s, 16) : Number(s));
    p[i * 4] = m ? parse(m[1]!) : i;
    p[i * 4 + 1] = m ? parse(m[2]!) : i;
    p[i * 4 + 2] = m ? parse(m[3]!) : i;
    p[i * 4 + 3] = 255;
  }
  return p;
}

/** The heatmap as RGBA pixels for a canvas ImageData. */
export function heatmapRgba(h: Pick<AbsHeatmap, 'width' | 'height' | 'pixels'>, palette = heatmapPalette()): Uint8ClampedArray {
  const out = new Uint8ClampedArray(h.width * h.height * 4);
  for (let i = 0; i < h.pixels.length; i++) out.set(palette.subarray(h.pixels[i]! * 4, h.pixels[i]! * 4 + 4), i * 4);
  return out;
}
