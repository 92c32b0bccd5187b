import { scaleLinear, scaleLog } from 'd3';
import { alphaDomain } from './alpha-reference';
import { logTicks, type Tick } from './log-ticks';

/**
 * α against the aspect ratio Q = N/M, raw and FARMS: raw α of random-like matrices drifts with Q
 * (the MP bulk narrows as Q grows), which FARMS' fixed-Q windows remove.
 */

export interface QLayerInput {
  name: string;
  Q: number;
  alpha: number | null;
  farmsAlpha: number | null;
}

export interface QPoint {
  name: string;
  x: number;
  y: number;
  value: number;
  Q: number;
  series: 'raw' | 'farms';
}

export interface AlphaQModel {
  width: number;
  height: number;
  plot: { x0: number; x1: number; y0: number; y1: number };
  points: QPoint[];
  xTicks: Tick[];
  yTicks: Tick[];
  refLines: { y: number; label: string }[];
}

export function alphaQChart(layers: readonly QLayerInput[], width: number, height: number): AlphaQModel {
  const plot = { x0: 44, x1: Math.max(60, width - 12), y0: Math.max(40, height - 34), y1: 10 };
  const qs = layers.map((l) => l.Q).filter((q) => q >= 1 && Number.isFinite(q));
  const qMax = Math.max(2, ...qs);
  const x = scaleLog()
    .domain([0.9, qMax * 1.15])
    .range([plot.x0, plot.x1]);
  const y = scaleLinear().domain(alphaDomain(layers.flatMap((l) => [l.alpha ?? NaN, l.farmsAlpha ?? NaN]))).range([plot.y0, plot.y1]);
  const top = y.domain()[1]!;
  const points: QPoint[] = [];
  for (const l of layers) {
    if (!(l.Q >= 1)) continue;
    if (l.alpha !== null && l.alpha > 0) points.push({ name: l.name, x: x(l.Q), y: y(Math.min(top, l.alpha)), value: l.alpha, Q: l.Q, series: 'raw' });
    if (l.farmsAlpha !== null && l.farmsAlpha > 0) points.push({ name: l.name, x: x(l.Q), y: y(Math.min(top, l.farmsAlpha)), value: l.farmsAlpha, Q: l.Q, series: 'farms' });
  }
  const fmt = x.tickFormat(6, '~g');
  const ticks = x.domain()[1]! / x.domain()[0]! > 30 ? logTicks(x) : x.ticks(6).map((t) => ({ pos: x(t), label: fmt(t) }));
  return {
    width,
    height,
    plot,
    points,
    xTicks: ticks.filter((t) => t.label !== ''),
    yTicks: y.ticks(5).map((t) => ({ pos: y(t), label: String(t) })),
    refLines: [
      { y: y(2), label: 'α = 2' },
      { y: y(6), label: 'α = 6' },
    ],
  };
}
