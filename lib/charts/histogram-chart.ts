import { scaleLinear } from 'd3';

/** A histogram as bars and ticks in pixel space, for an SVG drawn by components/charts. */

export interface HistogramBar {
  x: number;
  y: number;
  width: number;
  height: number;
  count: number;
  lo: number;
  hi: number;
}

export interface Tick {
  pos: number;
  label: string;
}

export interface HistogramChartModel {
  width: number;
  height: number;
  margin: { top: number; right: number; bottom: number; left: number };
  bars: HistogramBar[];
  xTicks: Tick[];
  yTicks: Tick[];
  /** Baseline y and plot extent, for the axes. */
  plot: { x0: number; x1: number; y0: number; y1: number };
  logY: boolean;
}

export function histogramChart(
  counts: ArrayLike<number>,
  lo: number,
  hi: number,
  width: number,
  height: number,
  opts: { logY?: boolean } = {},
): HistogramChartModel {
  const margin = { top: 8, right: 12, bottom: 28, left: 52 };
  const plot = { x0: margin.left, x1: width - margin.right, y0: height - margin.bottom, y1: margin.top };
  const n = counts.length;
  const logY = opts.logY ?? false;
  const span = hi > lo ? hi - lo : 1;
  const x = scaleLinear().domain([lo, lo + span]).range([plot.x0, plot.x1]);
  let maxCount = 0;
  for (let i = 0; i < n; i++) maxCount = Math.max(maxCount, counts[i]!);
  const tf = (c: number) => (logY ? Math.log10(1 + c) : c);
  const y = scaleLinear().domain([0, Math.max(1e-9, tf(maxCount))]).nice().range([plot.y0, plot.y1]);
  const bars: HistogramBar[] = [];
  for (let i = 0; i < n; i++) {
    const c = counts[i]!;
    const b0 = lo + (span * i) / n;
    const b1 = lo + (span * (i + 1)) / n;
    const px0 = x(b0);
    const px1 = x(b1);
    const top = y(tf(c));
    bars.push({ x: px0, y: top, width: Math.max(0.5, px1 - px0 - (n <= 128 ? 1 : 0)), height: plot.y0 - top, count: c, lo: b0, hi: b1 });
  }
  const fmt = x.tickFormat(5);
  const xTicks = x.ticks(5).map((t) => ({ pos: x(t), label: fmt(t) }));
  const yTicks = logY
    ? [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
        .filter((e) => Math.log10(1 + 10 ** e) <= y.domain()[1]! * 1.0001)
        .map((e) => ({ pos: y(Math.log10(1 + 10 ** e)), label: `1e${e}` }))
    : y.ticks(4).map((t) => ({ pos: y(t), label: compactCount(t) }));
  return { width, height, margin, bars, xTicks, yTicks, plot, logY };
}

export function compactCount(n: number): string {
  if (n >= 1e9) return `${+(n / 1e9).toFixed(1)}G`;
  if (n >= 1e6) return `${+(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${+(n / 1e3).toFixed(1)}k`;
  return String(+n.toFixed(2));
}
