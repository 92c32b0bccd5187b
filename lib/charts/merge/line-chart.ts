import { scaleLinear } from 'd3';
import type { Tick } from '../spectra/log-ticks';

/** A few named series y(x) as polylines in pixel space, sharing linear axes. */
export interface LineSeries {
  name: string;
  xs: readonly number[];
  ys: readonly (number | null)[];
  dashed?: boolean;
}

export interface LineChartModel {
  width: number;
  height: number;
  plot: { x0: number; x1: number; y0: number; y1: number };
  series: { name: string; dashed: boolean; path: string; points: { x: number; y: number; vx: number; vy: number }[] }[];
  xTicks: Tick[];
  yTicks: Tick[];
  x(v: number): number;
  y(v: number): number;
}

export function lineChart(series: readonly LineSeries[], width: number, height: number, opts: { yDomain?: [number, number]; xDomain?: [number, number] } = {}): LineChartModel {
  const plot = { x0: 52, x1: width - 12, y0: height - 30, y1: 10 };
  const xsAll = series.flatMap((s) => s.xs);
  const ysAll = series.flatMap((s) => s.ys.filter((v): v is number => v !== null && Number.isFinite(v)));
  const xd = opts.xDomain ?? [Math.min(...xsAll, 0), Math.max(...xsAll, 1)];
  const yd = opts.yDomain ?? (ysAll.length ? [Math.min(...ysAll), Math.max(...ysAll)] : [0, 1]);
  const x = scaleLinear().domain(xd).range([plot.x0, plot.x1]);
  const y = scaleLinear()
    .domain(yd[0] === yd[1] ? [yd[0] - 1, yd[1] + 1] : yd)
    .nice()
    .range([plot.y0, plot.y1]);
  const out = series.map((s) => {
    const points: { x: number; y: number; vx: number; vy: number }[] = [];
    let path = '';
    let pen = false;
    s.xs.forEach((vx, i) => {
      const vy = s.ys[i];
      if (vy === null || vy === undefined || !Number.isFinite(vy)) {
        pen = false;
        return;
      }
      const px = x(vx);
      const py = y(vy);
      path += `${pen ? 'L' : 'M'}${px.toFixed(1)},${py.toFixed(1)}`;
      pen = true;
      points.push({ x: px, y: py, vx, vy });
    });
    return { name: s.name, dashed: s.dashed ?? false, path, points };
  });
  return {
    width,
    height,
    plot,
    series: out,
    xTicks: x.ticks(6).map((v) => ({ pos: x(v), label: String(+v.toFixed(3)) })),
    yTicks: y.ticks(5).map((v) => ({ pos: y(v), label: String(+v.toPrecision(4)) })),
    x: (v) => x(v),
    y: (v) => y(v),
  };
}

/** The loss barrier of a path: max_α L(α) − ½(L(0) + L(1)), and where it peaks. */
export function lossBarrier(alphas: readonly number[], loss: readonly number[]): { barrier: number; at: number } {
  if (alphas.length === 0 || loss.length !== alphas.length) return { barrier: NaN, at: NaN };
  let k = 0;
  for (let i = 1; i < loss.length; i++) if (loss[i]! > loss[k]!) k = i;
  return { barrier: loss[k]! - 0.5 * (loss[0]! + loss[loss.length - 1]!), at: alphas[k]! };
}
