import { scaleLinear } from 'd3';
import type { Tick } from '../spectra/log-ticks';

/** Accuracy (or loss) against achieved sparsity, one line per method. */
export interface CurvePoint {
  series: string;
  sparsity: number;
  value: number;
}

export interface CurveChartModel {
  width: number;
  height: number;
  plot: { x0: number; x1: number; y0: number; y1: number };
  series: { name: string; path: string; points: { x: number; y: number; sparsity: number; value: number }[] }[];
  xTicks: Tick[];
  yTicks: Tick[];
}

export function curveChart(points: readonly CurvePoint[], width: number, height: number, yDomain: [number, number] | null): CurveChartModel {
  const plot = { x0: 48, x1: width - 12, y0: height - 30, y1: 10 };
  const x = scaleLinear().domain([0, 1]).range([plot.x0, plot.x1]);
  const vals = points.map((p) => p.value).filter(Number.isFinite);
  const y = scaleLinear()
    .domain(yDomain ?? [Math.min(0, ...vals), Math.max(1e-9, ...vals)])
    .nice()
    .range([plot.y0, plot.y1]);
  const names = [...new Set(points.map((p) => p.series))];
  const series = names.map((name) => {
    const pts = points
      .filter((p) => p.series === name && Number.isFinite(p.value))
      .sort((a, b) => a.sparsity - b.sparsity)
      .map((p) => ({ x: x(p.sparsity), y: y(p.value), sparsity: p.sparsity, value: p.value }));
    return { name, points: pts, path: pts.map((p, i) => `${i ? 'L' : 'M'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join('') };
  });
  return {
    width,
    height,
    plot,
    series,
    xTicks: x.ticks(10).map((v) => ({ pos: x(v), label: `${Math.round(v * 100)}%` })),
    yTicks: y.ticks(5).map((v) => ({ pos: y(v), label: String(+v.toFixed(3)) })),
  };
}
