import { scaleLinear } from 'd3';
import type { Tick } from '../spectra/log-ticks';

/**
 * Rate–distortion plot: SQNR (dB, up is better) against bits per weight (all parts counted), one
 * line per family (RTN; VQ for each d), the current setting as a ring. Points with an infinite
 * SQNR (exact reconstruction) are drawn on the top edge.
 */

export interface RdInputPoint {
  family: string;
  label: string;
  bpw: number;
  sqnrDb: number;
}

export interface RdChartModel {
  width: number;
  height: number;
  plot: { x0: number; x1: number; y0: number; y1: number };
  series: { family: string; path: string; points: { x: number; y: number; label: string; bpw: number; sqnrDb: number }[] }[];
  current: { x: number; y: number } | null;
  /** Points beyond the x range (codebook overhead on a small layer), listed rather than squashing the axis. */
  clipped: RdInputPoint[];
  xTicks: Tick[];
  yTicks: Tick[];
}

/** The x axis ends here (or just past the current setting): RTN's 8-bit point is at 8.25. */
export const RD_MAX_BPW = 9;

export function rdChart(allPoints: readonly RdInputPoint[], current: { bpw: number; sqnrDb: number } | null, width: number, height: number): RdChartModel {
  const plot = { x0: 52, x1: width - 12, y0: height - 32, y1: 10 };
  const xLimit = Math.max(RD_MAX_BPW, current ? current.bpw + 0.5 : 0);
  const points = allPoints.filter((p) => p.bpw <= xLimit);
  const clipped = allPoints.filter((p) => p.bpw > xLimit);
  const all = current ? [...points, { bpw: current.bpw, sqnrDb: current.sqnrDb }] : [...points];
  const finite = all.map((p) => p.sqnrDb).filter(Number.isFinite);
  const xMax = Math.max(1, ...all.map((p) => p.bpw).filter(Number.isFinite));
  const yLo = Math.min(0, ...finite);
  const yHi = Math.max(10, ...finite);
  const x = scaleLinear().domain([0, xMax * 1.05]).nice().range([plot.x0, plot.x1]);
  const y = scaleLinear().domain([yLo, yHi]).nice().range([plot.y0, plot.y1]);
  const py = (v: number) => (Number.isFinite(v) ? y(v) : plot.y1);
  const fams = [...new Set(points.map((p) => p.family))];
  const series = fams.map((family) => {
    const pts = points
      .filter((p) => p.family === family)
      .sort((a, b) => a.bpw - b.bpw)
      .map((p) => ({ x: x(p.bpw), y: py(p.sqnrDb), label: p.label, bpw: p.bpw, sqnrDb: p.sqnrDb }));
    return { family, points: pts, path: pts.map((p, i) => `${i ? 'L' : 'M'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join('') };
  });
  return {
    width,
    height,
    plot,
    series,
    current: current ? { x: x(current.bpw), y: py(current.sqnrDb) } : null,
    clipped,
    xTicks: x.ticks(8).map((v) => ({ pos: x(v), label: String(v) })),
    yTicks: y.ticks(6).map((v) => ({ pos: y(v), label: String(v) })),
  };
}
