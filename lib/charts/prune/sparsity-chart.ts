import { scaleBand, scaleLinear } from 'd3';
import type { Tick } from '../spectra/log-ticks';

/**
 * Per-layer sparsity: a bar for the achieved sparsity of each layer (model order), a tick for its
 * target, and — for the α-driven allocations — each layer's α as a dot on a second axis, so the
 * user sees heavy-tailed (low α) layers kept denser.
 */

export interface SparsityInput {
  name: string;
  order: number;
  target: number;
  achieved: number | null;
  alpha: number | null;
}

export interface SparsityChartModel {
  width: number;
  height: number;
  plot: { x0: number; x1: number; y0: number; y1: number };
  bars: { name: string; x: number; width: number; y: number; height: number; targetY: number; achieved: number; target: number; alpha: number | null; alphaY: number | null }[];
  yTicks: Tick[];
  alphaTicks: Tick[];
}

export function sparsityChart(layers: readonly SparsityInput[], width: number, height: number): SparsityChartModel {
  const hasAlpha = layers.some((l) => l.alpha !== null);
  const plot = { x0: 44, x1: width - (hasAlpha ? 40 : 10), y0: height - 24, y1: 10 };
  const sorted = [...layers].sort((a, b) => a.order - b.order);
  const x = scaleBand<string>().domain(sorted.map((l) => l.name)).range([plot.x0, plot.x1]).padding(sorted.length > 60 ? 0.05 : 0.2);
  const y = scaleLinear().domain([0, 1]).range([plot.y0, plot.y1]);
  const alphas = sorted.map((l) => l.alpha).filter((a): a is number => a !== null && Number.isFinite(a));
  const ya = scaleLinear().domain(alphas.length ? [Math.min(...alphas) * 0.9, Math.max(...alphas) * 1.1] : [0, 1]).nice().range([plot.y0, plot.y1]);
  const bars: SparsityChartModel['bars'] = sorted.map((l) => {
    const a = l.achieved ?? 0;
    return {
      name: l.name,
      x: x(l.name)!,
      width: Math.max(0.5, x.bandwidth()),
      y: y(a),
      height: plot.y0 - y(a),
      targetY: y(l.target),
      achieved: a,
      target: l.target,
      alpha: l.alpha,
      alphaY: l.alpha !== null && Number.isFinite(l.alpha) ? ya(l.alpha) : null,
    };
  });
  return {
    width,
    height,
    plot,
    bars,
    yTicks: y.ticks(5).map((v) => ({ pos: y(v), label: `${Math.round(v * 100)}%` })),
    alphaTicks: hasAlpha ? ya.ticks(5).map((v) => ({ pos: ya(v), label: String(v) })) : [],
  };
}

/** A sparsity profile (per output row or per input column) as a polyline path over its index. */
export function profilePath(values: ArrayLike<number>, width: number, height: number): { path: string; plot: { x0: number; x1: number; y0: number; y1: number }; yTicks: Tick[]; mean: number } {
  const plot = { x0: 40, x1: width - 8, y0: height - 20, y1: 8 };
  const n = values.length;
  const x = scaleLinear().domain([0, Math.max(1, n - 1)]).range([plot.x0, plot.x1]);
  const y = scaleLinear().domain([0, 1]).range([plot.y0, plot.y1]);
  // At most one point per pixel column: the block's mean.
  const cols = Math.max(1, Math.floor(plot.x1 - plot.x0));
  const per = Math.max(1, Math.ceil(n / cols));
  let path = '';
  let total = 0;
  for (let i = 0; i < n; i++) total += values[i]!;
  for (let s = 0; s < n; s += per) {
    let sum = 0;
    const e = Math.min(n, s + per);
    for (let i = s; i < e; i++) sum += values[i]!;
    path += `${s ? 'L' : 'M'}${x((s + e - 1) / 2).toFixed(1)},${y(sum / (e - s)).toFixed(1)}`;
  }
  return { path, plot, yTicks: [0, 0.5, 1].map((v) => ({ pos: y(v), label: `${v * 100}%` })), mean: n ? total / n : 0 };
}
